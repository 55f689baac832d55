// An SQS event source mapping's poller against a real SQS (fauxqs, in this process) and real functions (our runtime
// as local processes, through the service's one invocation path): the aws:sqs record as AWS writes it, batching,
// delete on success, the queue's own redelivery after a failure (and its redrive to a dead-letter queue), partial
// batch failures and the responses that fail a whole batch, filters deleting what they drop, FIFO groups in order,
// and receivers scaling out under a backlog and back in as it drains. The poller is built as the mapping runner
// builds it: from PollerDeps.
import { PutFunctionConcurrencyCommand, DeleteFunctionConcurrencyCommand } from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand, type MessageAttributeValue, SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { compileFilterCriteria } from '../src/delivery/mappings/filter-criteria.ts';
import type { CheckpointStore, EventSourceMappingRecord } from '../src/delivery/mappings/mapping.ts';
import { batchItemFailures, SqsPoller, type SqsPollerOptions } from '../src/delivery/mappings/sqs-poller.ts';
import type { SqsRecord } from '../src/delivery/mappings/sqs-record.ts';
import type { InvocationHome } from '../src/invocation/invoke-function.ts';
import { DEFAULT_IDENTITY } from '../src/service/function-record.ts';
import { makeZip } from '../tools/zip.ts';
import { FAUXQS_ACCOUNT, type Fauxqs, startFauxqsForTest } from './support/fauxqs.ts';
import { createActiveFunction, ROLE } from './support/lambda-fixtures.ts';
import { makeDataDir, removeDataDir, startLocalService, type LocalService } from './support/local-service.ts';
import { ConcurrentProcessInvoker } from './support/concurrent-process-invoker.ts';
import { eventuallyWithin } from './support/eventually.ts';
import { recordedLines } from './support/recorded-lines.ts';

// Each invoke appends {start, end, event} to $RECORD. MODE: `ok` answers "ok"; `throw` fails the batch when a body
// contains "fail"; `partial` reports those messages in batchItemFailures; `respond` answers the response a body
// `respond:<name>` names (RESPONSES). SLEEP_MS: how long each batch takes.
const HANDLER = `
import { appendFileSync } from 'node:fs';
const RESPONSES = {
  'unknown-id': () => ({ batchItemFailures: [{ itemIdentifier: 'not-in-this-batch' }] }),
  'empty-id': () => ({ batchItemFailures: [{ itemIdentifier: '' }] }),
  'null-id': () => ({ batchItemFailures: [{ itemIdentifier: null }] }),
  'wrong-key': (records) => ({ batchItemFailures: [{ messageId: records[0].messageId }] }),
  'a-string': () => 'not an object',
  'empty-list': () => ({ batchItemFailures: [] }),
  'null-list': () => ({ batchItemFailures: null }),
  'null': () => null,
};
export const handler = async (event) => {
  const start = Date.now();
  if (process.env.SLEEP_MS) await new Promise((resolve) => setTimeout(resolve, Number(process.env.SLEEP_MS)));
  appendFileSync(process.env.RECORD, JSON.stringify({ start, end: Date.now(), event }) + '\\n');
  const failing = event.Records.filter((record) => record.body.includes('fail'));
  switch (process.env.MODE) {
    case 'throw':
      if (failing.length > 0) throw new Error('asked to fail');
      return 'ok';
    case 'partial':
      return { batchItemFailures: failing.map((record) => ({ itemIdentifier: record.messageId })) };
    case 'respond': {
      const asked = event.Records.find((record) => record.body.startsWith('respond:'));
      return RESPONSES[asked.body.slice('respond:'.length)](event.Records);
    }
    default:
      return 'ok';
  }
};
`;

type Invocation = { start: number; end: number; event: { Records: SqsRecord[] } };

const NO_CHECKPOINTS: CheckpointStore = {
  get: () => {
    throw new Error('an SQS poller keeps no checkpoints');
  },
  set: () => {
    throw new Error('an SQS poller keeps no checkpoints');
  },
  finish: () => {},
  isFinished: () => false,
  forget: () => {},
};

