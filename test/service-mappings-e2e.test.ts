// Event source mappings end to end: made through the real @aws-sdk/client-lambda (maxAttempts 1) on an in-process
// service, running real functions (our runtime as local processes, several at once) against real brokers: SQS
// (fauxqs, in this process) and Kinesis (kinesis-local, a child process). What a user would check: what reached the
// function and how often, what is left in the queues, what went to the dead-letter queue and the on-failure
// destination, what survives a restart, and what `lambkin status` (GET /lambkin/status) and /metrics say.
import { CreateEventSourceMappingCommand, type CreateEventSourceMappingCommandInput, UpdateEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Destinations } from '../src/delivery/destinations.ts';
import { ServiceMetrics } from '../src/service/metrics.ts';
import { STATUS_PATH, type ServiceStatus } from '../src/service/status.ts';
import { makeZip } from '../tools/zip.ts';
import { type Fauxqs, startFauxqsForTest } from './support/fauxqs.ts';
import { type LocalKinesis, startLocalKinesis } from './support/kinesis.ts';
import { createActiveFunction, ROLE } from './support/lambda-fixtures.ts';
import { useLocalService } from './support/local-service.ts';
import { ConcurrentProcessInvoker } from './support/concurrent-process-invoker.ts';
import { recordedLines } from './support/recorded-lines.ts';

// Each invoke appends {start, end, records} to $RECORD: records as the function saw them (SQS: messageId and body;
// Kinesis: sequence number, shard and decoded data). SQS MODE `partial` reports the messages whose body contains
// "fail" in batchItemFailures; Kinesis MODE `poison` throws when a batch holds a record whose data contains "poison".
// SLEEP_MS: how long each batch takes.
const HANDLER = `
import { appendFileSync } from 'node:fs';
export const handler = async (event) => {
  const start = Date.now();
  if (process.env.SLEEP_MS) await new Promise((resolve) => setTimeout(resolve, Number(process.env.SLEEP_MS)));
  const records = event.Records.map((r) => r.kinesis
    ? { id: r.kinesis.sequenceNumber, shard: r.eventID.split(':')[0], body: Buffer.from(r.kinesis.data, 'base64').toString('utf8') }
    : { id: r.messageId, body: r.body });
  appendFileSync(process.env.RECORD, JSON.stringify({ start, end: Date.now(), records }) + '\\n');
  if (process.env.MODE === 'partial') {
    return { batchItemFailures: event.Records.filter((r) => r.body.includes('fail')).map((r) => ({ itemIdentifier: r.messageId })) };
  }
  if (process.env.MODE === 'poison' && records.some((r) => r.body.includes('poison'))) throw new Error('poison record');
  return 'ok';
};
`;

interface Seen {
  id: string;
  body: string;
  shard?: string;
}
type Invocation = { start: number; end: number; records: Seen[] };

let fauxqs: Fauxqs;
let kinesis: LocalKinesis;
let recordDir: string;
const invoker = new ConcurrentProcessInvoker();
// On-failure records go out through SQS as serve sends them; no Lambda destinations here.
const destinations = new Destinations();
let metrics: ServiceMetrics;

beforeAll(async () => {
  [fauxqs, kinesis] = await Promise.all([startFauxqsForTest(), startLocalKinesis()]);
  vi.stubEnv('AWS_ENDPOINT_URL_SQS', fauxqs.endpoint);
  vi.stubEnv('AWS_ENDPOINT_URL_KINESIS', kinesis.endpoint);
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  recordDir = await mkdtemp(join(tmpdir(), 'lambkin-esm-e2e-records-'));
}, 90_000);

afterAll(async () => {
  await invoker.close();
  destinations.close();
  await Promise.all([fauxqs?.stop(), kinesis?.stop()]);
  vi.unstubAllEnvs();
  await rm(recordDir, { recursive: true, force: true });
});

