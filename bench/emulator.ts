// The emulator in a running container (issue 3's figures):
//   warm latency  sequential invokes of a trivial handler through `docker run -p` and the emulator, keep-alive
//                 HTTP from the host: p50 and p99 (bar: p50 under 2 ms).
//   cold start    `docker run -d -p ...` to the first successful invoke answer, against a bare
//                 `docker run --rm --entrypoint node IMAGE -e 0` of the same image to its exit, interleaved;
//                 medians and their ratio (bar: ≤ 1.3).
import { execa } from 'execa';
import { createServer } from 'node:net';
import { Client, request } from 'undici';
import { median, percentile, round } from './stats.mjs';

/** The README's example function: a trivial handler on lambkin/nodejs:24, built by `npm run images`. */
export const EMULATOR_BENCH_IMAGE = 'lambkin-example/nodejs';
const INVOKE_PATH = '/2015-03-31/functions/function/invocations';
const LABEL = 'lambkin.bench=1';

export interface EmulatorFigures {
  image: string;
  warm: { invokes: number; p50Ms: number; p99Ms: number; meanMs: number };
  coldStart: { starts: number; oursMs: number; bareDockerRunMs: number; ratio: number; oursSamples: number[]; bareSamples: number[] };
}

const roundMs = (ms: number) => round(ms, 2);

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

async function coldStartBare(image: string): Promise<number> {
  const started = performance.now();
  await execa('docker', ['run', '--rm', '--label', LABEL, '--entrypoint', 'node', image, '-e', '0']);
  return performance.now() - started;
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
    samples.sort((a, b) => a - b);
    return {
      invokes,
      p50Ms: roundMs(percentile(samples, 50)),
      p99Ms: roundMs(percentile(samples, 99)),
      meanMs: roundMs(samples.reduce((a, b) => a + b, 0) / samples.length),
    };
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
  await coldStartBare(image);
  await coldStartOurs(image);
  const oursSamples: number[] = [];
  const bareSamples: number[] = [];
  for (let i = 0; i < starts; i++) {
    // Alternate who goes first, so drift hits both alike.
    if (i % 2 === 0) {
      bareSamples.push(await coldStartBare(image));
      oursSamples.push(await coldStartOurs(image));
    } else {
      oursSamples.push(await coldStartOurs(image));
      bareSamples.push(await coldStartBare(image));
    }
  }
  const oursMs = median(oursSamples);
  const bareDockerRunMs = median(bareSamples);
  return {
    image,
    warm,
    coldStart: {
      starts,
      oursMs: roundMs(oursMs),
      bareDockerRunMs: roundMs(bareDockerRunMs),
      ratio: round(oursMs / bareDockerRunMs, 3),
      oursSamples: oursSamples.map(roundMs),
      bareSamples: bareSamples.map(roundMs),
    },
  };
}
