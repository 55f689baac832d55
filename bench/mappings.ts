// Event source mappings through `lambkin serve`, measured from the outside: bin/lambkin serve as a child process
// (--port 0, a data dir of its own) reaching a real SQS (npm fauxqs, in this process) and a real Kinesis (npm
// kinesis-local, a child process) through the SDK's standard endpoint settings (AWS_ENDPOINT_URL_SQS,
// AWS_ENDPOINT_URL_KINESIS and test credentials in the serve's environment), one zip function (nodejs24.x, MemorySize
// 1024) that logs the ids of the records it got on one line and answers `{batchItemFailures: []}`.
//
//   sqs       MESSAGES messages in a standard queue first, then a mapping (BatchSize 10, ReportBatchItemFailures)
//             created through the Lambda API: messages per second from the CreateEventSourceMapping call to the
//             queue being empty (GetQueueAttributes: ApproximateNumberOfMessages + NotVisible = 0, read every 20 ms;
//             the poller deletes a batch once the function succeeded on it). The most batches in flight at once is
//             sampled from GET /lambkin/status (the function's inFlight) meanwhile: the concurrency the poller
//             reached, which the concurrent sync figure uses.
//   kinesis   RECORDS records in a 2-shard stream, then a mapping (BatchSize 100, TRIM_HORIZON): records per second
//             from the CreateEventSourceMapping call to the last record's id appearing in the function's log.
//   delivered Every message and record must reach the function (bar, in run.mjs: 0 lost): the function's own log lines
//             (<dataDir>/logs, `GOT id,id,...`) are read once both drains are over, the distinct ids counted against
//             what was sent, duplicates (at least once allows them) counted too.
//   sync      the same function, warm, invoked synchronously with a one-message SQS event: sequentially, and from as
//             many clients as the SQS poller had batches in flight; invokes (messages) per second over SYNC_WINDOW_MS
//             each, after as long a warm-up. The SQS drain rate against the sequential one (bar, in run.mjs: ≥ 5×)
//             shows what batching and the poller's concurrency give; against the concurrent one, what batching alone
//             gives.
//   cpu       serve's CPU time and the whole machine's (cpu-usage.ts) per full batch over the SQS drain and per invoke
//             over the sequential sync window: what a batch costs against a one-message invoke, and whether the drain
//             was bound by the machine's CPUs.
//
// At the end the serve is stopped (SIGTERM), whatever containers it still owned removed and counted, the brokers
// stopped and the data dir removed.
import { GetQueueAttributesCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Pool } from 'undici';
import { functionLogFiles } from '../src/environments/file-log-sink.ts';
import { STATUS_PATH } from '../src/service/status.ts';
import { type Fauxqs, startFauxqsForTest } from '../test/support/fauxqs.ts';
import { type LocalKinesis, startLocalKinesis } from '../test/support/kinesis.ts';
import { startServe, type ServeProcess } from '../tools/serve-process.ts';
import { makeZip } from '../tools/zip.ts';
import { type CpuUsage, cpuWindow } from './cpu-usage.ts';
import { apiCall, FUNCTIONS, invoke, waitUntilReady } from './lambda-http.ts';
import { stopServeAndSweep } from './serve-containers.ts';
import { round } from './stats.mjs';

const FUNCTION = 'bench-mappings';
const QUEUE = 'bench-mappings-queue';
const STREAM = 'bench-mappings-stream';
const MAPPINGS = '/2015-03-31/event-source-mappings';
const ROLE = 'arn:aws:iam::123456789012:role/lambkin-bench';
const MEMORY_SIZE_MB = 1_024;
const SQS_BATCH_SIZE = 10;
const KINESIS_BATCH_SIZE = 100;
const KINESIS_SHARDS = 2;
/** The SQS poller's local ceiling on receivers (sqs-poller.ts maximumPollers): as many environments are warmed first. */
const WARM_ENVIRONMENTS = 20;
/** Answers each sync client gets before its window is timed. */
const WARM_UP_INVOKES = 3;
/** Room for as many environments as the SQS poller may keep busy (its local ceiling, 20) and then some. */
const MEMORY_BUDGET_MB = 40 * MEMORY_SIZE_MB;