const local = useLocalService('lambkin-esm-e2e-', () => {
  metrics = new ServiceMetrics({
    pool: () => ({ memoryBudgetMb: 0, memoryInUseMb: 0, environments: [], provisioned: [] }),
    scheduler: () => local.service.server.scheduler.snapshot(),
    mappings: () => local.service.server.mappingStatus(),
  });
  return { invoker, metrics, mappings: { destinations } };
});

// Registered after useLocalService's: vitest runs after-hooks in reverse, so this runs first, while the service is up.
afterEach(async () => {
  await local.service.server.mappingsSettled();
});

/** A function `name` running HANDLER in `mode`; its invokes land in its own file. */
async function createFunction(name: string, mode: string, env: Record<string, string> = {}, timeout = 30): Promise<void> {
  await createActiveFunction(local.lambda, {
    FunctionName: name,
    Role: ROLE,
    Runtime: 'nodejs24.x',
    Handler: 'index.handler',
    Timeout: timeout,
    Code: { ZipFile: makeZip([{ name: 'index.mjs', content: HANDLER }]) },
    Environment: { Variables: { RECORD: join(recordDir, `${name}.jsonl`), MODE: mode, ...env } },
  });
}

async function invocationsOf(name: string): Promise<Invocation[]> {
  return recordedLines(join(recordDir, `${name}.jsonl`));
}

const bodiesOf = (invocations: Invocation[]) => invocations.flatMap((invocation) => invocation.records.map((record) => record.body));

async function createMapping(input: Omit<CreateEventSourceMappingCommandInput, 'FunctionName'> & { FunctionName: string }): Promise<string> {
  const created = await local.lambda.send(new CreateEventSourceMappingCommand(input));
  await local.service.server.mappingsSettled();
  return created.UUID!;
}

async function setEnabled(uuid: string, enabled: boolean): Promise<void> {
  await local.lambda.send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: enabled }));
  await local.service.server.mappingsSettled();
}

function createQueue(name: string, attributes: Record<string, string> = {}) {
  return fauxqs.server.createQueue(name, { attributes: { VisibilityTimeout: '30', ...attributes } });
}

async function send(queueUrl: string, bodies: string[]): Promise<void> {
  const batches = [];
  for (let start = 0; start < bodies.length; start += 10) {
    batches.push(bodies.slice(start, start + 10).map((body, index) => ({ Id: String(index), MessageBody: body })));
  }
  // A few batches at a time: 10,000 messages go in within seconds.
  for (let i = 0; i < batches.length; i += 20) {
    await Promise.all(
      batches.slice(i, i + 20).map(async (entries) => {
        const answer = await fauxqs.sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
        expect(answer.Failed ?? []).toEqual([]);
      }),
    );
  }
}

async function messagesIn(queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const answer = await fauxqs.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return { visible: Number(answer.Attributes?.ApproximateNumberOfMessages), inFlight: Number(answer.Attributes?.ApproximateNumberOfMessagesNotVisible) };
}

async function status(): Promise<ServiceStatus> {
  const response = await fetch(new URL(STATUS_PATH, local.service.endpoint));
  expect(response.status).toBe(200);
  return (await response.json()) as ServiceStatus;
}

const waitFor = <T>(check: () => Promise<T>, timeout = 30_000) => vi.waitFor(check, { timeout, interval: 100 });

