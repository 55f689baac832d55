// Asynchronous (Event) invokes through `lambkin serve`, measured from the outside: bin/lambkin serve as a child
// process (--port 0, a data dir of its own, --image IMG registered as the function `function`), driven over
// keep-alive HTTP (undici) on the Invoke API with X-Amz-Invocation-Type: Event.
//
//   accept     EVENTS Event invokes of `function`, CONNECTIONS at once: each answered 202 once its event is
//              committed (fsync'd) to <dataDir>/async-events.db. Events per second and the 202's p50/p99 (bar, in
//              run.mjs: ≥ 2,000 events/s). The worker delivers meanwhile, as it would for a user.
//   delivery   what the worker delivers per second once the accepts are over: the events it takes off the queue
//              (async-events.db's rows, read with node:sqlite, read-only) from the last 202 until the queue is
//              empty, or DRAIN_WINDOW_MS at most, over that time. Beside it, in the same run, just before the
//              accepts: warm synchronous invokes per second of the same function from as many clients as the worker
//              keeps in flight per function (16), on the same environments; their ratio (bar, in run.mjs: ≥ 0.8). A
//              delivery is an invoke plus the queue's bookkeeping: the ratio is what that bookkeeping costs.
//   kill -9    a second serve on a data dir of its own (the first one's backlog left behind): CRASH_EVENTS Event
//              invokes of a zip function that takes 20 ms, the serve SIGKILLed once a part of
//              them has been delivered, restarted on the same data dir: every accepted request id must reach the
//              function at least once (bar, in run.mjs: 0 lost); duplicates (at least once allows them) are
//              counted. Delivered means the serve wrote the id's `START RequestId:` line to the function's log
//              file (synchronous writes: a kill -9 loses none) as it handed the event to the runtime. The
//              function's own output is not used: it can trail the answer, and so the event's removal.
//
// The image function gets MemorySize 10240 MB (CPU follows memory; see serve.ts) and the memory budget is lifted so
// the worker's 16 environments fit. At the end the serve is stopped with SIGTERM, whatever containers either serve
// (the one killed included) still owned are removed and counted, and the data dir is removed.
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Client, Pool } from 'undici';
import { QUEUE_FILE } from '../src/delivery/event-queue.ts';
import { functionLogFiles } from '../src/environments/file-log-sink.ts';
import { startServe, type ServeProcess } from '../tools/serve-process.ts';
import { makeZip } from '../tools/zip.ts';
import { summariseLatencies, type LatencySummary } from './compare.ts';
import { apiCall, FUNCTIONS, invoke, waitUntilReady } from './lambda-http.ts';
import { containersOf, removeContainers, sweepContainersOf } from './serve-containers.ts';
import { round } from './stats.mjs';

const IMAGE_FUNCTION = 'function';
const SLOW_FUNCTION = 'bench-async-slow';
const ROLE = 'arn:aws:iam::123456789012:role/lambkin-bench';
const MEMORY_SIZE_MB = 10_240;
const SLOW_MEMORY_SIZE_MB = 1_024;
/** The worker's deliveries in flight per function (async-delivery.ts's default): the sync side gets as many clients. */
const WORKER_CONCURRENCY = 16;
const PAYLOAD = '{"name":"bench"}';

const SLOW_HANDLER = `
exports.handler = async () => {
  await new Promise((resolve) => setTimeout(resolve, 20));
  return 'ok';
};
`;

export interface AsyncFigures {
  image: string;
  accept: LatencySummary & { connections: number; eventsPerSecond: number; elapsedMs: number };
  delivery: {
    /** Events still queued when the last 202 came back. */
    queuedAtAcceptEnd: number;
    /** Still queued drainMs later: 0, unless the window ran out first. */
    queuedAtEnd: number;
    drainMs: number;
    /** (queuedAtAcceptEnd − queuedAtEnd) / drainMs. */
    eventsPerSecond: number;
    syncClients: number;
    syncWindowMs: number;
    syncInvokesPerSecond: number;
    /** eventsPerSecond / syncInvokesPerSecond. */
    ratio: number;
  };
  kill: {
    accepted: number;
    /** Distinct accepted ids delivered before the SIGKILL. */
    deliveredBeforeKill: number;
    /** Distinct accepted ids delivered across both runs. */
    delivered: number;
    lost: number;
    /** Deliveries beyond the first, per id, summed. */
    duplicates: number;
    /** From the restarted serve's listening line to the last missing id's delivery. */
    recoveryMs: number;
  };
  /** Containers either serve still owned at the end (removed by the bench): the killed one's count here too. */
  leftContainers: number;
}