// One log line per batch: the ids (an SQS body, a Kinesis record's data) it carried.
const HANDLER = `
exports.handler = async (event) => {
  const ids = (event.Records ?? []).map((r) => (r.kinesis ? Buffer.from(r.kinesis.data, 'base64').toString('utf8') : r.body));
  console.log('GOT ' + ids.join(','));
  return { batchItemFailures: [] };
};
`;
const SYNC_PAYLOAD = JSON.stringify({
  Records: [{ messageId: 'sync', receiptHandle: 'sync', body: 'sync', attributes: {}, messageAttributes: {}, eventSource: 'aws:sqs' }],
});

export interface DrainFigures {
  sent: number;
  /** From the CreateEventSourceMapping call to the last one delivered. */
  drainMs: number;
  perSecond: number;
  /** Distinct ids the function logged, of those sent. */
  delivered: number;
  lost: number;
  /** Deliveries beyond the first, per id, summed. */
  duplicates: number;
}

/** CPU time per item (a full SQS batch, a sync invoke): serve's own, and the whole machine's (every process). */
export interface CpuPerItem {
  serveMs: number;
  machineMs: number;
  /** How busy the machine's CPUs were meanwhile (1 = saturated). */
  machineBusyShare: number;
}

function cpuPer(usage: CpuUsage, items: number): CpuPerItem {
  return {
    serveMs: round(usage.processMs / items, 3),
    machineMs: round(usage.machineBusyMs / items, 3),
    machineBusyShare: round(usage.machineBusyShare, 2),
  };
}

export interface MappingsFigures {
  memorySizeMb: number;
  /** cpu: per BatchSize messages (a full batch). */
  sqs: DrainFigures & { batchSize: number; maxInFlight: number; cpu: CpuPerItem };
  kinesis: DrainFigures & { batchSize: number; shards: number };
  /** sequentialCpu: per invoke (one message), over the timed window. */
  sync: { windowMs: number; sequentialPerSecond: number; sequentialCpu: CpuPerItem; clients: number; concurrentPerSecond: number };
  /** sqs.perSecond over the sequential and the concurrent sync rates. */
  sqsOverSequential: number;
  sqsOverConcurrent: number;
  leftContainers: number;
}