describe('SQS mappings end to end', () => {
  it('partial batch failures: the successes are deleted at once, the reported failures retried until the redrive policy moves them to the DLQ', async () => {
    // A short visibility timeout brings failures back soon; the function's timeout fits in it, as AWS requires.
    await createFunction('partial', 'partial', {}, 3);
    const dlq = createQueue('partial-dlq');
    const queue = createQueue('partial', { VisibilityTimeout: '3', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.queueArn, maxReceiveCount: 2 }) });
    const bodies = Array.from({ length: 20 }, (_, n) => (n % 7 === 3 ? `fail-${n}` : `ok-${n}`));
    const failing = bodies.filter((body) => body.startsWith('fail'));
    await send(queue.queueUrl, bodies);
    await createMapping({ FunctionName: 'partial', EventSourceArn: queue.queueArn, BatchSize: 10, FunctionResponseTypes: ['ReportBatchItemFailures'] });

    await waitFor(async () => expect(await messagesIn(dlq.queueUrl)).toEqual({ visible: failing.length, inFlight: 0 }));
    const dead = await fauxqs.sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq.queueUrl, MaxNumberOfMessages: 10 }));
    expect((dead.Messages ?? []).map((m) => m.Body).sort()).toEqual([...failing].sort());
    expect(await messagesIn(queue.queueUrl)).toEqual({ visible: 0, inFlight: 0 });

    const seen = bodiesOf(await invocationsOf('partial'));
    const times = (body: string) => seen.filter((b) => b === body).length;
    // Each success ran once (deleted with its batch's answer); each failure once per receive (maxReceiveCount 2).
    for (const body of bodies) expect([body, times(body)]).toEqual([body, body.startsWith('fail') ? 2 : 1]);
    const [mapping] = local.service.server.mappingStatus();
    expect(mapping).toMatchObject({ delivered: bodies.length - failing.length, failed: failing.length * 2 });
  }, 60_000);

  it('filters through the API: messages that do not match are deleted and never reach the function', async () => {
    await createFunction('filtered', 'ok');
    const queue = createQueue('filtered');
    await createMapping({
      FunctionName: 'filtered',
      EventSourceArn: queue.queueArn,
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ body: { kind: ['order'] } }) }] },
    });
    const bodies = [
      JSON.stringify({ kind: 'order', n: 1 }),
      JSON.stringify({ kind: 'refund', n: 2 }),
      'plain text kind order',
      JSON.stringify({ kind: 'order', n: 4 }),
      JSON.stringify({ n: 5 }),
    ];
    await send(queue.queueUrl, bodies);
    await waitFor(async () => expect(await messagesIn(queue.queueUrl)).toEqual({ visible: 0, inFlight: 0 }));
    await waitFor(async () => expect(bodiesOf(await invocationsOf('filtered')).sort()).toEqual([bodies[0], bodies[3]].sort()));
    // Nothing else comes: the dropped ones are gone from the queue, not waiting to come back.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(bodiesOf(await invocationsOf('filtered'))).toHaveLength(2);
    expect(await messagesIn(queue.queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  }, 60_000);

  it('disabled: nothing more is delivered and the messages stay in the queue; enabled again: they are delivered', async () => {
    await createFunction('toggled', 'ok', {}, 2);
    const queue = createQueue('toggled', { VisibilityTimeout: '2' });
    const uuid = await createMapping({ FunctionName: 'toggled', EventSourceArn: queue.queueArn });
    await send(queue.queueUrl, ['before']);
    await waitFor(async () => expect(bodiesOf(await invocationsOf('toggled'))).toEqual(['before']));

    await setEnabled(uuid, false);
    await send(queue.queueUrl, ['while-1', 'while-2']);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(bodiesOf(await invocationsOf('toggled'))).toEqual(['before']);
    // Still in the queue. (A long poll the disabling cut short may still have been handed them by fauxqs, which
    // does not see the receive's connection close: then they are in flight until the visibility timeout.)
    const left = await messagesIn(queue.queueUrl);
    expect(left.visible + left.inFlight).toBe(2);

    await setEnabled(uuid, true);
    await waitFor(async () => expect(bodiesOf(await invocationsOf('toggled')).sort()).toEqual(['before', 'while-1', 'while-2']));
    await waitFor(async () => expect(await messagesIn(queue.queueUrl)).toEqual({ visible: 0, inFlight: 0 }));
  }, 60_000);

  it('scales out under a 10,000-message backlog: several batches at once, every message delivered, exactly once, none lost', async () => {
    const total = 10_000;
    await createFunction('backlog', 'ok', { SLEEP_MS: '20' });
    const queue = createQueue('backlog', { VisibilityTimeout: '60' });
    const bodies = Array.from({ length: total }, (_, n) => `m-${n}`);
    const sendStarted = Date.now();
    await send(queue.queueUrl, bodies);
    const sendMs = Date.now() - sendStarted;
    const started = Date.now();
    await createMapping({ FunctionName: 'backlog', EventSourceArn: queue.queueArn, BatchSize: 10 });

    await waitFor(async () => expect(await messagesIn(queue.queueUrl)).toEqual({ visible: 0, inFlight: 0 }), 50_000);
    const drainMs = Date.now() - started;
    const invocations = await invocationsOf('backlog');
    const ids = invocations.flatMap((invocation) => invocation.records.map((record) => record.id));
    expect(new Set(ids).size).toBe(total);
    expect(ids).toHaveLength(total); // none twice: visibility 60 s outlasts every batch
    expect(new Set(bodiesOf(invocations))).toEqual(new Set(bodies));

    // The most batches running at one moment, from the functions' own clocks.
    const edges = invocations.flatMap((i) => [
      [i.start, 1],
      [i.end, -1],
    ]);
    edges.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
    let running = 0;
    let most = 0;
    for (const [, step] of edges) most = Math.max(most, (running += step!));
    expect(most).toBeGreaterThan(2);
    console.info(`10,000 messages: sent in ${sendMs} ms, drained in ${drainMs} ms, up to ${most} batches at once`);
  }, 90_000);
});

