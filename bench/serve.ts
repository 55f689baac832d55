// `lambkin serve` measured from the outside, as a user's client sees it: bin/lambkin serve as a child process
// (--port 0, a temp data dir, --image IMG registered as the function `function`, --keep-alive 1 so an idle
// environment goes away a second after its last invoke), driven over keep-alive HTTP (undici) on the Invoke API,
// POST /2015-03-31/functions/NAME/invocations. Settings go through the Lambda API itself (raw JSON requests).
//
//   warm latency  sequential invokes of `function` after a warm-up: p50 and p99 (bar, in run.mjs: p50 within
//                 1 ms of the emulator's warm p50 measured in the same run).
//   cold start    an invoke with no environment (the previous one idled out: we wait until the serve owns no
//                 container), against a bare `docker run --rm --entrypoint node IMAGE -e 0` of the same image,
//                 interleaved; medians and their ratio (bar: ≤ 1.2).
//   throughput    warm invokes per second over a fixed window with 1, 2 and 4 concurrent clients, each of which
//                 the pool gives its own environment.
//   burst         BURST invokes sent at once to a cold function: all must succeed; the time to the last answer,
//                 and the environments that served them (distinct container hostnames returned by a small zip
//                 function of our own, cross-checked against the most containers the serve owned at once).
//   reserved      100 invokes at once against reserved concurrency 10: the exact throttle count, and the time to
//                 drain all 100 with retrying clients (reserved-burst.ts).
//   alias         warm invokes through an alias (`function:live`, pointing at published version 1, a snapshot of the
//                 same function) against $LATEST, in interleaved batches: both p50s and what the alias adds (bar, in
//                 run.mjs: at most 0.05 ms). Each side has its own warm environment (environments are per version).
//
// The function gets MemorySize 10240 MB: CPU follows memory (1769 MB per vCPU, capped at the engine's cores), and
// the emulator and the bare `docker run` it is compared with run without a CPU limit. The serve is stopped with
// SIGTERM at the end, also on failure, and whatever container it still owned is removed and counted.
import Dockerode from 'dockerode';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Pool } from 'undici';
import { FUNCTION_LABEL, OWNER_HOST_LABEL, OWNER_PID_LABEL } from '../src/environments/labels.ts';
import { startServe, type ServeProcess } from '../tools/serve-process.ts';
import { makeZip } from '../tools/zip.ts';
import { apiCall, FUNCTIONS, invoke, waitUntilReady } from './lambda-http.ts';
import { measureReservedBurst, type ReservedBurstFigures } from './reserved-burst.ts';
import { bareDockerRun, compareColdStarts, summariseLatencies, type ColdStartComparison, type LatencySummary } from './compare.ts';
import { round } from './stats.mjs';

const IMAGE_FUNCTION = 'function';
const BURST_FUNCTION = 'bench-whoami';
const ROLE = 'arn:aws:iam::123456789012:role/lambkin-bench';
const MEMORY_SIZE_MB = 10_240;
const TIMEOUT_SECONDS = 60;
const LABEL = 'lambkin.bench=1';

const WHOAMI = `
const { hostname } = require('node:os');
exports.handler = async () => ({ pid: process.pid, hostname: hostname() });
`;

export interface ServeFigures {
  image: string;
  memorySizeMb: number;
  warm: LatencySummary;
  coldStart: ColdStartComparison;
  throughput: { environments: number; windowMs: number; invokes: number; invokesPerSecond: number; containers: number }[];
  burst: { invokes: number; succeeded: number; failed: number; lastAnswerMs: number; environments: number; maxContainers: number };
  reservedBurst: ReservedBurstFigures;
  alias: AliasFigures;
  /** Containers the serve still owned after it stopped (removed by the bench); 0 when the shutdown is clean. */
  leftContainers: number;
}

export interface AliasFigures {
  invokes: number;
  latestP50Ms: number;
  aliasP50Ms: number;
  /** aliasP50Ms − latestP50Ms. */
  addedMs: number;
}

export interface ServeOptions {
  image: string;
  warmInvokes?: number;
  starts?: number;
  windowMs?: number;
  burst?: number;
  log?: (line: string) => void;
}

const roundMs = (ms: number) => round(ms, 2);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function startBenchServe(dataDir: string, image: string): Promise<ServeProcess> {
  return startServe(dataDir, {
    // The memory budget is lifted: 50 environments of a 10 GB function are limits, not allocations, on this machine.
    args: ['--image', image, '--keep-alive', '1', '--memory-budget', String(64 * MEMORY_SIZE_MB)],
    failSignal: 'SIGTERM',
  });
}

