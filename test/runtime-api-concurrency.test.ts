// The Runtime API server's multi-concurrent mode (maxConcurrency, as Lambda Managed Instances run a function with
// AWS_LAMBDA_MAX_CONCURRENCY) against real runtime processes: a runtime of raw HTTP/1.1 connections
// (test/fixtures/handlers/concurrency-raw), and AWS's own aws-lambda-ric 4.x in its multi-concurrent mode (worker
// threads, each taking events as fast as they come: only the server keeps them to maxConcurrency).
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { awsLambdaRicCommand, installAwsLambdaRic, type AwsLambdaRicInstall } from '../tools/aws-lambda-ric.ts';
import { handlerFixtures, successJson } from './support/runtime-process.ts';
import { startThirdPartyRuntime, stopAllThirdPartyRuntimes, type ThirdPartyRuntime } from './support/third-party-runtime.ts';
import type { RuntimeApiServer } from '../src/runtime-api/index.ts';

const RAW_RUNTIME = join(handlerFixtures, 'concurrency-raw');
const SLEEP_FIXTURE = join(handlerFixtures, 'concurrency-sleep');

afterEach(stopAllThirdPartyRuntimes);

/** The raw runtime with `workers` connections polling /next, against a server that allows `maxConcurrency`. */
async function startRawRuntime(workers: number, maxConcurrency: number): Promise<ThirdPartyRuntime> {
  const runtime = await startThirdPartyRuntime(
    { command: process.execPath, args: [join(RAW_RUNTIME, 'bootstrap.mjs')], env: {} },
    { handler: 'none', taskRoot: RAW_RUNTIME, env: { RAW_WORKERS: String(workers) }, serverOptions: { maxConcurrency } },
  );
  const init = await runtime.waitForInit();
  if (init.kind !== 'ready') throw new Error(`the raw runtime did not get ready: ${JSON.stringify(init)}\n${runtime.output()}`);
  // Every worker's /next is parked before the first event goes out.
  await pause(200);
  return runtime;
}

/** The most invokes the server had in flight at once, sampled every millisecond until stop(). */
function watchInFlight(server: RuntimeApiServer) {
  let most = 0;
  const timer = setInterval(() => {
    most = Math.max(most, server.inFlightCount);
  }, 1);
  return {
    stop: () => {
      clearInterval(timer);
      return most;
    },
  };
}

/** The most intervals [startedAt, endedAt) that overlap at one moment. */
function mostAtOnce(intervals: Array<{ startedAt: number; endedAt: number }>): number {
  const edges = intervals.flatMap(({ startedAt, endedAt }) => [
    { at: startedAt, change: 1 },
    { at: endedAt, change: -1 },
  ]);
  // An end and a start at the same millisecond do not overlap.
  edges.sort((a, b) => a.at - b.at || a.change - b.change);
  let now = 0;
  let most = 0;
  for (const edge of edges) {
    now += edge.change;
    most = Math.max(most, now);
  }
  return most;
}

function lines(runtime: ThirdPartyRuntime, word: 'took' | 'answered'): string[] {
  return runtime
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith(`${word} `))
    .map((line) => line.split(' ')[1]!);
}