describe('Kinesis mappings end to end', () => {
  it('bisects down to the poison record, sends it to the on-failure queue once retries are exhausted, and delivers the rest in order', async () => {
    await createFunction('bisect', 'poison');
    const streamArn = await kinesis.createStream('e2e-bisect', 1);
    const onFailure = createQueue('bisect-failures');
    const puts = [];
    for (let n = 0; n < 10; n++) puts.push(await kinesis.put(streamArn, 'k', n === 6 ? `r${n}-poison` : `r${n}`));
    await createMapping({
      FunctionName: 'bisect',
      EventSourceArn: streamArn,
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 10,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 1,
      DestinationConfig: { OnFailure: { Destination: onFailure.queueArn } },
    });

    const message = await fauxqs.receiveOne(onFailure.queueUrl, 20);
    const poison = puts[6]!;
    expect(JSON.parse(message.Body!)).toMatchObject({
      requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 2 },
      responseContext: { functionError: 'Unhandled' },
      KinesisBatchInfo: {
        shardId: poison.shardId,
        startSequenceNumber: poison.sequenceNumber,
        endSequenceNumber: poison.sequenceNumber,
        batchSize: 1,
        streamArn,
      },
    });
    const others = puts.filter((_, n) => n !== 6).map((put) => put.sequenceNumber);
    await waitFor(async () => {
      const succeeded = (await invocationsOf('bisect')).filter((i) => !i.records.some((r) => r.body.includes('poison')));
      expect(succeeded.flatMap((i) => i.records.map((r) => r.id))).toEqual(others);
    });
    // The poison record alone, tried twice (MaximumRetryAttempts 1), and never again.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const alone = (await invocationsOf('bisect')).filter((i) => i.records.length === 1 && i.records[0]!.body.includes('poison'));
    expect(alone).toHaveLength(2);
    expect(await messagesIn(onFailure.queueUrl)).toEqual({ visible: 0, inFlight: 1 }); // the one received above, nothing more
  }, 60_000);

  it('a restart mid-stream loses and skips nothing, and runs at most one batch per shard again', async () => {
    const batchSize = 5;
    await createFunction('restarted', 'ok', { SLEEP_MS: '150' });
    const streamArn = await kinesis.createStream('e2e-restart', 2);
    const puts: { shardId: string; sequenceNumber: string }[] = [];
    const putMany = async (from: number, count: number) => {
      for (let n = from; n < from + count; n++) puts.push(await kinesis.put(streamArn, `key-${n % 8}`, `r${n}`));
    };
    await putMany(0, 80);
    await createMapping({ FunctionName: 'restarted', EventSourceArn: streamArn, StartingPosition: 'TRIM_HORIZON', BatchSize: batchSize });
    await waitFor(async () => expect(bodiesOf(await invocationsOf('restarted')).length).toBeGreaterThanOrEqual(20));
    // Mid-stream: well short of the 80 (stopping lets at most the batches in flight, one per shard, end).
    expect(bodiesOf(await invocationsOf('restarted')).length).toBeLessThanOrEqual(80 - 4 * batchSize);
    await local.restart();
    await putMany(80, 20);

    const expected = new Map<string, string[]>();
    for (const put of puts) expected.set(put.shardId, [...(expected.get(put.shardId) ?? []), put.sequenceNumber]);
    expect(expected.size).toBe(2);
    await waitFor(async () => {
      const ids = new Set((await invocationsOf('restarted')).flatMap((i) => i.records.map((r) => r.id)));
      expect(puts.filter((put) => !ids.has(put.sequenceNumber))).toEqual([]);
    });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const invocations = await invocationsOf('restarted');
    for (const [shardId, sequence] of expected) {
      const delivered = invocations.flatMap((i) => i.records.filter((r) => r.shard === shardId).map((r) => r.id));
      // In order, each record once, but for one batch run again after the restart: the delivered ids are the
      // shard's sequence with at most one stretch of at most BatchSize records repeated.
      const firstRepeat = delivered.findIndex((id, index) => delivered.indexOf(id) !== index);
      if (firstRepeat === -1) {
        expect(delivered).toEqual(sequence);
        continue;
      }
      const resumedAt = sequence.indexOf(delivered[firstRepeat]!);
      const repeated = firstRepeat - resumedAt;
      expect(repeated).toBeGreaterThan(0);
      expect(repeated).toBeLessThanOrEqual(batchSize);
      expect(delivered).toEqual([...sequence.slice(0, firstRepeat), ...sequence.slice(resumedAt)]);
    }
  }, 90_000);
});