export interface MappingsOptions {
  messages?: number;
  records?: number;
  syncWindowMs?: number;
  /** The most either drain may take. */
  drainTimeoutMs?: number;
  log?: (line: string) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every id the function logged, in order (one per record it got). */
function loggedIds(dataDir: string): string[] {
  const ids: string[] = [];
  for (const path of functionLogFiles(dataDir, FUNCTION)) {
    for (const match of readFileSync(path, 'utf8').matchAll(/\bGOT ([^\s]*)/g)) {
      for (const id of match[1]!.split(',')) if (id !== '' && id !== 'sync') ids.push(id);
    }
  }
  return ids;
}

function countDelivered(ids: string[], prefix: string, sent: number): Pick<DrainFigures, 'delivered' | 'lost' | 'duplicates'> {
  const mine = ids.filter((id) => id.startsWith(prefix));
  const distinct = new Set(mine);
  return { delivered: distinct.size, lost: sent - distinct.size, duplicates: mine.length - distinct.size };
}

export async function measureMappings(options: MappingsOptions = {}): Promise<MappingsFigures> {
  const { messages = 10_000, records = 10_000, syncWindowMs = 2_000, drainTimeoutMs = 60_000, log = () => {} } = options;
  const dataDir = await mkdtemp(join(tmpdir(), 'lambkin-bench-mappings-'));
  let fauxqs: Fauxqs | undefined;
  let kinesis: LocalKinesis | undefined;
  let serve: ServeProcess | undefined;
  let client: Client | undefined;
  let figures: Omit<MappingsFigures, 'leftContainers'> | undefined;
  let leftContainers = 0;
  try {
    log('mappings: starting fauxqs and kinesis-local');
    [fauxqs, kinesis] = await Promise.all([startFauxqsForTest(), startLocalKinesis()]);
    // The stream fills meanwhile (kinesis-mock takes its time over PutRecords): nothing is timed before the drains.
    log(`mappings: putting ${records} records into ${STREAM} (${KINESIS_SHARDS} shards) meanwhile`);
    const stream = kinesis.createStream(STREAM, KINESIS_SHARDS).then(async (arn) => {
      await putRecords(kinesis!, arn, records);
      return arn;
    });
    stream.catch(() => {}); // awaited below; a failure before then must not go unhandled
    log('mappings: starting lambkin serve');
    serve = await startServe(dataDir, {
      args: ['--memory-budget', String(MEMORY_BUDGET_MB)],
      failSignal: 'SIGTERM',
      // Removing 20 containers on SIGTERM can outlast the default 15 s grace on a loaded machine.
      killGraceMs: 60_000,
      env: {
        AWS_ENDPOINT_URL_SQS: fauxqs.endpoint,
        AWS_ENDPOINT_URL_KINESIS: kinesis.endpoint,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_REGION: 'us-east-1',
      },
    });
    client = new Client(serve.url, { pipelining: 1 });
    await apiCall(client, 'POST', FUNCTIONS, {
      FunctionName: FUNCTION,
      Role: ROLE,
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      MemorySize: MEMORY_SIZE_MB,
      Timeout: 60,
      Code: { ZipFile: makeZip([{ name: 'index.js', content: HANDLER }]).toString('base64') },
    });
    await waitUntilReady(client, FUNCTION);

    // The environments the SQS poller will keep busy, started before anything is timed: the drain, like the sync
    // figures, measures warm delivery, not cold starts.
    log(`mappings: starting ${WARM_ENVIRONMENTS} environments`);
    const warmPool = new Pool(serve.url, { connections: WARM_ENVIRONMENTS, pipelining: 1 });
    try {
      await Promise.all(Array.from({ length: WARM_ENVIRONMENTS }, () => invoke(warmPool, FUNCTION, SYNC_PAYLOAD)));
    } finally {
      await warmPool.close();
    }

    // 1. SQS: the queue filled first, then the mapping; until the queue is empty.
    const queue = fauxqs.createQueue(QUEUE);
    log(`mappings: sending ${messages} messages to ${QUEUE}`);
    await sendMessages(fauxqs, queue.queueUrl, messages);
    // The stream full before the SQS drain starts: its puts would compete with the drain for the CPU.
    const streamArn = await stream;
    log(`mappings: SQS mapping (BatchSize ${SQS_BATCH_SIZE}), draining`);
    const sqsStarted = performance.now();
    const sqsCpu = cpuWindow(serve.pid);
    const sqsMapping = (await apiCall(client, 'POST', `${MAPPINGS}/`, {
      FunctionName: FUNCTION,
      EventSourceArn: queue.queueArn,
      BatchSize: SQS_BATCH_SIZE,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    })) as { UUID: string };
    let maxInFlight = 0;
    const sampling = sampleInFlight(serve.url, (n) => (maxInFlight = Math.max(maxInFlight, n)));
    const sqsUntil = sqsStarted + drainTimeoutMs;
    let lastProgress = sqsStarted;
    for (let backlog = await queueBacklog(fauxqs, queue.queueUrl); backlog > 0; backlog = await queueBacklog(fauxqs, queue.queueUrl)) {
      if (performance.now() > sqsUntil) {
        throw new Error(`${QUEUE} not drained within ${drainTimeoutMs} ms (${backlog} left); the serve said:\n${serve.output().slice(-3000)}`);
      }
      if (performance.now() - lastProgress > 5_000) {
        lastProgress = performance.now();
        log(`mappings: ${backlog} messages left, at most ${maxInFlight} batches in flight so far`);
      }
      await sleep(20);
    }
    const sqsDrainMs = performance.now() - sqsStarted;
    const sqsCpuUsed = sqsCpu.stop();
    await sampling.stop();
    await deleteMapping(client, sqsMapping.UUID);
    log(`mappings: SQS drained in ${Math.round(sqsDrainMs)} ms, at most ${maxInFlight} batches in flight`);

    // 2. Kinesis: the stream filled before (above), then the mapping; until the function has logged every record.
    log(`mappings: Kinesis mapping (BatchSize ${KINESIS_BATCH_SIZE}, TRIM_HORIZON), draining`);
    const kinesisStarted = performance.now();
    const kinesisMapping = (await apiCall(client, 'POST', `${MAPPINGS}/`, {
      FunctionName: FUNCTION,
      EventSourceArn: streamArn,
      BatchSize: KINESIS_BATCH_SIZE,
      StartingPosition: 'TRIM_HORIZON',
    })) as { UUID: string };
    const kinesisUntil = kinesisStarted + drainTimeoutMs;
    while (countDelivered(loggedIds(dataDir), 'k-', records).lost > 0) {
      if (performance.now() > kinesisUntil) break; // counted as lost below
      await sleep(50);
    }
    const kinesisDrainMs = performance.now() - kinesisStarted;
    await deleteMapping(client, kinesisMapping.UUID);
    log(`mappings: Kinesis drained in ${Math.round(kinesisDrainMs)} ms`);

    // 3. What reached the function. SQS's last log lines may trail the deletes: wait for them a little.
    let ids = loggedIds(dataDir);
    for (const until = Date.now() + 5_000; countDelivered(ids, 's-', messages).lost > 0 && Date.now() < until; ) {
      await sleep(50);
      ids = loggedIds(dataDir);
    }

    // 4. Sync, on the environments the drains left warm.
    const clients = Math.max(1, maxInFlight);
    log(`mappings: sync invokes, sequential and from ${clients} clients, ${syncWindowMs} ms windows`);
    const sequential = await syncThroughput(serve.url, serve.pid, 1, syncWindowMs);
    const sequentialPerSecond = sequential.perSecond;
    const { perSecond: concurrentPerSecond } = await syncThroughput(serve.url, serve.pid, clients, syncWindowMs);

    const sqsPerSecond = (messages * 1000) / sqsDrainMs;
    figures = {
      memorySizeMb: MEMORY_SIZE_MB,
      sqs: {
        sent: messages,
        drainMs: round(sqsDrainMs, 0),
        perSecond: round(sqsPerSecond, 0),
        ...countDelivered(ids, 's-', messages),
        batchSize: SQS_BATCH_SIZE,
        maxInFlight,
        cpu: cpuPer(sqsCpuUsed, messages / SQS_BATCH_SIZE),
      },
      kinesis: {
        sent: records,
        drainMs: round(kinesisDrainMs, 0),
        perSecond: round((records * 1000) / kinesisDrainMs, 0),
        ...countDelivered(ids, 'k-', records),
        batchSize: KINESIS_BATCH_SIZE,
        shards: KINESIS_SHARDS,
      },
      sync: {
        windowMs: syncWindowMs,
        sequentialPerSecond: round(sequentialPerSecond, 0),
        sequentialCpu: cpuPer(sequential.cpu, sequential.invokes),
        clients,
        concurrentPerSecond: round(concurrentPerSecond, 0),
      },
      sqsOverSequential: round(sqsPerSecond / sequentialPerSecond, 2),
      sqsOverConcurrent: round(sqsPerSecond / concurrentPerSecond, 2),
    };
  } finally {
    await client?.close().catch(() => undefined);
    if (serve) {
      log('mappings: stopping lambkin serve (SIGTERM)');
      leftContainers = await stopServeAndSweep(serve);
    }
    await Promise.all([fauxqs?.stop(), kinesis?.stop()]);
    await rm(dataDir, { recursive: true, force: true });
  }
  return { ...figures!, leftContainers };
}

/** DeleteEventSourceMapping: its poller stops (202, the mapping Deleting). */
async function deleteMapping(client: Client, uuid: string): Promise<void> {
  const res = await client.request({ method: 'DELETE', path: `${MAPPINGS}/${uuid}` });
  const text = await res.body.text();
  if (res.statusCode !== 202) throw new Error(`DeleteEventSourceMapping ${uuid} answered ${res.statusCode}: ${text}`);
}

/** `count` messages (bodies s-0, s-1, ...), ten to a SendMessageBatch, eight batches at once. */
async function sendMessages(fauxqs: Fauxqs, queueUrl: string, count: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < count) {
        const first = next;
        next = Math.min(count, next + 10);
        const entries = Array.from({ length: next - first }, (_, i) => ({ Id: String(i), MessageBody: `s-${first + i}` }));
        const answer = await fauxqs.sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
        if (answer.Failed?.length) throw new Error(`SendMessageBatch failed: ${JSON.stringify(answer.Failed)}`);
      }
    }),
  );
}

