// What `lambkin serve --auth sigv4` costs on the invoke path, measured from the outside: two `lambkin serve` child
// processes side by side (--port 0, data dirs of their own), one with `--auth sigv4 --auth-keys` (a keys file holding
// the account root's key), one without --auth, each with the same trivial zip function (nodejs24.x, MemorySize 1024).
// Invokes over a keep-alive undici Client to each, every request signed by the SDK's own signer (@smithy/signature-v4,
// service lambda) just before it is sent and the clock started after the signing; the open serve gets signed requests
// too (it ignores them), so both sides send the same bytes and the figure is what the server's verification and
// authorisation add, not the client's signing or the headers' size. Both warmed up, then batches of BATCH invokes
// interleaved (who goes first alternates) so machine noise and drift hit both alike. Warm p50 of each and the
// difference; that over ROUNDS rounds, each with a fresh pair of serves, and the median difference reported (bar, in
// run.mjs: verification adds ≤ 0.1 ms). Beside it, each serve's own CPU time per invoke (cpu-usage.ts): what
// verification costs in work, without the latency noise of two processes on a shared 2-core machine.
//
// At the end of each round both serves are stopped (SIGTERM), whatever containers they still owned removed and
// counted, and the data dirs removed.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignatureV4 } from '@smithy/signature-v4';
import { Client } from 'undici';
import { startServe, type ServeProcess } from '../tools/serve-process.ts';
import { makeZip } from '../tools/zip.ts';
import { cpuWindow } from './cpu-usage.ts';
import { FUNCTIONS, waitUntilReady } from './lambda-http.ts';
import { stopServeAndSweep } from './serve-containers.ts';
import { median, round } from './stats.mjs';
import { Sha256 } from '../test/support/node-sha256.ts';

const FUNCTION = 'bench-auth';
const ACCOUNT = '123456789012';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/lambkin-bench`;
const MEMORY_SIZE_MB = 1_024;
const KEY = { accessKeyId: 'AKIALAMBKINBENCH', secretAccessKey: 'lambkin-bench-secret' };
const WARM_UP_INVOKES = 300;
/**
 * Rounds, each with a fresh pair of serves: one pair's difference carries that pair's luck (which core each process and
 * its container landed on, measured: two serves both without --auth differ by −0.06 to +0.02 ms from one pair to the
 * next), the median of five much less of it.
 */
const ROUNDS = 5;
const BATCH = 100;
const PAYLOAD = '{"name":"bench"}';
const HANDLER = 'exports.handler = async (event) => ({ ok: true, event });\n';

/** One round's pair of serves. */
export interface RoundFigures {
  signedP50Ms: number;
  openP50Ms: number;
  addedMs: number;
  /** Each serve's own CPU time (all of its threads) per invoke over the timed invokes, and the difference. */
  signedCpuMs: number;
  openCpuMs: number;
  addedCpuMs: number;
}

export interface AuthFigures {
  memorySizeMb: number;
  /** Per side, per round. */
  invokes: number;
  /** Warm invoke p50 through `lambkin serve --auth sigv4`, signed requests. */
  signedP50Ms: number;
  /** The same through `lambkin serve` without --auth, unsigned requests, interleaved. */
  openP50Ms: number;
  /** The median over the rounds of each round's signedP50Ms − openP50Ms (the p50s above: their medians). */
  addedMs: number;
  /** The median over the rounds of what the signed serve spent in CPU per invoke beyond the open one. */
  addedCpuMs: number;
  rounds: RoundFigures[];
  leftContainers: number;
}

export interface AuthOptions {
  invokes?: number;
  rounds?: number;
  log?: (line: string) => void;
}

/** A JSON call to the Lambda API, signed when `signer` is given; throws unless it answers 2xx. */
async function call(client: Client, host: string, signer: Signer | undefined, method: 'GET' | 'POST', path: string, body?: object): Promise<unknown> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  const headers = signer ? await signer(method, path, text ?? '') : { 'content-type': 'application/json' };
  const res = await client.request({ method, path, headers: { ...headers, host }, ...(text !== undefined ? { body: text } : {}) });
  const answer = await res.body.text();
  if (res.statusCode < 200 || res.statusCode > 299) throw new Error(`${method} ${path} answered ${res.statusCode}: ${answer}`);
  return answer ? JSON.parse(answer) : undefined;
}

type Signer = (method: string, path: string, body: string) => Promise<Record<string, string>>;

/** Headers for a request to `host` signed with KEY, as the SDK signs one. */
function signerFor(host: string): Signer {
  const signer = new SignatureV4({ service: 'lambda', region: 'us-east-1', credentials: KEY, sha256: Sha256 });
  const [hostname, port] = host.split(':');
  return async (method, path, body) => {
    const signed = await signer.sign({
      method,
      protocol: 'http:',
      hostname: hostname!,
      port: Number(port),
      path,
      query: {},
      headers: { host, 'content-type': 'application/json' },
      body,
    });
    const { host: _, ...headers } = signed.headers;
    return headers;
  };
}

async function createFunction(client: Client, host: string, signer: Signer | undefined): Promise<void> {
  await call(client, host, signer, 'POST', FUNCTIONS, {
    FunctionName: FUNCTION,
    Role: ROLE,
    Runtime: 'nodejs24.x',
    Handler: 'index.handler',
    MemorySize: MEMORY_SIZE_MB,
    Timeout: 30,
    Code: { ZipFile: makeZip([{ name: 'index.js', content: HANDLER }]).toString('base64') },
  });
  if (!signer) return waitUntilReady(client, FUNCTION);
  // waitUntilReady's GetFunction is unsigned: poll signed here.
  for (const until = Date.now() + 120_000; Date.now() < until; ) {
    const { Configuration } = (await call(client, host, signer, 'GET', `${FUNCTIONS}/${FUNCTION}`)) as {
      Configuration: { State: string; LastUpdateStatus: string };
    };
    if (Configuration.State === 'Active' && Configuration.LastUpdateStatus === 'Successful') return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${FUNCTION} did not become Active`);
}