describe('a runtime of raw HTTP/1.1 connections, several invokes at once', () => {
  it('hands each parked /next a different event, never more than maxConcurrency in flight, answers taken by id in any order', async () => {
    const runtime = await startRawRuntime(5, 3);
    const inFlight = watchInFlight(runtime.server);
    // Held longest first: the runtime answers in the reverse of the order it took them.
    const holds = [600, 400, 200, 600, 400, 200];
    const outcomes = await Promise.all(holds.map((holdMs, n) => runtime.invoke({ holdMs, n }, { requestId: `raw-${n}` })));
    const most = inFlight.stop();

    const answers = outcomes.map((outcome) => successJson(outcome) as { requestId: string; event: { n: number }; holding: number });
    expect(answers.map((answer) => answer.requestId)).toEqual(holds.map((_, n) => `raw-${n}`));
    expect(answers.map((answer) => answer.event.n)).toEqual([0, 1, 2, 3, 4, 5]);
    // Five connections asked, but the runtime never held more than three: the others' /next waited.
    expect(Math.max(...answers.map((answer) => answer.holding))).toBe(3);
    expect(most).toBe(3);
    await runtime.waitUntil(() => lines(runtime, 'answered').length === 6);
    expect(new Set(lines(runtime, 'took')).size).toBe(6);
    expect(lines(runtime, 'answered').slice(0, 3)).toEqual(['raw-2', 'raw-1', 'raw-0']);
    expect(runtime.stdout()).not.toMatch(/answered \S+ (?!202)/);
  });

  it('fails every invoke in flight with Runtime.ExitError, each with its own id, when the runtime exits', async () => {
    const runtime = await startRawRuntime(3, 3);
    const outcomes = Promise.all([
      runtime.invoke({ holdMs: 10_000 }, { requestId: 'held-1' }),
      runtime.invoke({ holdMs: 10_000 }, { requestId: 'held-2' }),
      runtime.invoke({ holdMs: 10_000, exitAfterMs: 300 }, { requestId: 'exits' }),
    ]);
    await runtime.waitUntil(() => lines(runtime, 'took').length === 3);
    expect(runtime.server.inFlightCount).toBe(3);
    const errors = (await outcomes).map((outcome) => outcome.kind === 'runtime-exit' && outcome.error);
    expect(errors).toEqual(
      ['held-1', 'held-2', 'exits'].map((id) => ({
        errorType: 'Runtime.ExitError',
        errorMessage: `RequestId: ${id} Error: Runtime exited with error: exit status 1`,
      })),
    );
    expect(runtime.server.needsReset).toBe(true);
    expect(runtime.server.inFlightCount).toBe(0);
  });

  it('times out one invoke alone: the runtime is not killed, its late answer is refused, the connection serves on', async () => {
    const runtime = await startRawRuntime(2, 2);
    const kills: string[] = [];
    runtime.server.on('timeout', (id: string) => kills.push(id));
    const slow = runtime.invoke({ holdMs: 800 }, { requestId: 'slow', timeoutMs: 300 });
    const quick = runtime.invoke({ holdMs: 100 }, { requestId: 'quick' });
    const timedOut = await slow;
    expect(timedOut.kind === 'timeout' && timedOut.error.errorType).toBe('Sandbox.Timedout');
    expect((await quick).kind).toBe('success');

    await runtime.waitUntil(() => runtime.stdout().includes('answered slow 403'));
    expect(kills).toEqual([]);
    expect(runtime.server.needsReset).toBe(false);
    // Both connections take events again, the one that was refused included.
    const after = await Promise.all([runtime.invoke({ holdMs: 300 }, { requestId: 'after-1' }), runtime.invoke({ holdMs: 300 }, { requestId: 'after-2' })]);
    expect(after.map((outcome) => (successJson(outcome) as { requestId: string }).requestId)).toEqual(['after-1', 'after-2']);
    expect(await Promise.race([runtime.exited.then(() => 'exited'), pause(50).then(() => 'running')])).toBe('running');
  });
});

describe('aws-lambda-ric 4.x in its multi-concurrent mode (AWS_LAMBDA_MAX_CONCURRENCY)', () => {
  let ric: AwsLambdaRicInstall;

  // The first run on a machine builds the client's native part: a minute or two.
  beforeAll(async () => {
    ric = await installAwsLambdaRic();
  }, 600_000);

  it('answers 8 invokes at once, each with its own id, at most 4 in flight and overlapping', async () => {
    const runtime = await startThirdPartyRuntime(awsLambdaRicCommand(ric, 'index.handler'), {
      handler: 'index.handler',
      taskRoot: SLEEP_FIXTURE,
      env: { AWS_LAMBDA_MAX_CONCURRENCY: '4', AWS_LAMBDA_NODEJS_WORKER_COUNT: '2' },
      serverOptions: { maxConcurrency: 4 },
    });
    const init = await runtime.waitForInit();
    if (init.kind !== 'ready') throw new Error(`aws-lambda-ric did not get ready: ${JSON.stringify(init)}\n${runtime.output()}`);
    // A warm-up invoke per worker thread, so the batch below measures invokes, not the workers' first loads.
    await Promise.all([0, 1].map((n) => runtime.invoke({ warmUp: n, sleepMs: 0 })));

    const inFlight = watchInFlight(runtime.server);
    const started = performance.now();
    const outcomes = await Promise.all(Array.from({ length: 8 }, (_, n) => runtime.invoke({ n }, { requestId: `ric-${n}-0000-4000-8000-000000000000` })));
    const elapsedMs = performance.now() - started;
    const most = inFlight.stop();

    const answers = outcomes.map((outcome) => successJson(outcome) as { event: { n: number }; awsRequestId: string; startedAt: number; endedAt: number });
    expect(answers.map((answer) => answer.awsRequestId)).toEqual(answers.map((_, n) => `ric-${n}-0000-4000-8000-000000000000`));
    expect(answers.map((answer) => answer.event)).toEqual(answers.map((_, n) => ({ n })));
    // Both workers take events as fast as they come: only the server keeps them to four at once.
    expect(most).toBe(4);
    expect(mostAtOnce(answers)).toBeLessThanOrEqual(4);
    expect(mostAtOnce(answers)).toBeGreaterThanOrEqual(2);
    // One at a time would take 8 × 300 ms.
    expect(elapsedMs).toBeLessThan(8 * 300 * 0.75);
  });
});

function pause(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