export async function measureServe(options: ServeOptions): Promise<ServeFigures> {
  const { image, warmInvokes = 2000, starts = 7, windowMs = 3000, burst = 50, log = () => {} } = options;
  const docker = new Dockerode();
  const dataDir = await mkdtemp(join(tmpdir(), 'lambkin-bench-serve-'));
  let serve: ServeProcess | undefined;
  let client: Client | undefined;
  /** The serve's containers: its environments' alone, or also the network sandboxes it keeps ready. */
  const owned = async (environmentsOnly = true): Promise<string[]> => {
    if (!serve) return [];
    const labels = [`${OWNER_PID_LABEL}=${serve.pid}`, `${OWNER_HOST_LABEL}=${hostname()}`];
    const containers = await docker.listContainers({ all: true, filters: { label: environmentsOnly ? [...labels, FUNCTION_LABEL] : labels } });
    return containers.map((container) => container.Id);
  };
  /** Until the serve owns no container: every environment idled out (keep-alive 1 s) and was removed. */
  const allGone = async () => {
    const until = Date.now() + 30_000;
    while ((await owned()).length > 0) {
      if (Date.now() > until) throw new Error('the serve still owns containers 30 s after its last invoke');
      await sleep(20);
    }
  };

  let figures: Omit<ServeFigures, 'leftContainers' | 'reservedBurst'> | undefined;
  let reservedBurst: ReservedBurstFigures | undefined;
  let leftContainers = 0;
  try {
    log(`serve: starting lambkin serve --image ${image} --keep-alive 1`);
    serve = await startBenchServe(dataDir, image);
    client = new Client(serve.url, { pipelining: 1 });
    await apiCall(client, 'PUT', `${FUNCTIONS}/${IMAGE_FUNCTION}/configuration`, { MemorySize: MEMORY_SIZE_MB, Timeout: TIMEOUT_SECONDS });
    await waitUntilReady(client, IMAGE_FUNCTION);
    await apiCall(client, 'POST', FUNCTIONS, {
      FunctionName: BURST_FUNCTION,
      Role: ROLE,
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      MemorySize: MEMORY_SIZE_MB,
      Timeout: TIMEOUT_SECONDS,
      Code: { ZipFile: makeZip([{ name: 'index.js', content: WHOAMI }]).toString('base64') },
    });
    await waitUntilReady(client, BURST_FUNCTION);

    // 1. Warm latency.
    log(`serve: warm latency, ${warmInvokes} sequential invokes after 200 unmeasured`);
    for (let i = 0; i < 200; i++) await invoke(client, IMAGE_FUNCTION);
    const samples: number[] = [];
    for (let i = 0; i < warmInvokes; i++) {
      const t0 = performance.now();
      await invoke(client, IMAGE_FUNCTION);
      samples.push(performance.now() - t0);
    }
    const warm = summariseLatencies(samples);

    // 1b. The same, through an alias of a published version, interleaved with $LATEST.
    log(`serve: warm latency through an alias against $LATEST, ${warmInvokes} each, interleaved`);
    const alias = await measureAlias(client, warmInvokes);

    // 2. Cold start against a bare docker run, interleaved (who goes first alternates).
    log(`serve: cold start, ${starts} starts each (one unmeasured first), interleaved with bare docker run`);
    const coldOurs = async () => {
      await allGone();
      const t0 = performance.now();
      await invoke(client!, IMAGE_FUNCTION);
      return performance.now() - t0;
    };
    const coldStart = await compareColdStarts(starts, coldOurs, () => bareDockerRun(image, LABEL));

    // 3. Warm throughput with 1, 2 and 4 environments.
    const throughput: ServeFigures['throughput'] = [];
    for (const environments of [1, 2, 4]) {
      log(`serve: throughput with ${environments} concurrent client(s), a ${windowMs} ms window`);
      const pool = new Pool(serve.url, { connections: environments, pipelining: 1 });
      try {
        // Warm-up: rounds of `environments` invokes at once start that many environments and warm them.
        for (let i = 0; i < 50; i++) await Promise.all(Array.from({ length: environments }, () => invoke(pool, IMAGE_FUNCTION)));
        const end = performance.now() + windowMs;
        const started = performance.now();
        const counts = await Promise.all(
          Array.from({ length: environments }, async () => {
            let count = 0;
            while (performance.now() < end) {
              await invoke(pool, IMAGE_FUNCTION);
              count++;
            }
            return count;
          }),
        );
        const elapsed = performance.now() - started;
        const invokes = counts.reduce((a, b) => a + b, 0);
        const containers = (await owned()).length;
        throughput.push({ environments, windowMs, invokes, invokesPerSecond: round((invokes * 1000) / elapsed, 0), containers });
      } finally {
        await pool.close();
      }
    }

    // 4. A burst at a cold function.
    log(`serve: ${burst} invokes at once to a cold function`);
    await allGone();
    const burstPool = new Pool(serve.url, { connections: burst, pipelining: 1 });
    let maxContainers = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        maxContainers = Math.max(maxContainers, (await owned()).length);
        await sleep(50);
      }
    })();
    try {
      const t0 = performance.now();
      const results = await Promise.allSettled(Array.from({ length: burst }, () => invoke(burstPool, BURST_FUNCTION)));
      const lastAnswerMs = performance.now() - t0;
      watching = false;
      await watcher;
      maxContainers = Math.max(maxContainers, (await owned()).length);
      const answers = results.flatMap((result) => (result.status === 'fulfilled' ? [JSON.parse(result.value) as { hostname: string }] : []));
      const failures = results.flatMap((result) => (result.status === 'rejected' ? [String((result.reason as Error).message)] : []));
      if (failures.length > 0) log(`serve: ${failures.length} burst invokes failed, the first: ${failures[0]}`);
      figures = {
        image,
        memorySizeMb: MEMORY_SIZE_MB,
        warm,
        alias,
        coldStart,
        throughput,
        burst: {
          invokes: burst,
          succeeded: answers.length,
          failed: failures.length,
          lastAnswerMs: roundMs(lastAnswerMs),
          environments: new Set(answers.map((answer) => answer.hostname)).size,
          maxContainers,
        },
      };
    } finally {
      watching = false;
      await watcher.catch(() => undefined);
      await burstPool.close();
    }

    // 5. Issue 5's burst against reserved concurrency (see reserved-burst.ts); 1 GB environments.
    log('serve: 100 invokes at once against reserved concurrency 10, then drained with retries');
    reservedBurst = await measureReservedBurst(client, serve.url, { memorySizeMb: 1_024 });
  } finally {
    await client?.close().catch(() => undefined);
    if (serve) {
      log('serve: stopping lambkin serve (SIGTERM)');
      await serve.stop();
      const left = await owned(false);
      leftContainers = left.length;
      await Promise.all(
        left.map((id) =>
          docker
            .getContainer(id)
            .remove({ force: true })
            .catch(() => undefined),
        ),
      );
    }
    await rm(dataDir, { recursive: true, force: true });
  }
  return { ...figures!, reservedBurst: reservedBurst!, leftContainers };
}

