// The Kinesis poller against a real Kinesis (kinesis-mock, the one LocalStack runs) and a real invocation home: the
// batches reach a function run as a local process with our runtime (ProcessInvoker), which appends each event it gets
// to a file. The poller is built here as the MappingRunner builds it, from PollerDeps, with checkpoints in memory
// that outlive a poller (a restart) and a recording on-failure destination (or lambkin's Destinations and a real SQS).
import { DescribeStreamSummaryCommand, SplitShardCommand } from '@aws-sdk/client-kinesis';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Destinations } from '../src/delivery/destinations.ts';
import { type KinesisPoller, kinesisPoller } from '../src/delivery/mappings/kinesis-poller.ts';
import type { KinesisEventRecord } from '../src/delivery/mappings/kinesis-record.ts';
import type { EventSourceMappingRecord, Poller, PollerDeps } from '../src/delivery/mappings/mapping.ts';
import type { InvocationHome } from '../src/invocation/invoke-function.ts';
import { DEFAULT_IDENTITY } from '../src/runtime-api/function-arn.ts';
import { ConcurrencyScheduler } from '../src/scheduling/concurrency-scheduler.ts';
import { makeZip } from '../tools/zip.ts';
import { type Fauxqs, startFauxqsForTest } from './support/fauxqs.ts';
import { KINESIS_ACCOUNT, type LocalKinesis, startLocalKinesis } from './support/kinesis.ts';
import { createNodeFunction, invokeJson, ROLE } from './support/lambda-fixtures.ts';
import { type LocalService, makeDataDir, removeDataDir, startLocalService } from './support/local-service.ts';
import { MemoryCheckpoints } from './support/memory-checkpoints.ts';
import { ProcessInvoker } from './support/process-invoker.ts';
import { eventuallyWithin } from './support/eventually.ts';
import { recordedLines } from './support/recorded-lines.ts';

// Appends each batch to $RECORD. A record whose data is {"poison": true} fails the whole batch (an unhandled error);
// one with {"failOnce": true} is reported failed (ReportBatchItemFailures) the first time it is seen, then succeeds.
const RECORDING_HANDLER = `
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
export const handler = async (event) => {
  if (!event.Records) return 'warm';
  appendFileSync(process.env.RECORD, JSON.stringify(event) + '\\n');
  const items = event.Records.map((record) => {
    let data = null;
    try { data = JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8')); } catch {}
    return { sequenceNumber: record.kinesis.sequenceNumber, data };
  });
  if (items.some((item) => item.data?.poison)) throw new Error('poison record');
  const seenFile = process.env.RECORD + '.seen';
  const seen = existsSync(seenFile) ? readFileSync(seenFile, 'utf8').split('\\n') : [];
  const failing = items.filter((item) => item.data?.failOnce && !seen.includes(item.sequenceNumber));
  for (const item of failing) appendFileSync(seenFile, item.sequenceNumber + '\\n');
  return { batchItemFailures: failing.map((item) => ({ itemIdentifier: item.sequenceNumber })) };
};
`;

let kinesis: LocalKinesis;
let fauxqs: Fauxqs;
let dataDir: string;
let recordDir: string;
let service: LocalService;
let lambda: LambdaClient;
let home: InvocationHome;
const invoker = new ProcessInvoker();
const running: Poller[] = [];

beforeAll(async () => {
  [kinesis, fauxqs] = await Promise.all([startLocalKinesis(), startFauxqsForTest()]);
  vi.stubEnv('AWS_ENDPOINT_URL_KINESIS', kinesis.endpoint);
  vi.stubEnv('AWS_ENDPOINT_URL_SQS', fauxqs.endpoint);
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  dataDir = await makeDataDir('lambkin-kinesis-');
  recordDir = await mkdtemp(join(tmpdir(), 'lambkin-kinesis-records-'));
  service = await startLocalService({ dataDir, invoker });
  lambda = service.lambda;
  home = { store: service.store, identity: DEFAULT_IDENTITY, scheduler: new ConcurrencyScheduler(), invoker };
}, 90_000);

