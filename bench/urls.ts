// Function URLs through `lambkin serve`, measured from the outside: bin/lambkin serve as a child process (--port 0, a
// data dir of its own), two zip functions (nodejs24.x, MemorySize 1024), each with a function URL (AuthType NONE)
// made with CreateFunctionUrlConfig, requests sent by Host (`<urlId>.lambda-url.us-east-1.localhost:<port>`) as a
// browser or curl sends them.
//
//   throughput  a function answering {statusCode: 200, body: 'ok'} behind a BUFFERED URL: requests per second through
//               the URL (GET, the answer's 200 and `ok` checked) beside Invoke API requests to the same function (the
//               same run, the same environments), from 1 and from 4 clients over keep-alive undici Pools. Each client
//               count: both warmed up, then ROUNDS windows of windowMs each, URL and Invoke interleaved (who goes
//               first alternates) so machine noise and drift hit both alike; the median window counts. URL over Invoke
//               (bar, in run.mjs: ≥ 0.9 at every client count): what the URL server's event building, routing and
//               response mapping cost beside the Invoke API's.
//   first byte  a RESPONSE_STREAM URL whose function (awslambda.streamifyResponse + HttpResponseStream.from) takes
//               Date.now() just before its first write and writes that as its first chunk, then waits 200 ms and
//               ends; the client takes its own Date.now() when the first body byte arrives. The container shares the
//               host's clock, so the difference is the delay from the function's first write to the client: the median
//               of STREAM_REQUESTS sequential requests after one unmeasured one (bar, in run.mjs: ≤ 5 ms). The
//               function's 200 ms wait shows the byte was not held back until the end.
//
// At the end the serve is stopped (SIGTERM), whatever containers it still owned removed and counted, and the data
// dir removed.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Pool } from 'undici';
import { startServe, type ServeProcess } from '../tools/serve-process.ts';
import { makeZip } from '../tools/zip.ts';
import { apiCall, FUNCTIONS, invoke, waitUntilReady } from './lambda-http.ts';
import { stopServeAndSweep } from './serve-containers.ts';
import { median, round } from './stats.mjs';

const BUFFERED_FUNCTION = 'bench-urls';
const STREAM_FUNCTION = 'bench-urls-stream';
const ROLE = 'arn:aws:iam::123456789012:role/lambkin-bench';
const MEMORY_SIZE_MB = 1_024;
const CLIENT_COUNTS = [1, 4];
const ROUNDS = 5;
const STREAM_REQUESTS = 30;
/** How long the streaming function waits after its first write before it ends. */
const STREAM_HOLD_MS = 200;

const BUFFERED_HANDLER = `
exports.handler = async () => ({ statusCode: 200, body: 'ok' });
`;
const STREAM_HANDLER = `
export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  const stream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 200, headers: { 'content-type': 'text/plain' } });
  const firstWriteAt = Date.now();
  stream.write(String(firstWriteAt));
  await new Promise((resolve) => setTimeout(resolve, ${STREAM_HOLD_MS}));
  stream.end();
});
`;

export interface UrlThroughput {
  clients: number;
  urlPerSecond: number;
  invokePerSecond: number;
  /** urlPerSecond / invokePerSecond. */
  ratio: number;
  urlRounds: number[];
  invokeRounds: number[];
}

export interface UrlsFigures {
  memorySizeMb: number;
  windowMs: number;
  rounds: number;
  throughput: UrlThroughput[];
  firstByte: {
    requests: number;
    /** Client's Date.now() at the first body byte − the function's Date.now() just before its first write. */
    p50Ms: number;
    maxMs: number;
    samplesMs: number[];
    /** Request sent → whole answer, median: at least the function's hold, so the first byte did not wait for the end. */
    wholeAnswerP50Ms: number;
    holdMs: number;
  };
  leftContainers: number;
}

export interface UrlsOptions {
  windowMs?: number;
  log?: (line: string) => void;
}

/** The urlId of a FunctionUrl `http://<urlId>.lambda-url.<region>.localhost:<port>/`. */
function urlHost(functionUrl: string): string {
  return new URL(functionUrl).host;
}

async function createFunction(client: Client, name: string, file: string, code: string): Promise<void> {
  await apiCall(client, 'POST', FUNCTIONS, {
    FunctionName: name,
    Role: ROLE,
    Runtime: 'nodejs24.x',
    Handler: 'index.handler',
    MemorySize: MEMORY_SIZE_MB,
    Timeout: 30,
    Code: { ZipFile: makeZip([{ name: file, content: code }]).toString('base64') },
  });
  await waitUntilReady(client, name);
}

/** CreateFunctionUrlConfig (AuthType NONE); the Host its FunctionUrl names. */
async function createUrl(client: Client, name: string, invokeMode: 'BUFFERED' | 'RESPONSE_STREAM'): Promise<string> {
  const created = (await apiCall(client, 'POST', `/2021-10-31/functions/${name}/url`, { AuthType: 'NONE', InvokeMode: invokeMode })) as {
    FunctionUrl: string;
  };
  return urlHost(created.FunctionUrl);
}

/** One GET through a BUFFERED URL; throws unless it answers 200 `ok`. */
async function urlRequest(pool: Pool, host: string): Promise<void> {
  const res = await pool.request({ method: 'GET', path: '/', headers: { host } });
  const text = await res.body.text();
  if (res.statusCode !== 200 || text !== 'ok') throw new Error(`function URL ${host} answered ${res.statusCode}: ${text}`);
}