let fauxqs: Fauxqs;
let service: LocalService;
let home: InvocationHome;
let dataDir: string;
let recordDir: string;
const invoker = new ConcurrentProcessInvoker();
const running: SqsPoller[] = [];

beforeAll(async () => {
  fauxqs = await startFauxqsForTest();
  vi.stubEnv('AWS_ENDPOINT_URL_SQS', fauxqs.endpoint);
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  dataDir = await makeDataDir('lambkin-sqs-poller-');
  recordDir = await mkdtemp(join(tmpdir(), 'lambkin-sqs-poller-records-'));
  service = await startLocalService({ dataDir, invoker });
  home = { store: service.store, identity: DEFAULT_IDENTITY, scheduler: service.server.scheduler, invoker };
}, 60_000);

afterEach(async () => {
  await Promise.all(running.splice(0).map((poller) => poller.stop()));
});

afterAll(async () => {
  await service?.stop();
  await invoker.close();
  await fauxqs?.stop();
  vi.unstubAllEnvs();
  await removeDataDir(dataDir);
  await rm(recordDir, { recursive: true, force: true });
});

/** A function `name` running HANDLER in `mode`; its invokes land in its own file. */
async function createFunction(name: string, mode: string, env: Record<string, string> = {}): Promise<void> {
  await createActiveFunction(service.lambda, {
    FunctionName: name,
    Role: ROLE,
    Runtime: 'nodejs24.x',
    Handler: 'index.handler',
    Timeout: 30,
    Code: { ZipFile: makeZip([{ name: 'index.mjs', content: HANDLER }]) },
    Environment: { Variables: { RECORD: join(recordDir, `${name}.jsonl`), MODE: mode, ...env } },
  });
}

async function invocationsOf(name: string): Promise<Invocation[]> {
  return recordedLines(join(recordDir, `${name}.jsonl`));
}

const bodiesOf = (invocations: Invocation[]) => invocations.flatMap((invocation) => invocation.event.Records.map((record) => record.body));

/**
 * A queue whose visibility timeout outlasts any batch here (the first one starts the function's process), so only
 * a failure brings a message back; tests of redelivery set 1 s.
 */
function createQueue(name: string, attributes: Record<string, string> = {}) {
  return fauxqs.server.createQueue(name, { attributes: { VisibilityTimeout: '30', ...attributes } });
}

async function send(queueUrl: string, bodies: string[], extra: (body: string, index: number) => Record<string, unknown> = () => ({})): Promise<void> {
  for (let start = 0; start < bodies.length; start += 10) {
    const entries = bodies.slice(start, start + 10).map((body, index) => ({ Id: String(index), MessageBody: body, ...extra(body, start + index) }));
    const answer = await fauxqs.sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
    expect(answer.Failed ?? []).toEqual([]);
  }
}

async function messagesIn(queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const answer = await fauxqs.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return { visible: Number(answer.Attributes?.ApproximateNumberOfMessages), inFlight: Number(answer.Attributes?.ApproximateNumberOfMessagesNotVisible) };
}

interface Started {
  poller: SqsPoller;
  reports: string[];
}