afterEach(async () => {
  await Promise.all(running.splice(0).map((poller) => poller.stop()));
});

afterAll(async () => {
  await Promise.all(running.splice(0).map((poller) => poller.stop()));
  await service?.stop();
  await invoker.close();
  await kinesis?.stop();
  await fauxqs?.stop();
  vi.unstubAllEnvs();
  if (dataDir) await removeDataDir(dataDir);
  if (recordDir) await rm(recordDir, { recursive: true, force: true });
});

/** A recording function, warmed (its one process started) before batches may reach it from several shards at once. */
async function createRecording(name: string): Promise<void> {
  await createNodeFunction(lambda, name, makeZip([{ name: 'index.mjs', content: RECORDING_HANDLER }]), {
    Environment: { Variables: { RECORD: join(recordDir, `${name}.jsonl`) } },
  });
  await invokeJson(lambda, name, {});
}

/** The batches the function received, in order. */
async function batchesOf(name: string): Promise<KinesisEventRecord[][]> {
  return (await recordedLines<{ Records: KinesisEventRecord[] }>(join(recordDir, `${name}.jsonl`))).map((batch) => batch.Records);
}

const sequenceNumbers = (batch: KinesisEventRecord[]) => batch.map((record) => record.kinesis.sequenceNumber);

const eventually = eventuallyWithin(20_000, 100);

function mappingFor(functionName: string, streamArn: string, settings: Partial<EventSourceMappingRecord> = {}): EventSourceMappingRecord {
  return {
    uuid: randomUUID(),
    functionName,
    functionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    eventSourceArn: streamArn,
    source: 'kinesis',
    state: 'Enabled',
    stateTransitionReason: 'User action',
    lastModified: Date.now() / 1000,
    lastProcessingResult: 'No records processed',
    batchSize: 10,
    maximumBatchingWindowInSeconds: 0,
    functionResponseTypes: [],
    startingPosition: 'TRIM_HORIZON',
    parallelizationFactor: 1,
    bisectBatchOnFunctionError: false,
    maximumRetryAttempts: -1,
    maximumRecordAgeInSeconds: -1,
    tumblingWindowInSeconds: 0,
    ...settings,
  };
}

interface Started {
  poller: KinesisPoller;
  reports: string[];
  sent: { arn: string; record: Record<string, unknown> }[];
}

/** Starts a poller as the runner would; `deps` overrides (checkpoints, destinations, matches). */
function startPoller(mapping: EventSourceMappingRecord, deps: Partial<PollerDeps> = {}): Started {
  const reports: string[] = [];
  const sent: Started['sent'] = [];
  const poller = kinesisPoller({
    mapping,
    home,
    checkpoints: new MemoryCheckpoints(),
    destinations: { send: async (arn, record) => void sent.push({ arn, record: record as Record<string, unknown> }) },
    report: (result) => reports.push(result),
    ...deps,
  }) as KinesisPoller;
  poller.start();
  running.push(poller);
  return { poller, reports, sent };
}

const json = (value: unknown) => JSON.stringify(value);
const decoded = (record: KinesisEventRecord) => JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8'));