/** `count` records (data k-0, k-1, ..., spread over the shards by partition key), 500 to a PutRecords. */
async function putRecords(kinesis: LocalKinesis, streamArn: string, count: number): Promise<void> {
  for (let first = 0; first < count; first += 500) {
    const entries = Array.from({ length: Math.min(500, count - first) }, (_, i) => ({
      PartitionKey: `p-${first + i}`,
      Data: Buffer.from(`k-${first + i}`),
    }));
    const answer = await kinesis.kinesis.send(new PutRecordsCommand({ StreamARN: streamArn, Records: entries }));
    if (answer.FailedRecordCount) throw new Error(`PutRecords failed ${answer.FailedRecordCount} of ${entries.length}`);
  }
}

/** Messages in the queue, visible or received and not yet deleted. */
async function queueBacklog(fauxqs: Fauxqs, queueUrl: string): Promise<number> {
  const { Attributes: attributes = {} } = await fauxqs.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(attributes.ApproximateNumberOfMessages ?? 0) + Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
}

/** Reads the function's inFlight from GET /lambkin/status every 50 ms until stop(). */
function sampleInFlight(url: string, sample: (inFlight: number) => void): { stop(): Promise<void> } {
  const status = new Client(url, { pipelining: 1 });
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const res = await status.request({ method: 'GET', path: STATUS_PATH });
        const body = (await res.body.json()) as { functions?: { name: string; inFlight: number }[] };
        sample(body.functions?.find((fn) => fn.name === FUNCTION)?.inFlight ?? 0);
      } catch {
        // a missed sample
      }
      await sleep(50);
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      await status.close();
    },
  };
}