/**
 * Publishes `function` as version 1, points the alias `live` at it, warms both sides, then measures them in
 * alternating batches so drift on the machine hits both alike.
 */
export async function measureAlias(client: Client, invokes: number): Promise<AliasFigures> {
  const version = (await apiCall(client, 'POST', `${FUNCTIONS}/${IMAGE_FUNCTION}/versions`, {})) as { Version: string };
  await apiCall(client, 'POST', `${FUNCTIONS}/${IMAGE_FUNCTION}/aliases`, { Name: 'live', FunctionVersion: version.Version });
  const target = { latest: IMAGE_FUNCTION, alias: `${IMAGE_FUNCTION}:live` };
  for (let i = 0; i < 200; i++) {
    await invoke(client, target.latest);
    await invoke(client, target.alias);
  }
  const samples = { latest: [] as number[], alias: [] as number[] };
  const BATCH = 100;
  for (let done = 0; done < invokes; done += BATCH) {
    const order = (done / BATCH) % 2 === 0 ? (['latest', 'alias'] as const) : (['alias', 'latest'] as const);
    for (const side of order) {
      for (let i = 0; i < BATCH; i++) {
        const t0 = performance.now();
        await invoke(client, target[side]);
        samples[side].push(performance.now() - t0);
      }
    }
  }
  const latestP50Ms = summariseLatencies(samples.latest).p50Ms;
  const aliasP50Ms = summariseLatencies(samples.alias).p50Ms;
  return { invokes: samples.alias.length, latestP50Ms, aliasP50Ms, addedMs: roundMs(aliasP50Ms - latestP50Ms) };
}
