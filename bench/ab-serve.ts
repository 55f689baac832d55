// `lambkin serve` of two checkouts, measured side by side: warm invoke latency and cold start, interleaved (batches
// alternate between A and B, so a machine that slows down or speeds up mid-run weighs on both alike). For a change
// on the invoke path whose bar is "within N% of before": the other checkout is before, this one after.
//   git worktree add /tmp/before <rev> && (cd /tmp/before && npm ci && npm run build)
//   npm run build && npx node bench/ab-serve.ts /tmp/before .
// Both serve `--image lambkin-example/nodejs` (npm run images) with a 1 s keep-alive, on ports of their own.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa, type ResultPromise } from 'execa';
import { Client } from 'undici';

const [beforeDir, afterDir = '.'] = process.argv.slice(2);
if (!beforeDir) {
  console.error('usage: npx node bench/ab-serve.ts BEFORE_CHECKOUT [AFTER_CHECKOUT]');
  process.exit(2);
}
const IMAGE = 'lambkin-example/nodejs';
const INVOKE_PATH = '/2015-03-31/functions/function/invocations';
const WARM_BATCHES = 10;
const WARM_BATCH = 200;
const COLD_STARTS = 9;

interface Side {
  name: string;
  child: ResultPromise;
  client: Client;
  dataDir: string;
  warm: number[];
  cold: number[];
}

async function startServe(name: string, checkout: string): Promise<Side> {
  const dataDir = await mkdtemp(join(tmpdir(), `lambkin-ab-${name}-`));
  const node = resolve(checkout, 'node_modules/node/bin/node');
  const child = execa(node, [resolve(checkout, 'dist/cli/lambkin.mjs'), 'serve', '--port', '0', '--data-dir', dataDir, '--image', IMAGE, '--keep-alive', '1'], {
    all: true,
    buffer: false,
    reject: false,
    forceKillAfterDelay: false,
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`${name}: serve did not start:\n${text}`)), 60_000);
    child.all!.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const match = /listening on (http:\/\/\S+)/.exec(text);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1]!);
      }
    });
  });
  return { name, child, client: new Client(url, { pipelining: 1 }), dataDir, warm: [], cold: [] };
}

async function invoke(side: Side): Promise<number> {
  const started = performance.now();
  const response = await side.client.request({ method: 'POST', path: INVOKE_PATH, body: '{}' });
  await response.body.text();
  if (response.statusCode !== 200) throw new Error(`${side.name}: invoke answered ${response.statusCode}`);
  return performance.now() - started;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

const sides = [await startServe('before', beforeDir), await startServe('after', afterDir)];
try {
  for (const side of sides) for (let i = 0; i < 200; i++) await invoke(side);
  for (let batch = 0; batch < WARM_BATCHES; batch++) {
    for (const side of batch % 2 ? [...sides].reverse() : sides) {
      for (let i = 0; i < WARM_BATCH; i++) side.warm.push(await invoke(side));
    }
  }
  for (let start = 0; start < COLD_STARTS; start++) {
    for (const side of start % 2 ? [...sides].reverse() : sides) {
      await sleep(3_000); // past the 1 s keep-alive: the environment is gone
      side.cold.push(await invoke(side));
    }
  }
  const [before, after] = sides as [Side, Side];
  const line = (what: string, a: number, b: number) =>
    console.log(`${what.padEnd(22)} before ${a.toFixed(2)} ms   after ${b.toFixed(2)} ms   after/before ${(b / a).toFixed(3)}`);
  line(`warm p50 (${before.warm.length})`, median(before.warm), median(after.warm));
  line(`cold start (${before.cold.length})`, median(before.cold), median(after.cold));
} finally {
  for (const side of sides) {
    await side.client.close().catch(() => {});
    side.child.kill('SIGTERM');
    await side.child;
    await rm(side.dataDir, { recursive: true, force: true });
  }
}