/**
 * Warm sync invokes per second from `clients` clients over a window, after as long a warm-up under the same load in
 * which every client got at least WARM_UP_INVOKES answers: environments the keep-alive policy let go since the drains
 * are started again before the window, not in it.
 */
async function syncThroughput(
  url: string,
  servePid: number,
  clients: number,
  windowMs: number,
): Promise<{ perSecond: number; invokes: number; cpu: CpuUsage }> {
  const pool = new Pool(url, { connections: clients, pipelining: 1 });
  const load = async (ms: number, leastPerClient = 0) => {
    const started = performance.now();
    const end = started + ms;
    const counts = await Promise.all(
      Array.from({ length: clients }, async () => {
        let count = 0;
        while (performance.now() < end || count < leastPerClient) {
          await invoke(pool, FUNCTION, SYNC_PAYLOAD);
          count++;
        }
        return count;
      }),
    );
    const invokes = counts.reduce((a, b) => a + b, 0);
    return { invokes, perSecond: (invokes * 1000) / (performance.now() - started) };
  };
  try {
    await load(windowMs, WARM_UP_INVOKES);
    const cpu = cpuWindow(servePid);
    const timed = await load(windowMs);
    return { ...timed, cpu: cpu.stop() };
  } finally {
    await pool.close();
  }
}

// `node bench/mappings.ts`: this section alone, its figures as JSON on stdout.
if (import.meta.url === `file://${process.argv[1]}`) {
  const figures = await measureMappings({ log: (line) => process.stderr.write(`[bench] ${line}\n`) });
  process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
}