export interface AsyncOptions {
  image: string;
  events?: number;
  connections?: number;
  crashEvents?: number;
  syncWindowMs?: number;
  /** The most the delivery figure waits for the queue to empty after the last accept. */
  drainWindowMs?: number;
  log?: (line: string) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function startBenchServe(dataDir: string, image: string): Promise<ServeProcess> {
  return startServe(dataDir, {
    args: ['--image', image, '--memory-budget', String(64 * MEMORY_SIZE_MB)],
    failSignal: 'SIGTERM',
  });
}

/** One Event invoke; throws unless it answers 202. Resolves the request id the 202 carries. */
async function invokeEvent(dispatcher: Pool, functionName: string): Promise<string> {
  const res = await dispatcher.request({
    method: 'POST',
    path: `${FUNCTIONS}/${functionName}/invocations`,
    body: PAYLOAD,
    headers: { 'x-amz-invocation-type': 'Event' },
  });
  const text = await res.body.text();
  if (res.statusCode !== 202) throw new Error(`Event invoke of ${functionName} answered ${res.statusCode}: ${text}`);
  return String(res.headers['x-amzn-requestid']);
}

/** `count` Event invokes over `connections` connections; each one's latency and request id. */
async function sendEvents(url: string, functionName: string, count: number, connections: number) {
  const pool = new Pool(url, { connections, pipelining: 1 });
  const latencies: number[] = [];
  const requestIds: string[] = [];
  let next = 0;
  const started = performance.now();
  try {
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (next < count) {
          next++;
          const t0 = performance.now();
          requestIds.push(await invokeEvent(pool, functionName));
          latencies.push(performance.now() - t0);
        }
      }),
    );
  } finally {
    await pool.close();
  }
  return { latencies, requestIds, elapsedMs: performance.now() - started };
}

/** The rows of a function in async-events.db: its events not delivered yet. */
function queueDepth(db: DatabaseSync, functionName: string): number {
  return (db.prepare('SELECT COUNT(*) AS n FROM async_events WHERE function_name = ?').get(functionName) as { n: number }).n;
}

/** Every `START RequestId:` in the function's log files (one per attempt handed to its runtime), in order. */
function startedRequestIds(dataDir: string, functionName: string): string[] {
  const ids: string[] = [];
  for (const path of functionLogFiles(dataDir, functionName)) {
    for (const match of readFileSync(path, 'utf8').matchAll(/^START RequestId: (\S+) Version: /gm)) ids.push(match[1]!);
  }
  return ids;
}