/** A poller for `functionName` on `queueArn`, built and started as the mapping runner would. */
function startPoller(
  functionName: string,
  queueArn: string,
  mapping: Partial<EventSourceMappingRecord> = {},
  options: SqsPollerOptions = {},
  matches?: (filterable: unknown) => boolean,
): Started {
  const record: EventSourceMappingRecord = {
    uuid: randomUUID(),
    functionName,
    functionArn: `arn:aws:lambda:us-east-1:${DEFAULT_IDENTITY.accountId}:function:${functionName}`,
    eventSourceArn: queueArn,
    source: 'sqs',
    state: 'Enabled',
    stateTransitionReason: 'USER_INITIATED',
    lastModified: Date.now() / 1000,
    lastProcessingResult: 'No records processed',
    batchSize: 10,
    maximumBatchingWindowInSeconds: 0,
    functionResponseTypes: [],
    ...mapping,
  };
  const reports: string[] = [];
  const poller = new SqsPoller(
    { mapping: record, home, checkpoints: NO_CHECKPOINTS, report: (result) => reports.push(result), ...(matches ? { matches } : {}) },
    { idleWaitSeconds: 1, lagRefreshMs: 200, backoffMs: { first: 100, most: 500 }, ...options },
  );
  poller.start();
  running.push(poller);
  return { poller, reports };
}