/** One signed invoke: the time from sending (after signing) to the whole answer. */
async function timedInvoke(client: Client, host: string, signer: Signer): Promise<number> {
  const path = `${FUNCTIONS}/${FUNCTION}/invocations`;
  const headers = await signer('POST', path, PAYLOAD);
  const t0 = performance.now();
  const res = await client.request({ method: 'POST', path, headers: { ...headers, host }, body: PAYLOAD });
  const text = await res.body.text();
  const elapsed = performance.now() - t0;
  if (res.statusCode !== 200 || res.headers['x-amz-function-error']) throw new Error(`invoke answered ${res.statusCode}: ${text}`);
  return elapsed;
}

export async function measureAuth(options: AuthOptions = {}): Promise<AuthFigures> {
  const { invokes = 2_000, rounds = ROUNDS, log = () => {} } = options;
  const measured: RoundFigures[] = [];
  let leftContainers = 0;
  for (let round = 0; round < rounds; round++) {
    const { figures, left } = await measureRound(round, invokes, (line) => log(`auth (round ${round + 1} of ${rounds}): ${line}`));
    leftContainers += left;
    if (figures) measured.push(figures);
  }
  return {
    memorySizeMb: MEMORY_SIZE_MB,
    invokes,
    signedP50Ms: round(median(measured.map((r) => r.signedP50Ms)), 3),
    openP50Ms: round(median(measured.map((r) => r.openP50Ms)), 3),
    addedMs: round(median(measured.map((r) => r.addedMs)), 3),
    addedCpuMs: round(median(measured.map((r) => r.addedCpuMs)), 3),
    rounds: measured,
    leftContainers,
  };
}