export async function measureAsync(options: AsyncOptions): Promise<AsyncFigures> {
  const { image, events = 10_000, connections = 32, crashEvents = 500, syncWindowMs = 3_000, drainWindowMs = 5_000, log = () => {} } = options;
  const dataDir = await mkdtemp(join(tmpdir(), 'lambkin-bench-async-'));
  const servePids: number[] = [];
  let serve: ServeProcess | undefined;
  let client: Client | undefined;
  let db: DatabaseSync | undefined;
  let crashDataDir: string | undefined;
  const start = async (dir: string) => {
    serve = await startBenchServe(dir, image);
    servePids.push(serve.pid);
    client = new Client(serve.url, { pipelining: 1 });
    return serve;
  };

  let figures: Omit<AsyncFigures, 'leftContainers'> | undefined;
  let leftContainers = 0;
  try {
    log(`async: starting lambkin serve --image ${image}`);
    await start(dataDir);
    await apiCall(client!, 'PUT', `${FUNCTIONS}/${IMAGE_FUNCTION}/configuration`, { MemorySize: MEMORY_SIZE_MB, Timeout: 60 });
    await waitUntilReady(client!, IMAGE_FUNCTION);

    // 1. Sync throughput from 16 clients: the yardstick for the delivery rate, on the environments the worker will use.
    log(`async: sync throughput with ${WORKER_CONCURRENCY} clients, a ${syncWindowMs} ms window`);
    const syncInvokesPerSecond = await syncThroughput(serve!.url, WORKER_CONCURRENCY, syncWindowMs);

    // 2. Accepts, the worker delivering meanwhile.
    log(`async: ${events} Event invokes, ${connections} at once`);
    db = new DatabaseSync(join(dataDir, QUEUE_FILE), { readOnly: true });
    const sent = await sendEvents(serve!.url, IMAGE_FUNCTION, events, connections);
    const acceptEndedAt = performance.now();
    const queuedAtAcceptEnd = queueDepth(db, IMAGE_FUNCTION);

    // 3. The delivery rate once the accepts are over: until the queue is empty, or for drainWindowMs at most.
    log(`async: delivering the ${queuedAtAcceptEnd} events still queued (for ${drainWindowMs} ms at most)`);
    let queuedAtEnd = queuedAtAcceptEnd;
    while (queuedAtEnd > 0 && performance.now() - acceptEndedAt < drainWindowMs) {
      await sleep(10);
      queuedAtEnd = queueDepth(db, IMAGE_FUNCTION);
    }
    const drainMs = performance.now() - acceptEndedAt;
    db.close();
    db = undefined;
    const eventsPerSecond = ((queuedAtAcceptEnd - queuedAtEnd) * 1000) / drainMs;
    // The rest of the backlog stays behind in this data dir: the kill -9 run gets a serve and a data dir of its own.
    await client!.close().catch(() => undefined);
    log('async: stopping lambkin serve (SIGTERM)');
    await serve!.stop();
    serve = undefined;

    // 4. kill -9 mid-delivery, restart on the same data dir.
    log(`async: ${crashEvents} Event invokes of a 20 ms function, SIGKILL mid-delivery, restart`);
    crashDataDir = await mkdtemp(join(tmpdir(), 'lambkin-bench-async-crash-'));
    await start(crashDataDir);
    await createSlowFunction(client!);
    const crash = await sendEvents(serve!.url, SLOW_FUNCTION, crashEvents, connections);
    const accepted = new Set(crash.requestIds);
    const killUntil = Date.now() + 30_000;
    while (startedRequestIds(crashDataDir, SLOW_FUNCTION).length < crashEvents / 5) {
      if (Date.now() > killUntil) throw new Error(`${SLOW_FUNCTION} received fewer than ${crashEvents / 5} events in 30 s`);
      await sleep(5);
    }
    await client!.close().catch(() => undefined);
    const killed = serve!;
    await killed.stop('SIGKILL');
    const deliveredBeforeKill = new Set(startedRequestIds(crashDataDir, SLOW_FUNCTION).filter((id) => accepted.has(id))).size;
    // What a kill -9 leaves behind is the user's to clean up (or the next serve's); here, before the restart.
    await removeContainers(await containersOf(killed.pid));
    log(`async: killed after ${deliveredBeforeKill} of ${accepted.size} delivered; restarting`);
    const restartedAt = performance.now();
    await start(crashDataDir);
    const recoverUntil = Date.now() + 60_000;
    let starts: string[];
    for (;;) {
      starts = startedRequestIds(crashDataDir, SLOW_FUNCTION);
      const seen = new Set(starts);
      if ([...accepted].every((id) => seen.has(id)) || Date.now() > recoverUntil) break;
      await sleep(10);
    }
    const recoveryMs = performance.now() - restartedAt;
    const seen = new Set(starts.filter((id) => accepted.has(id)));
    figures = {
      image,
      accept: {
        ...summariseLatencies(sent.latencies),
        connections,
        eventsPerSecond: round((sent.requestIds.length * 1000) / sent.elapsedMs, 0),
        elapsedMs: round(sent.elapsedMs, 0),
      },
      delivery: {
        queuedAtAcceptEnd,
        queuedAtEnd,
        drainMs: round(drainMs, 0),
        eventsPerSecond: round(eventsPerSecond, 0),
        syncClients: WORKER_CONCURRENCY,
        syncWindowMs,
        syncInvokesPerSecond: round(syncInvokesPerSecond, 0),
        ratio: round(eventsPerSecond / syncInvokesPerSecond, 3),
      },
      kill: {
        accepted: accepted.size,
        deliveredBeforeKill,
        delivered: seen.size,
        lost: accepted.size - seen.size,
        duplicates: starts.filter((id) => accepted.has(id)).length - seen.size,
        recoveryMs: round(recoveryMs, 0),
      },
    };
  } finally {
    db?.close();
    await client?.close().catch(() => undefined);
    if (serve) {
      log('async: stopping lambkin serve (SIGTERM)');
      await serve.stop();
    }
    for (const pid of servePids) leftContainers += await sweepContainersOf(pid);
    await rm(dataDir, { recursive: true, force: true });
    if (crashDataDir) await rm(crashDataDir, { recursive: true, force: true });
  }
  return { ...figures!, leftContainers };
}

async function createSlowFunction(client: Client): Promise<void> {
  await apiCall(client, 'POST', FUNCTIONS, {
    FunctionName: SLOW_FUNCTION,
    Role: ROLE,
    Runtime: 'nodejs24.x',
    Handler: 'index.handler',
    MemorySize: SLOW_MEMORY_SIZE_MB,
    Timeout: 60,
    Code: { ZipFile: makeZip([{ name: 'index.js', content: SLOW_HANDLER }]).toString('base64') },
  });
  await waitUntilReady(client, SLOW_FUNCTION);
}

/**
 * Warm sync invokes per second from `clients` clients over a window, after as long a warm-up under the same load:
 * the environments are started, and their runtimes and the serve past their JIT warm-up (a few rounds were not
 * enough: on 2 cores the figure was half what it was later in the same run).
 */
async function syncThroughput(url: string, clients: number, windowMs: number): Promise<number> {
  const pool = new Pool(url, { connections: clients, pipelining: 1 });
  const load = async (ms: number) => {
    const started = performance.now();
    const end = started + ms;
    const counts = await Promise.all(
      Array.from({ length: clients }, async () => {
        let count = 0;
        while (performance.now() < end) {
          await invoke(pool, IMAGE_FUNCTION);
          count++;
        }
        return count;
      }),
    );
    return (counts.reduce((a, b) => a + b, 0) * 1000) / (performance.now() - started);
  };
  try {
    await load(windowMs);
    return await load(windowMs);
  } finally {
    await pool.close();
  }
}

// `node bench/async.ts`: this section alone, its figures as JSON on stdout.
if (import.meta.url === `file://${process.argv[1]}`) {
  const figures = await measureAsync({ image: 'lambkin-example/nodejs', log: (line) => process.stderr.write(`[bench] ${line}\n`) });
  process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
}