describe('Kinesis poller', () => {
  it("hands the function AWS's aws:kinesis record, and reports OK", async () => {
    await createRecording('shape');
    const streamArn = await kinesis.createStream('shape', 1);
    const before = Date.now();
    const put = await kinesis.put(streamArn, 'key-1', json({ hello: 'world' }));
    const { reports } = startPoller(mappingFor('shape', streamArn));

    const [batch] = await eventually(
      () => batchesOf('shape'),
      (batches) => expect(batches).toHaveLength(1),
    );
    expect(batch).toEqual([
      {
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey: 'key-1',
          sequenceNumber: put.sequenceNumber,
          data: Buffer.from(json({ hello: 'world' })).toString('base64'),
          approximateArrivalTimestamp: expect.any(Number),
        },
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: `${put.shardId}:${put.sequenceNumber}`,
        eventName: 'aws:kinesis:record',
        invokeIdentityArn: ROLE,
        awsRegion: 'us-east-1',
        eventSourceARN: streamArn,
      },
    ]);
    const arrival = batch![0]!.kinesis.approximateArrivalTimestamp;
    expect(arrival * 1000).toBeGreaterThanOrEqual(before - 1000);
    expect(arrival * 1000).toBeLessThanOrEqual(Date.now());
    await eventually(
      () => reports,
      (seen) => expect(seen).toContain('OK'),
    );
  });

  it('reads both shards of a stream, each in order, in batches of at most BatchSize', async () => {
    await createRecording('two-shards');
    const streamArn = await kinesis.createStream('two-shards', 2);
    const { poller } = startPoller(mappingFor('two-shards', streamArn, { batchSize: 3 }));
    const puts: { shardId: string; sequenceNumber: string }[] = [];
    for (let n = 0; n < 24; n++) puts.push(await kinesis.put(streamArn, `key-${n % 6}`, json({ n })));
    expect(new Set(puts.map((put) => put.shardId)).size).toBe(2);

    const batches = await eventually(
      () => batchesOf('two-shards'),
      (seen) => expect(seen.flat()).toHaveLength(24),
    );
    for (const batch of batches) expect(batch.length).toBeLessThanOrEqual(3);
    for (const shardId of new Set(puts.map((put) => put.shardId))) {
      const delivered = batches.flat().filter((record) => record.eventID.startsWith(`${shardId}:`));
      expect(sequenceNumbers(delivered)).toEqual(puts.filter((put) => put.shardId === shardId).map((put) => put.sequenceNumber));
    }
    expect(poller.stats()).toMatchObject({ polled: 24, delivered: 24, failed: 0 });
  });

  it('starts at the oldest record with TRIM_HORIZON and at the next one written with LATEST', async () => {
    await createRecording('from-oldest');
    await createRecording('from-latest');
    const streamArn = await kinesis.createStream('positions', 1);
    await kinesis.put(streamArn, 'k', json({ n: 'before' }));
    startPoller(mappingFor('from-oldest', streamArn, { startingPosition: 'TRIM_HORIZON' }));
    const { poller: latest } = startPoller(mappingFor('from-latest', streamArn, { startingPosition: 'LATEST' }));
    await eventually(
      () => latest.readingShards(),
      (shards) => expect(shards).toHaveLength(1),
    );
    // The reader has its iterator (a local round trip) well before this.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await kinesis.put(streamArn, 'k', json({ n: 'after' }));

    await eventually(
      () => batchesOf('from-oldest'),
      (batches) => expect(batches.flat().map(decoded)).toEqual([{ n: 'before' }, { n: 'after' }]),
    );
    await eventually(
      () => batchesOf('from-latest'),
      (batches) => expect(batches.flat().map(decoded)).toEqual([{ n: 'after' }]),
    );
  });

  it('retries a batch from the lowest sequence number the function reports failed (ReportBatchItemFailures)', async () => {
    await createRecording('partial');
    const streamArn = await kinesis.createStream('partial', 1);
    const puts = [];
    for (let n = 0; n < 5; n++) puts.push(await kinesis.put(streamArn, 'k', json(n === 2 ? { n, failOnce: true } : { n })));
    const { sent } = startPoller(mappingFor('partial', streamArn, { functionResponseTypes: ['ReportBatchItemFailures'], maximumRetryAttempts: 3 }));

    const batches = await eventually(
      () => batchesOf('partial'),
      (seen) => expect(seen).toHaveLength(2),
    );
    const all = puts.map((put) => put.sequenceNumber);
    expect(batches.map(sequenceNumbers)).toEqual([all, all.slice(2)]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await batchesOf('partial')).toHaveLength(2);
    expect(sent).toEqual([]);
  });

  it('bisects a failing batch down to the poison record, sends it alone to the on-failure destination, and runs the rest', async () => {
    await createRecording('bisect');
    const streamArn = await kinesis.createStream('bisect', 1);
    const puts = [];
    for (let n = 0; n < 4; n++) puts.push(await kinesis.put(streamArn, 'k', json(n === 2 ? { n, poison: true } : { n })));
    const onFailure = 'arn:aws:sqs:us-east-1:123456789012:bisect-failures';
    const { sent, poller } = startPoller(
      mappingFor('bisect', streamArn, { bisectBatchOnFunctionError: true, maximumRetryAttempts: 0, onFailureDestination: onFailure }),
    );

    const batches = await eventually(
      () => batchesOf('bisect'),
      (seen) => expect(seen).toHaveLength(5),
    );
    const [s0, s1, s2, s3] = puts.map((put) => put.sequenceNumber);
    expect(batches.map(sequenceNumbers)).toEqual([[s0, s1, s2, s3], [s0, s1], [s2, s3], [s2], [s3]]);
    await eventually(
      () => sent,
      (seen) => expect(seen).toHaveLength(1),
    );
    expect(sent[0]!.arn).toBe(onFailure);
    expect(sent[0]!.record).toMatchObject({
      requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 1 },
      KinesisBatchInfo: { shardId: puts[2]!.shardId, startSequenceNumber: s2, endSequenceNumber: s2, batchSize: 1, streamArn },
    });
    expect(poller.stats()).toMatchObject({ delivered: 3 });
  });

  it('gives up after MaximumRetryAttempts and sends the on-failure record to the recorded destination, then moves on', async () => {
    await createRecording('exhausted');
    const streamArn = await kinesis.createStream('exhausted', 1);
    const first = await kinesis.put(streamArn, 'k', json({ n: 0, poison: true }));
    const second = await kinesis.put(streamArn, 'k', json({ n: 1 }));
    const onFailure = 'arn:aws:sqs:us-east-1:123456789012:exhausted-failures';
    const mapping = mappingFor('exhausted', streamArn, { maximumRetryAttempts: 2, onFailureDestination: onFailure });
    const { sent, reports } = startPoller(mapping);

    await eventually(
      () => sent,
      (seen) => expect(seen).toHaveLength(1),
    );
    const batches = await batchesOf('exhausted');
    expect(batches.map(sequenceNumbers)).toEqual(Array(3).fill([first.sequenceNumber, second.sequenceNumber]));
    const arrivals = batches[0]!.map((record) => new Date(record.kinesis.approximateArrivalTimestamp * 1000).toISOString());
    expect(sent[0]).toEqual({
      arn: onFailure,
      record: {
        requestContext: { requestId: expect.any(String), functionArn: mapping.functionArn, condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3 },
        responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
        version: '1.0',
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        KinesisBatchInfo: {
          shardId: first.shardId,
          startSequenceNumber: first.sequenceNumber,
          endSequenceNumber: second.sequenceNumber,
          approximateArrivalOfFirstRecord: arrivals[0],
          approximateArrivalOfLastRecord: arrivals[1],
          batchSize: 2,
          streamArn,
        },
      },
    });
    expect(reports).toContain('PROBLEM: Function call failed');

    const third = await kinesis.put(streamArn, 'k', json({ n: 2 }));
    await eventually(
      () => batchesOf('exhausted'),
      (seen) => expect(seen.at(-1)?.map((record) => record.kinesis.sequenceNumber)).toEqual([third.sequenceNumber]),
    );
    await eventually(
      () => reports,
      (seen) => expect(seen.at(-1)).toBe('OK'),
    );
  });

  it('sends the on-failure record to a real SQS queue through Destinations', async () => {
    await createRecording('to-sqs');
    const streamArn = await kinesis.createStream('to-sqs', 1);
    const put = await kinesis.put(streamArn, 'k', json({ poison: true }));
    const queue = fauxqs.createQueue('kinesis-failures');
    const destinations = new Destinations();
    try {
      startPoller(mappingFor('to-sqs', streamArn, { maximumRetryAttempts: 0, onFailureDestination: queue.queueArn }), { destinations });
      const message = await fauxqs.receiveOne(queue.queueUrl, 15);
      expect(JSON.parse(message.Body ?? '')).toMatchObject({
        requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 1 },
        KinesisBatchInfo: { shardId: put.shardId, startSequenceNumber: put.sequenceNumber, endSequenceNumber: put.sequenceNumber, batchSize: 1, streamArn },
      });
    } finally {
      await Promise.all(running.splice(0).map((poller) => poller.stop()));
      destinations.close();
    }
  });

  it('resumes after a restart from its checkpoints: nothing lost, nothing skipped, at most one batch run twice', async () => {
    await createRecording('restart');
    const streamArn = await kinesis.createStream('restart', 2);
    const checkpoints = new MemoryCheckpoints();
    const mapping = mappingFor('restart', streamArn, { batchSize: 2 });
    const puts: { shardId: string; sequenceNumber: string }[] = [];
    for (let n = 0; n < 12; n++) puts.push(await kinesis.put(streamArn, `key-${n % 4}`, json({ n })));
    const first = startPoller(mapping, { checkpoints });
    await eventually(
      () => batchesOf('restart'),
      (seen) => expect(seen.flat().length).toBeGreaterThanOrEqual(4),
    );
    await first.poller.stop();
    running.splice(running.indexOf(first.poller), 1);
    const deliveredBefore = (await batchesOf('restart')).flat().length;
    for (let n = 12; n < 20; n++) puts.push(await kinesis.put(streamArn, `key-${n % 4}`, json({ n })));

    startPoller(mapping, { checkpoints });
    const batches = await eventually(
      () => batchesOf('restart'),
      (seen) => expect(new Set(seen.flat().map((record) => record.kinesis.sequenceNumber)).size).toBe(20),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    const delivered = (await batchesOf('restart')).flat();
    // Each shard may run its batch in flight at the stop once more: two shards, batches of 2.
    expect(delivered.length - 20).toBeLessThanOrEqual(4);
    expect(delivered.length).toBeGreaterThanOrEqual(deliveredBefore);
    for (const shardId of new Set(puts.map((put) => put.shardId))) {
      const inShard = (sequenceNumber: string) => puts.some((put) => put.shardId === shardId && put.sequenceNumber === sequenceNumber);
      const seen = sequenceNumbers(batches.flat()).filter(inShard);
      const firstSeen = seen.filter((sequenceNumber, i) => seen.indexOf(sequenceNumber) === i);
      expect(firstSeen).toEqual(puts.filter((put) => put.shardId === shardId).map((put) => put.sequenceNumber));
      const last = puts.filter((put) => put.shardId === shardId).at(-1)!;
      expect(checkpoints.get(mapping.uuid, shardId)).toBe(last.sequenceNumber);
    }
  });

  it('runs only the records that match FilterCriteria, and checkpoints past those that do not', async () => {
    await createRecording('filtered');
    const streamArn = await kinesis.createStream('filtered', 1);
    const checkpoints = new MemoryCheckpoints();
    const mapping = mappingFor('filtered', streamArn);
    const filterable: unknown[] = [];
    const matches = (record: unknown) => {
      filterable.push(record);
      return (record as { kinesis: { data: { keep?: boolean } } }).kinesis.data?.keep === true;
    };
    await kinesis.put(streamArn, 'k', json({ n: 1, keep: true }));
    await kinesis.put(streamArn, 'k', json({ n: 2, keep: false }));
    await kinesis.put(streamArn, 'k', 'not json');
    await kinesis.put(streamArn, 'k', json({ n: 4, keep: true }));
    const last = await kinesis.put(streamArn, 'k', json({ n: 5 }));
    startPoller(mapping, { checkpoints, matches });

    await eventually(
      () => checkpoints.get(mapping.uuid, last.shardId),
      (checkpoint) => expect(checkpoint).toBe(last.sequenceNumber),
    );
    const batches = await batchesOf('filtered');
    expect(batches.flat().map(decoded)).toEqual([
      { n: 1, keep: true },
      { n: 4, keep: true },
    ]);
    // A pattern sees the data decoded, parsed when it is JSON.
    expect(filterable[0]).toMatchObject({ kinesis: { data: { n: 1, keep: true }, partitionKey: 'k' }, eventSource: 'aws:kinesis' });
    expect((filterable[2] as KinesisEventRecord).kinesis.data).toBe(Buffer.from('not json').toString('base64'));
  });

  it('reads a closed parent shard to its end before its children after a split, so each key stays in order', async () => {
    await createRecording('reshard');
    const streamArn = await kinesis.createStream('reshard', 1);
    const puts: { shardId: string; sequenceNumber: string; key: string }[] = [];
    const write = async (n: number) => puts.push({ ...(await kinesis.put(streamArn, `key-${n % 5}`, json({ n }))), key: `key-${n % 5}` });
    for (let n = 0; n < 5; n++) await write(n);
    const parent = puts[0]!.shardId;
    await kinesis.kinesis.send(new SplitShardCommand({ StreamARN: streamArn, ShardToSplit: parent, NewStartingHashKey: (2n ** 127n).toString() }));
    await eventually(
      async () => (await kinesis.kinesis.send(new DescribeStreamSummaryCommand({ StreamARN: streamArn }))).StreamDescriptionSummary?.StreamStatus,
      (status) => expect(status).toBe('ACTIVE'),
    );
    for (let n = 5; n < 20; n++) await write(n);
    expect(new Set(puts.slice(5).map((put) => put.shardId)).size).toBe(2);
    const checkpoints = new MemoryCheckpoints();
    const mapping = mappingFor('reshard', streamArn, { batchSize: 3 });
    startPoller(mapping, { checkpoints });

    const delivered = (
      await eventually(
        () => batchesOf('reshard'),
        (seen) => expect(seen.flat()).toHaveLength(20),
      )
    ).flat();
    const lastOfParent = delivered.findLastIndex((record) => record.eventID.startsWith(`${parent}:`));
    const firstOfChildren = delivered.findIndex((record) => !record.eventID.startsWith(`${parent}:`));
    expect(lastOfParent).toBe(4);
    expect(firstOfChildren).toBe(5);
    for (const key of new Set(puts.map((put) => put.key))) {
      expect(sequenceNumbers(delivered.filter((record) => record.kinesis.partitionKey === key))).toEqual(
        puts.filter((put) => put.key === key).map((put) => put.sequenceNumber),
      );
    }
    expect(checkpoints.isFinished(mapping.uuid, parent)).toBe(true);
  });

  it('keeps each partition key in order with ParallelizationFactor 3', async () => {
    await createRecording('parallel');
    const streamArn = await kinesis.createStream('parallel', 1);
    const puts: { sequenceNumber: string; key: string }[] = [];
    for (let n = 0; n < 30; n++) puts.push({ ...(await kinesis.put(streamArn, `key-${n % 6}`, json({ n }))), key: `key-${n % 6}` });
    const { poller } = startPoller(mappingFor('parallel', streamArn, { batchSize: 2, parallelizationFactor: 3 }));

    const batches = await eventually(
      () => batchesOf('parallel'),
      (seen) => expect(seen.flat()).toHaveLength(30),
    );
    for (const batch of batches) expect(batch.length).toBeLessThanOrEqual(2);
    for (const key of new Set(puts.map((put) => put.key))) {
      expect(sequenceNumbers(batches.flat().filter((record) => record.kinesis.partitionKey === key))).toEqual(
        puts.filter((put) => put.key === key).map((put) => put.sequenceNumber),
      );
    }
    expect(poller.stats()).toMatchObject({ polled: 30, delivered: 30, lag: 0 });
  });

  it('starts AT_TIMESTAMP at the first record written from then on', async () => {
    await createRecording('at-timestamp');
    const streamArn = await kinesis.createStream('at-timestamp', 1);
    await kinesis.put(streamArn, 'k', json({ n: 'early' }));
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const from = Date.now() / 1000;
    await kinesis.put(streamArn, 'k', json({ n: 'late' }));
    startPoller(mappingFor('at-timestamp', streamArn, { startingPosition: 'AT_TIMESTAMP', startingPositionTimestamp: from }));

    await eventually(
      () => batchesOf('at-timestamp'),
      (batches) => expect(batches.flat().map(decoded)).toEqual([{ n: 'late' }]),
    );
  });

  it('gives a failing batch up as RecordAgeExceeded once its oldest record is older than MaximumRecordAgeInSeconds', async () => {
    await createRecording('too-old');
    const streamArn = await kinesis.createStream('too-old', 1);
    const put = await kinesis.put(streamArn, 'k', json({ poison: true }));
    let skew = 0;
    const onFailure = 'arn:aws:sqs:us-east-1:123456789012:too-old-failures';
    const { sent } = startPoller(mappingFor('too-old', streamArn, { maximumRecordAgeInSeconds: 60, onFailureDestination: onFailure }), {
      now: () => Date.now() + skew,
    });
    await eventually(
      () => batchesOf('too-old'),
      (batches) => expect(batches.length).toBeGreaterThanOrEqual(2),
    );
    skew = 61_000;
    await eventually(
      () => sent,
      (seen) => expect(seen).toHaveLength(1),
    );
    expect(sent[0]!.record).toMatchObject({
      requestContext: { condition: 'RecordAgeExceeded', approximateInvokeCount: (await batchesOf('too-old')).length },
      KinesisBatchInfo: { startSequenceNumber: put.sequenceNumber, batchSize: 1 },
    });
  });

  it('reports PROBLEM while the stream cannot be read, and starts once it can', async () => {
    await createRecording('late-stream');
    const streamArn = `arn:aws:kinesis:us-east-1:${KINESIS_ACCOUNT}:stream/late-stream`;
    const { reports } = startPoller(mappingFor('late-stream', streamArn));
    await eventually(
      () => reports,
      (seen) =>
        expect(seen[0]).toMatch(/^PROBLEM: Cannot access stream arn:aws:kinesis:us-east-1:000000000000:stream\/late-stream\. ResourceNotFoundException/),
    );
    expect(await kinesis.createStream('late-stream', 1)).toBe(streamArn);
    await kinesis.put(streamArn, 'k', json({ n: 1 }));
    await eventually(
      () => batchesOf('late-stream'),
      (batches) => expect(batches.flat().map(decoded)).toEqual([{ n: 1 }]),
    );
    expect(reports.at(-1)).toBe('OK');
  });

  it('retries a throttled batch with backoff until the function can run it, without counting a retry', async () => {
    await createRecording('throttled');
    const streamArn = await kinesis.createStream('throttled', 1);
    const put = await kinesis.put(streamArn, 'k', json({ n: 1 }));
    home.scheduler.setReserved('throttled', 0);
    try {
      const { reports, sent, poller } = startPoller(
        mappingFor('throttled', streamArn, { maximumRetryAttempts: 0, onFailureDestination: 'arn:aws:sqs:us-east-1:123456789012:throttled-failures' }),
      );
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(await batchesOf('throttled')).toEqual([]);
      expect(poller.stats()).toMatchObject({ polled: 1, delivered: 0, lag: 1 });
      home.scheduler.setReserved('throttled', undefined);
      await eventually(
        () => batchesOf('throttled'),
        (batches) => expect(batches.map(sequenceNumbers)).toEqual([[put.sequenceNumber]]),
      );
      expect(sent).toEqual([]);
      expect(reports).toEqual(['OK']);
    } finally {
      home.scheduler.setReserved('throttled', undefined);
    }
  });
});
