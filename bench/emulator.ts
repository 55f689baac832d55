// The emulator in a running container (issue 3's figures):
//   warm latency  sequential invokes of a trivial handler through `docker run -p` and the emulator, keep-alive
//                 HTTP from the host: p50 and p99 (bar: p50 under 2 ms).
//   cold start    `docker run -d -p ...` to the first successful invoke answer, against a bare
//                 `docker run --rm --entrypoint node IMAGE -e 0` of the same image to its exit, interleaved;
//                 medians and their ratio (bar: ≤ 1.3).
import { execa } from 'execa';
import { createServer } from 'node:net';
import { Client, request } from 'undici';
import { bareDockerRun, compareColdStarts, summariseLatencies, type ColdStartComparison, type LatencySummary } from './compare.ts';

/** The README's example function: a trivial handler on lambkin/nodejs:24, built by `npm run images`. */
export const EMULATOR_BENCH_IMAGE = 'lambkin-example/nodejs';
const INVOKE_PATH = '/2015-03-31/functions/function/invocations';
const LABEL = 'lambkin.bench=1';

export interface EmulatorFigures {
  image: string;
  warm: LatencySummary;
  coldStart: ColdStartComparison;
}

/** A free loopback port, chosen before `docker run` so no `docker port` call sits inside the timed span. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function removeContainer(id: string): Promise<void> {
  await execa('docker', ['rm', '-f', id], { reject: false });
}

/** Polls the invoke path until it answers 200; connection refusals and resets while booting are expected. */
async function firstAnswer(port: number, deadline: number): Promise<void> {
  for (;;) {
    try {
      const res = await request(`http://127.0.0.1:${port}${INVOKE_PATH}`, { method: 'POST', body: '{}' });
      await res.body.dump();
      if (res.statusCode === 200) return;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) throw new Error(`no answer on port ${port} within the cold-start limit`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function coldStartOurs(image: string): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const { stdout } = await execa('docker', ['run', '-d', '--label', LABEL, '-p', `127.0.0.1:${port}:8080`, image]);
  try {
    await firstAnswer(port, started + 30_000);
    return performance.now() - started;
  } finally {
    await removeContainer(stdout.trim());
  }
}

async function warmLatency(image: string, invokes: number) {
  const port = await freePort();
  const { stdout } = await execa('docker', ['run', '-d', '--label', LABEL, '-p', `127.0.0.1:${port}:8080`, image]);
  const client = new Client(`http://127.0.0.1:${port}`, { pipelining: 1 });
  try {
    await firstAnswer(port, performance.now() + 30_000);
    const call = async () => {
      const res = await client.request({ method: 'POST', path: INVOKE_PATH, body: '{"name":"bench"}' });
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`invoke answered ${res.statusCode}`);
    };
    for (let i = 0; i < 200; i++) await call();
    const samples: number[] = [];
    for (let i = 0; i < invokes; i++) {
      const t0 = performance.now();
      await call();
      samples.push(performance.now() - t0);
    }
    return summariseLatencies(samples);
  } finally {
    await client.close();
    await removeContainer(stdout.trim());
  }
}

export async function measureEmulator(options: { image: string; invokes?: number; starts?: number; log?: (line: string) => void }): Promise<EmulatorFigures> {
  const { image, invokes = 2000, starts = 7, log = () => {} } = options;
  log(`emulator: warm latency, ${invokes} sequential invokes through ${image}`);
  const warm = await warmLatency(image, invokes);

  log(`emulator: cold start, ${starts} starts each (one unmeasured first), interleaved with bare docker run`);
  const coldStart = await compareColdStarts(
    starts,
    () => coldStartOurs(image),
    () => bareDockerRun(image, LABEL),
  );
  return { image, warm, coldStart };
}