const eventually = eventuallyWithin(15_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const md5 = (text: string) => createHash('md5').update(text).digest('hex');

describe('the aws:sqs record', () => {
  it('is what AWS hands the function: its fields in AWS order, the message attributes lower-camel with empty lists, the digests', async () => {
    await createFunction('shape', 'ok');
    const queue = createQueue('shape');
    const attributes: Record<string, MessageAttributeValue> = {
      Author: { DataType: 'String', StringValue: 'John Grisham' },
      WeeksOn: { DataType: 'Number', StringValue: '6' },
      Cover: { DataType: 'Binary', BinaryValue: Buffer.from([0, 1, 2, 255]) },
    };
    const withAttributes = await fauxqs.sqs.send(
      new SendMessageCommand({ QueueUrl: queue.queueUrl, MessageBody: '{"title": "The Whistler"}', MessageAttributes: attributes }),
    );
    const { reports, poller } = startPoller('shape', queue.queueArn);
    await eventually(
      () => invocationsOf('shape'),
      (invocations) => expect(invocations).toHaveLength(1),
    );
    const plain = await fauxqs.sqs.send(new SendMessageCommand({ QueueUrl: queue.queueUrl, MessageBody: 'plain text' }));
    const [first, second] = await eventually(
      () => invocationsOf('shape'),
      (invocations) => expect(invocations).toHaveLength(2),
    );
    const record = first?.event.Records[0] as SqsRecord;
    expect(first?.event.Records).toHaveLength(1);
    expect(Object.keys(record)).toEqual([
      'messageId',
      'receiptHandle',
      'body',
      'attributes',
      'messageAttributes',
      'md5OfMessageAttributes',
      'md5OfBody',
      'eventSource',
      'eventSourceARN',
      'awsRegion',
    ]);
    expect(record.messageId).toBe(withAttributes.MessageId);
    expect(record.receiptHandle).toMatch(/\S/);
    expect(record.body).toBe('{"title": "The Whistler"}');
    expect(Object.keys(record.attributes)).toEqual(['ApproximateReceiveCount', 'SentTimestamp', 'SenderId', 'ApproximateFirstReceiveTimestamp']);
    expect(record.attributes.ApproximateReceiveCount).toBe('1');
    expect(record.attributes.SentTimestamp).toMatch(/^\d{13}$/);
    expect(JSON.stringify(record.messageAttributes)).toBe(
      JSON.stringify({
        Author: { stringValue: 'John Grisham', stringListValues: [], binaryListValues: [], dataType: 'String' },
        WeeksOn: { stringValue: '6', stringListValues: [], binaryListValues: [], dataType: 'Number' },
        Cover: { binaryValue: 'AAEC/w==', stringListValues: [], binaryListValues: [], dataType: 'Binary' },
      }),
    );
    expect(record.md5OfMessageAttributes).toBe(withAttributes.MD5OfMessageAttributes);
    expect(record.md5OfBody).toBe(md5('{"title": "The Whistler"}'));
    expect(record.eventSource).toBe('aws:sqs');
    expect(record.eventSourceARN).toBe(`arn:aws:sqs:us-east-1:${FAUXQS_ACCOUNT}:shape`);
    expect(record.awsRegion).toBe('us-east-1');

    // A message without attributes: an empty messageAttributes and no digest of them at all.
    const plainRecord = second?.event.Records[0] as SqsRecord;
    expect(plainRecord.messageId).toBe(plain.MessageId);
    expect(plainRecord.messageAttributes).toEqual({});
    expect('md5OfMessageAttributes' in plainRecord).toBe(false);
    expect(plainRecord.md5OfBody).toBe(md5('plain text'));

    expect(reports).toEqual(['OK']);
    expect(poller.stats()).toMatchObject({ polled: 2, delivered: 2, failed: 0 });
  });
});

describe('batches', () => {
  it('hold at most BatchSize messages; every message runs once and is deleted after its batch succeeds', async () => {
    await createFunction('batches', 'ok');
    const queue = createQueue('batches');
    const bodies = Array.from({ length: 25 }, (_, i) => `message-${i}`);
    await send(queue.queueUrl, bodies);
    const { poller } = startPoller('batches', queue.queueArn, { batchSize: 10 });
    const invocations = await eventually(
      () => invocationsOf('batches'),
      (found) => expect(bodiesOf(found).sort()).toEqual([...bodies].sort()),
    );
    for (const invocation of invocations) expect(invocation.event.Records.length).toBeLessThanOrEqual(10);
    await eventually(
      () => messagesIn(queue.queueUrl),
      (counts) => expect(counts).toEqual({ visible: 0, inFlight: 0 }),
    );
    expect(poller.stats()).toMatchObject({ polled: 25, delivered: 25, failed: 0 });
  });

  it('gather several receives into one batch within MaximumBatchingWindowInSeconds, up to a BatchSize above 10', async () => {
    await createFunction('gathered', 'ok');
    const queue = createQueue('gathered');
    const bodies = Array.from({ length: 25 }, (_, i) => `message-${i}`);
    await send(queue.queueUrl, bodies);
    startPoller('gathered', queue.queueArn, { batchSize: 25, maximumBatchingWindowInSeconds: 1 }, { minimumPollers: 1 });
    const invocations = await eventually(
      () => invocationsOf('gathered'),
      (found) => expect(bodiesOf(found)).toHaveLength(25),
    );
    expect(invocations.map((invocation) => invocation.event.Records.length)).toEqual([25]);
  });

  it('stop() ends an idle long poll at once and waits for the batch in flight, which is then deleted', async () => {
    await createFunction('stopping', 'ok', { SLEEP_MS: '800' });
    const queue = createQueue('stopping');
    const { poller } = startPoller('stopping', queue.queueArn, {}, { idleWaitSeconds: 20 });
    await sleep(300);
    await send(queue.queueUrl, ['slow']);
    await eventually(
      () => poller.stats().polled,
      (polled) => expect(polled).toBe(1),
    );
    const before = Date.now();
    await poller.stop();
    expect(Date.now() - before).toBeLessThan(5_000);
    expect(bodiesOf(await invocationsOf('stopping'))).toEqual(['slow']);
    expect(await messagesIn(queue.queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });
});

describe('a failing batch', () => {
  it('is left on the queue: it runs again after the visibility timeout, and the redrive policy moves it to the dead-letter queue', async () => {
    await createFunction('failing', 'throw');
    const dlq = createQueue('failing-dlq');
    const queue = createQueue('failing', { VisibilityTimeout: '1', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.queueArn, maxReceiveCount: 2 }) });
    await send(queue.queueUrl, ['please fail']);
    const { reports, poller } = startPoller('failing', queue.queueArn);
    const invocations = await eventually(
      () => invocationsOf('failing'),
      (found) => expect(found).toHaveLength(2),
    );
    const [first, second] = invocations.map((invocation) => invocation.event.Records[0] as SqsRecord);
    expect(first?.messageId).toBe(second?.messageId);
    expect([first?.attributes.ApproximateReceiveCount, second?.attributes.ApproximateReceiveCount]).toEqual(['1', '2']);
    // Back only once the queue's 1 s visibility timeout has passed since the first receive.
    expect((invocations[1]?.start ?? 0) - Number(second?.attributes.ApproximateFirstReceiveTimestamp)).toBeGreaterThanOrEqual(1000);
    const dead = await fauxqs.receiveOne(dlq.queueUrl, 10);
    expect(dead.Body).toBe('please fail');
    expect(dead.MessageId).toBe(first?.messageId);
    expect(reports).toContain('PROBLEM: Function call failed');
    expect(poller.stats()).toMatchObject({ delivered: 0, failed: 2 });
  });
});

describe('ReportBatchItemFailures', () => {
  it('deletes the messages the function did not report; the reported ones come back', async () => {
    await createFunction('partial', 'partial');
    const queue = createQueue('partial', { VisibilityTimeout: '1' });
    await send(queue.queueUrl, ['ok-1', 'fail-2', 'ok-3', 'fail-4', 'ok-5']);
    startPoller('partial', queue.queueArn, { functionResponseTypes: ['ReportBatchItemFailures'] }, { minimumPollers: 1 });
    const invocations = await eventually(
      () => invocationsOf('partial'),
      (found) => expect(bodiesOf(found).filter((body) => body.startsWith('fail'))).toHaveLength(4),
    );
    const bodies = bodiesOf(invocations);
    for (const body of ['ok-1', 'ok-3', 'ok-5']) expect(bodies.filter((seen) => seen === body)).toEqual([body]);
    for (const body of ['fail-2', 'fail-4']) expect(bodies.filter((seen) => seen === body)).toEqual([body, body]);
  });

  it.each([
    ['unknown-id', 'an identifier not in the batch'],
    ['empty-id', 'an empty identifier'],
    ['null-id', 'a null identifier'],
    ['wrong-key', 'a failure without itemIdentifier'],
    ['a-string', 'a response that is not an object'],
  ])('fails the whole batch on %s (%s): every message comes back', async (response) => {
    const name = `malformed-${response}`;
    await createFunction(name, 'respond');
    const queue = createQueue(name, { VisibilityTimeout: '1' });
    await send(queue.queueUrl, ['innocent', `respond:${response}`]);
    startPoller(name, queue.queueArn, { functionResponseTypes: ['ReportBatchItemFailures'] }, { minimumPollers: 1 });
    const invocations = await eventually(
      () => invocationsOf(name),
      (found) => expect(bodiesOf(found).filter((body) => body === 'innocent')).toHaveLength(2),
    );
    expect(invocations[0]?.event.Records.map((record) => record.body)).toEqual(['innocent', `respond:${response}`]);
  });

  it.each(['empty-list', 'null-list', 'null'])('takes %s as the whole batch succeeding', async (response) => {
    const name = `succeeding-${response}`;
    await createFunction(name, 'respond');
    const queue = createQueue(name);
    await send(queue.queueUrl, ['innocent', `respond:${response}`]);
    startPoller(name, queue.queueArn, { functionResponseTypes: ['ReportBatchItemFailures'] }, { minimumPollers: 1 });
    await eventually(
      () => messagesIn(queue.queueUrl),
      (counts) => expect(counts).toEqual({ visible: 0, inFlight: 0 }),
    );
    expect(bodiesOf(await invocationsOf(name))).toEqual(['innocent', `respond:${response}`]);
  });

  it('reads a response as Lambda does, invalid JSON failing the batch', () => {
    const ids = new Set(['a', 'b']);
    expect(batchItemFailures(Buffer.from('{"batchItemFailures":[{"itemIdentifier":"b"}]}'), ids)).toEqual(new Set(['b']));
    expect(batchItemFailures(Buffer.from(''), ids)).toEqual(new Set());
    expect(batchItemFailures(Buffer.from('{}'), ids)).toEqual(new Set());
    expect(batchItemFailures(Buffer.from('{"batchItemFailures":[{"itemIdentifier":"b"'), ids)).toBe('malformed');
    expect(batchItemFailures(Buffer.from('{"batchItemFailures":{"itemIdentifier":"b"}}'), ids)).toBe('malformed');
    expect(batchItemFailures(Buffer.from('[]'), ids)).toBe('malformed');
  });
});

describe('FilterCriteria', () => {
  it('deletes the messages no filter matches without running the function; the body is matched as JSON', async () => {
    await createFunction('filtered', 'ok');
    const queue = createQueue('filtered');
    await send(queue.queueUrl, ['{"kind":"order","n":1}', '{"kind":"refund","n":2}', 'order', '{"kind":"order","n":3}']);
    const matches = compileFilterCriteria({ Filters: [{ Pattern: '{"body":{"kind":["order"]}}' }] });
    const { poller } = startPoller('filtered', queue.queueArn, {}, { minimumPollers: 1 }, matches);
    await eventually(
      () => messagesIn(queue.queueUrl),
      (counts) => expect(counts).toEqual({ visible: 0, inFlight: 0 }),
    );
    await sleep(1500);
    expect(bodiesOf(await invocationsOf('filtered')).sort()).toEqual(['{"kind":"order","n":1}', '{"kind":"order","n":3}']);
    expect(poller.stats()).toMatchObject({ polled: 4, delivered: 2, failed: 0 });
  });
});

describe('FIFO queues', () => {
  it('run one batch per message group at a time, in the order sent, with the FIFO attributes AWS adds', async () => {
    await createFunction('fifo', 'ok', { SLEEP_MS: '30' });
    const queue = createQueue('orders.fifo', { FifoQueue: 'true' });
    const groups = ['g1', 'g2', 'g3'];
    const bodies = Array.from({ length: 45 }, (_, i) => JSON.stringify({ group: groups[i % 3], n: i }));
    await send(queue.queueUrl, bodies, (body, index) => ({
      MessageGroupId: (JSON.parse(body) as { group: string }).group,
      MessageDeduplicationId: `dedup-${index}`,
    }));
    startPoller('fifo', queue.queueArn, { batchSize: 4 }, { minimumPollers: 3 });
    const invocations = await eventually(
      () => invocationsOf('fifo'),
      (found) => expect(bodiesOf(found)).toHaveLength(45),
    );
    const record = invocations[0]?.event.Records[0] as SqsRecord;
    expect(Object.keys(record.attributes)).toEqual([
      'ApproximateReceiveCount',
      'SentTimestamp',
      'SequenceNumber',
      'MessageGroupId',
      'SenderId',
      'MessageDeduplicationId',
      'ApproximateFirstReceiveTimestamp',
    ]);
    for (const group of groups) {
      const ofGroup = [...invocations]
        .filter((invocation) => invocation.event.Records.some((r) => r.attributes.MessageGroupId === group))
        .sort((a, b) => a.start - b.start);
      // Every batch holds one group only, and the group's batches never overlap.
      for (const invocation of ofGroup) expect(new Set(invocation.event.Records.map((r) => r.attributes.MessageGroupId))).toEqual(new Set([group]));
      for (let i = 1; i < ofGroup.length; i++) expect(ofGroup[i]?.start).toBeGreaterThanOrEqual(ofGroup[i - 1]?.end ?? 0);
      const order = bodiesOf(ofGroup).map((body) => (JSON.parse(body) as { n: number }).n);
      expect(order).toEqual([...order].sort((a, b) => a - b));
      expect(order).toHaveLength(15);
    }
  });
});

describe('scaling', () => {
  it('adds receivers while batches come back full under a 2,000-message backlog, and retires them as the queue drains', async () => {
    await createFunction('backlog', 'ok', { SLEEP_MS: '40' });
    const queue = createQueue('backlog', { VisibilityTimeout: '60' });
    const bodies = Array.from({ length: 2000 }, (_, i) => `m-${i}`);
    await send(queue.queueUrl, bodies);
    const { poller } = startPoller('backlog', queue.queueArn, { batchSize: 10 }, { minimumPollers: 2, maximumPollers: 8, scaleOutIntervalMs: 100 });
    let mostPollers = 0;
    const sampler = setInterval(() => {
      mostPollers = Math.max(mostPollers, poller.pollers);
    }, 10);
    try {
      const invocations = await eventually(
        () => invocationsOf('backlog'),
        (found) => expect(new Set(bodiesOf(found)).size).toBe(2000),
        90_000,
      );
      expect(mostPollers).toBeGreaterThan(2);
      expect(mostPollers).toBeLessThanOrEqual(8);
      // The function itself saw batches at once: the most invocations overlapping any one's start.
      const overlapping = Math.max(...invocations.map((a) => invocations.filter((b) => b.start <= a.start && a.start < b.end).length));
      expect(overlapping).toBeGreaterThan(1);
      await eventually(
        () => poller.pollers,
        (pollers) => expect(pollers).toBe(2),
        10_000,
      );
      await eventually(
        () => poller.stats(),
        (stats) => expect(stats).toMatchObject({ lag: 0, delivered: 2000, failed: 0 }),
      );
    } finally {
      clearInterval(sampler);
    }
  }, 120_000);

  it('never runs more batches at once than MaximumConcurrency', async () => {
    await createFunction('capped', 'ok', { SLEEP_MS: '40' });
    const queue = createQueue('capped', { VisibilityTimeout: '60' });
    await send(
      queue.queueUrl,
      Array.from({ length: 300 }, (_, i) => `m-${i}`),
    );
    startPoller('capped', queue.queueArn, { batchSize: 10, maximumConcurrency: 2 }, { minimumPollers: 2, maximumPollers: 8, scaleOutIntervalMs: 50 });
    const invocations = await eventually(
      () => invocationsOf('capped'),
      (found) => expect(bodiesOf(found)).toHaveLength(300),
      60_000,
    );
    const overlapping = Math.max(...invocations.map((a) => invocations.filter((b) => b.start <= a.start && a.start < b.end).length));
    expect(overlapping).toBeLessThanOrEqual(2);
  }, 90_000);
});

describe('trouble', () => {
  it('reports an unreachable queue as a PROBLEM and keeps trying: a queue created later is read', async () => {
    await createFunction('late-queue', 'ok');
    const arn = `arn:aws:sqs:us-east-1:${FAUXQS_ACCOUNT}:late-queue`;
    const { reports } = startPoller('late-queue', arn);
    await eventually(
      () => reports,
      (seen) => expect(seen[0]).toMatch(/^PROBLEM: Lambda could not read from the SQS queue arn:aws:sqs:us-east-1:000000000000:late-queue: /),
    );
    const queue = createQueue('late-queue');
    await send(queue.queueUrl, ['finally']);
    await eventually(
      () => invocationsOf('late-queue'),
      (found) => expect(bodiesOf(found)).toEqual(['finally']),
    );
    await eventually(
      () => reports.at(-1),
      (last) => expect(last).toBe('OK'),
    );
  });

  it('leaves a throttled batch on the queue and delivers it once the function may run', async () => {
    await createFunction('throttled', 'ok');
    await service.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'throttled', ReservedConcurrentExecutions: 0 }));
    const queue = createQueue('throttled', { VisibilityTimeout: '1' });
    await send(queue.queueUrl, ['patient']);
    const { poller } = startPoller('throttled', queue.queueArn);
    await eventually(
      () => poller.stats().polled,
      (polled) => expect(polled).toBeGreaterThanOrEqual(1),
    );
    expect(await invocationsOf('throttled')).toEqual([]);
    await service.lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'throttled' }));
    await eventually(
      () => invocationsOf('throttled'),
      (found) => expect(bodiesOf(found)).toEqual(['patient']),
    );
  });
});