/** Requests per second from `clients` clients, each sending one after another, over a window. */
async function window(clients: number, ms: number, send: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  const end = started + ms;
  const counts = await Promise.all(
    Array.from({ length: clients }, async () => {
      let count = 0;
      while (performance.now() < end) {
        await send();
        count++;
      }
      return count;
    }),
  );
  return (counts.reduce((a, b) => a + b, 0) * 1000) / (performance.now() - started);
}

async function measureThroughput(serveUrl: string, host: string, clients: number, windowMs: number): Promise<UrlThroughput> {
  const urlPool = new Pool(serveUrl, { connections: clients, pipelining: 1 });
  const invokePool = new Pool(serveUrl, { connections: clients, pipelining: 1 });
  const kinds = {
    url: () => window(clients, windowMs, () => urlRequest(urlPool, host)),
    invoke: () => window(clients, windowMs, () => invoke(invokePool, BUFFERED_FUNCTION)),
  };
  const rounds = { url: [] as number[], invoke: [] as number[] };
  try {
    // Warm-up: as many environments as clients, the connections open, the JIT warm on both paths.
    await kinds.invoke();
    await kinds.url();
    for (let i = 0; i < ROUNDS; i++) {
      const order = i % 2 === 0 ? (['url', 'invoke'] as const) : (['invoke', 'url'] as const);
      for (const kind of order) rounds[kind].push(await kinds[kind]());
    }
  } finally {
    await Promise.all([urlPool.close(), invokePool.close()]);
  }
  const urlPerSecond = median(rounds.url);
  const invokePerSecond = median(rounds.invoke);
  return {
    clients,
    urlPerSecond: round(urlPerSecond, 0),
    invokePerSecond: round(invokePerSecond, 0),
    ratio: round(urlPerSecond / invokePerSecond, 3),
    urlRounds: rounds.url.map((value) => round(value, 0)),
    invokeRounds: rounds.invoke.map((value) => round(value, 0)),
  };
}

/** One streamed request: the first byte's delay after the function's first write, and the whole answer's time. */
async function streamedRequest(client: Client, host: string): Promise<{ delayMs: number; wholeMs: number }> {
  const sent = performance.now();
  const res = await client.request({ method: 'GET', path: '/', headers: { host } });
  let firstByteAt: number | undefined;
  let text = '';
  for await (const chunk of res.body) {
    firstByteAt ??= Date.now();
    text += (chunk as Buffer).toString('utf8');
  }
  const wholeMs = performance.now() - sent;
  const firstWriteAt = Number(text);
  if (res.statusCode !== 200 || !Number.isFinite(firstWriteAt) || firstByteAt === undefined) {
    throw new Error(`streamed URL ${host} answered ${res.statusCode}: ${text}`);
  }
  return { delayMs: firstByteAt - firstWriteAt, wholeMs };
}

export async function measureUrls(options: UrlsOptions = {}): Promise<UrlsFigures> {
  const { windowMs = 1_000, log = () => {} } = options;
  const dataDir = await mkdtemp(join(tmpdir(), 'lambkin-bench-urls-'));
  let serve: ServeProcess | undefined;
  let client: Client | undefined;
  let figures: Omit<UrlsFigures, 'leftContainers'> | undefined;
  let leftContainers = 0;
  try {
    log('urls: starting lambkin serve');
    serve = await startServe(dataDir, { args: ['--memory-budget', String(16 * MEMORY_SIZE_MB)], failSignal: 'SIGTERM' });
    client = new Client(serve.url, { pipelining: 1 });
    await createFunction(client, BUFFERED_FUNCTION, 'index.js', BUFFERED_HANDLER);
    await createFunction(client, STREAM_FUNCTION, 'index.mjs', STREAM_HANDLER);
    const bufferedHost = await createUrl(client, BUFFERED_FUNCTION, 'BUFFERED');
    const streamHost = await createUrl(client, STREAM_FUNCTION, 'RESPONSE_STREAM');

    const throughput: UrlThroughput[] = [];
    for (const clients of CLIENT_COUNTS) {
      log(`urls: ${clients} client(s), function URL vs Invoke API, ${ROUNDS} interleaved rounds of ${windowMs} ms`);
      throughput.push(await measureThroughput(serve.url, bufferedHost, clients, windowMs));
    }

    log(`urls: first streamed byte, ${STREAM_REQUESTS} requests`);
    await streamedRequest(client, streamHost); // the cold start, unmeasured
    const samples: { delayMs: number; wholeMs: number }[] = [];
    for (let i = 0; i < STREAM_REQUESTS; i++) samples.push(await streamedRequest(client, streamHost));
    const delays = samples.map((sample) => sample.delayMs);

    figures = {
      memorySizeMb: MEMORY_SIZE_MB,
      windowMs,
      rounds: ROUNDS,
      throughput,
      firstByte: {
        requests: STREAM_REQUESTS,
        p50Ms: round(median(delays), 1),
        maxMs: Math.max(...delays),
        samplesMs: delays,
        wholeAnswerP50Ms: round(median(samples.map((sample) => sample.wholeMs)), 1),
        holdMs: STREAM_HOLD_MS,
      },
    };
  } finally {
    await client?.close().catch(() => undefined);
    if (serve) {
      log('urls: stopping lambkin serve (SIGTERM)');
      leftContainers = await stopServeAndSweep(serve);
    }
    await rm(dataDir, { recursive: true, force: true });
  }
  return { ...figures!, leftContainers };
}

// `node bench/urls.ts`: this section alone, its figures as JSON on stdout.
if (import.meta.url === `file://${process.argv[1]}`) {
  const figures = await measureUrls({ log: (line) => process.stderr.write(`[bench] ${line}\n`) });
  process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
}