/** One round: a fresh pair of serves (who starts first alternates), warmed up, then the interleaved invokes. */
async function measureRound(roundIndex: number, invokes: number, log: (line: string) => void): Promise<{ figures?: RoundFigures; left: number }> {
  const dirs = await Promise.all([mkdtemp(join(tmpdir(), 'lambkin-bench-auth-')), mkdtemp(join(tmpdir(), 'lambkin-bench-open-'))]);
  const [authDir, openDir] = dirs as [string, string];
  const keysFile = join(authDir, 'keys.json');
  await writeFile(keysFile, JSON.stringify([{ ...KEY, accountId: ACCOUNT, principalArn: `arn:aws:iam::${ACCOUNT}:root` }]));
  const serves: ServeProcess[] = [];
  const clients: Client[] = [];
  let figures: RoundFigures | undefined;
  let left = 0;
  try {
    log('starting lambkin serve --auth sigv4 and lambkin serve without --auth');
    const budget = ['--memory-budget', String(4 * MEMORY_SIZE_MB)];
    const startSigned = () => startServe(authDir, { args: ['--auth', 'sigv4', '--auth-keys', keysFile, ...budget], failSignal: 'SIGTERM' });
    const startOpen = () => startServe(openDir, { args: budget, failSignal: 'SIGTERM' });
    let signedServe: ServeProcess;
    let openServe: ServeProcess;
    if (roundIndex % 2 === 0) {
      signedServe = await startSigned();
      serves.push(signedServe);
      openServe = await startOpen();
      serves.push(openServe);
    } else {
      openServe = await startOpen();
      serves.push(openServe);
      signedServe = await startSigned();
      serves.push(signedServe);
    }
    const signedHost = new URL(signedServe.url).host;
    const signed = new Client(signedServe.url, { pipelining: 1 });
    const open = new Client(openServe.url, { pipelining: 1 });
    clients.push(signed, open);
    const signer = signerFor(signedHost);
    await createFunction(signed, signedHost, signer);
    await createFunction(open, new URL(openServe.url).host, undefined);

    log(`${WARM_UP_INVOKES} warm-up invokes each, then ${invokes} each in interleaved batches of ${BATCH}`);
    // The open serve gets the same signed requests (it ignores the signature): both sides send the same bytes, and
    // the client does the same work, so the difference is the server's verification and authorisation alone.
    const openHost = new URL(openServe.url).host;
    const openSigner = signerFor(openHost);
    const sides = { signed: () => timedInvoke(signed, signedHost, signer), open: () => timedInvoke(open, openHost, openSigner) };
    for (let i = 0; i < WARM_UP_INVOKES; i++) {
      await sides.signed();
      await sides.open();
    }
    const samples = { signed: [] as number[], open: [] as number[] };
    // CPU time too: a serve uses CPU only while it works, so over the whole interleaved run each one's total is its
    // cost for its own invokes, a figure that does not depend on how long the other processes kept it waiting.
    const cpu = { signed: cpuWindow(signedServe.pid), open: cpuWindow(openServe.pid) };
    for (let done = 0; done < invokes; done += BATCH) {
      const order = (done / BATCH) % 2 === 0 ? (['signed', 'open'] as const) : (['open', 'signed'] as const);
      for (const side of order) for (let i = 0; i < BATCH; i++) samples[side].push(await sides[side]());
    }
    const signedCpuMs = cpu.signed.stop().processMs / samples.signed.length;
    const openCpuMs = cpu.open.stop().processMs / samples.open.length;
    const signedP50Ms = median(samples.signed);
    const openP50Ms = median(samples.open);
    figures = {
      signedP50Ms: round(signedP50Ms, 3),
      openP50Ms: round(openP50Ms, 3),
      addedMs: round(signedP50Ms - openP50Ms, 3),
      signedCpuMs: round(signedCpuMs, 3),
      openCpuMs: round(openCpuMs, 3),
      addedCpuMs: round(signedCpuMs - openCpuMs, 3),
    };
    log(
      `signed p50 ${figures.signedP50Ms} ms, open ${figures.openP50Ms} ms: +${figures.addedMs} ms; ` +
        `serve CPU per invoke ${figures.signedCpuMs} vs ${figures.openCpuMs} ms: +${figures.addedCpuMs} ms`,
    );
  } finally {
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
    if (serves.length > 0) log('stopping both serves (SIGTERM)');
    for (const serve of serves) left += await stopServeAndSweep(serve);
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  }
  return { ...(figures ? { figures } : {}), left };
}

// `node bench/auth.ts`: this section alone, its figures as JSON on stdout.
if (import.meta.url === `file://${process.argv[1]}`) {
  const figures = await measureAuth({ log: (line) => process.stderr.write(`[bench] ${line}\n`) });
  process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
}