describe('lambkin status and /metrics', () => {
  it('show the mapping with its lag behind the queue while it drains, then none, and its last result', async () => {
    await createFunction('watched', 'ok', { SLEEP_MS: '150' });
    const queue = createQueue('watched');
    await send(
      queue.queueUrl,
      Array.from({ length: 60 }, (_, n) => `w-${n}`),
    );
    const uuid = await createMapping({ FunctionName: 'watched', EventSourceArn: queue.queueArn, BatchSize: 1, ScalingConfig: { MaximumConcurrency: 2 } });

    const behind = await waitFor(async () => {
      const [mapping] = (await status()).mappings;
      expect(mapping!.lag).toBeGreaterThan(0);
      expect(mapping!.lastProcessingResult).toBe('OK');
      return mapping!;
    });
    expect(behind).toMatchObject({ uuid, source: 'watched', functionName: 'watched', eventSourceArn: queue.queueArn, state: 'Enabled', polling: true });
    const scraped = await (await fetch(new URL('/metrics', local.service.endpoint))).text();
    const labels = `{uuid="${uuid}",function_name="watched",source="watched"}`;
    expect(scraped).toMatch(new RegExp(`^lambkin_event_source_mapping_lag${labels.replace(/[{}]/g, '\\$&')} [1-9]\\d*$`, 'm'));
    expect(scraped).toContain(`lambkin_event_source_mapping_polled_total${labels}`);

    const drained = await waitFor(async () => {
      const [mapping] = (await status()).mappings;
      expect(mapping).toMatchObject({ lag: 0, delivered: 60, failed: 0, lastProcessingResult: 'OK' });
      return mapping!;
    }, 40_000);
    expect(drained.polled).toBe(60);
  }, 60_000);
});
