// Several invokes at once (AWS_LAMBDA_MAX_CONCURRENCY, Lambda Managed Instances), as AWS's client 4.x serves them:
// worker threads (AWS_LAMBDA_NODEJS_WORKER_COUNT of them here), each loading the handler once and running invokes
// concurrently, each invoke with its own context and invoke-store context; against a Runtime API that hands the
// environment up to 4 invokes at once.
import { cpus } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { availableCpus, workerCount } from '../runtime/multi-concurrency.ts';
import { describeOutcome, functionError, startRuntime, stopAllRuntimes, successJson, type RuntimeProcess } from './support/runtime-process.ts';

afterEach(stopAllRuntimes);

const MAX_CONCURRENCY = 4;
const HANDLER_SLEEP_MS = 300;

const start = async (handler: string, workers: number, env: Record<string, string> = {}): Promise<RuntimeProcess> => {
  const runtime = await startRuntime({
    handler,
    taskRoot: 'multi-concurrency',
    serverOptions: { maxConcurrency: MAX_CONCURRENCY },
    env: { AWS_LAMBDA_MAX_CONCURRENCY: String(MAX_CONCURRENCY), AWS_LAMBDA_NODEJS_WORKER_COUNT: String(workers), ...env },
  });
  return runtime;
};

const initLines = (runtime: RuntimeProcess): string[] => runtime.stdout().match(/init in thread \d+/g) ?? [];

// Logs are JSON records in this mode (AWS's SocketLogger); the runtime's own error lines are ERROR records.
const errorLines = (runtime: RuntimeProcess, text: string): string[] =>
  runtime.stdoutLines().filter((line) => line.includes('"level":"ERROR"') && line.includes(text));

interface Answer {
  event: { n: number };
  awsRequestId: string;
  storeBefore: string;
  storeAfter: string;
  mine: string;
  traceId: string | null;
  envTraceId: string | null;
  threadId: number;
}

describe('a runtime with AWS_LAMBDA_MAX_CONCURRENCY', () => {
  it('runs invokes at once, each answered with its own event, context and invoke-store ids after awaits', async () => {
    const runtime = await start('index.handler', 2);
    expect((await runtime.waitForInit()).kind).toBe('ready');
    const requests = Array.from({ length: 8 }, (_, n) => ({ n, requestId: crypto.randomUUID() }));
    const started = performance.now();
    const outcomes = await Promise.all(requests.map(({ n, requestId }) => runtime.invoke({ n }, { requestId })));
    const elapsedMs = performance.now() - started;

    const answers = outcomes.map((outcome) => successJson(outcome) as Answer);
    answers.forEach((answer, index) => {
      const { n, requestId } = requests[index]!;
      expect(answer).toMatchObject({ event: { n }, awsRequestId: requestId, storeBefore: requestId, storeAfter: requestId, mine: requestId });
    });
    // Two waves of four at most (one at a time would take 8 × 300 ms); bounded loosely for a loaded machine.
    expect(elapsedMs).toBeLessThan(6 * HANDLER_SLEEP_MS);
    expect(elapsedMs).toBeGreaterThanOrEqual(2 * HANDLER_SLEEP_MS - 50);
  });

  it('loads the handler once per worker thread, and serves from those threads', async () => {
    const runtime = await start('index.handler', 2);
    expect((await runtime.waitForInit()).kind).toBe('ready');
    await runtime.waitUntil(() => initLines(runtime).length === 2);
    const answers = await Promise.all(Array.from({ length: 8 }, (_, n) => runtime.invoke({ n, sleepMs: 100 }).then((o) => successJson(o) as Answer)));
    const initThreads = initLines(runtime).map((line) => Number(line.split(' ').at(-1)));
    expect(new Set(initThreads).size).toBe(2);
    expect(initThreads).not.toContain(0); // never the main thread
    for (const answer of answers) expect(initThreads).toContain(answer.threadId);
    // Serving did not load it again.
    expect(initLines(runtime)).toHaveLength(2);
  });

  it('fails one invoke alone when its handler throws, logging its Invoke Error under its own request id', async () => {
    const runtime = await start('index.handler', 2);
    const requestIds = [0, 1, 2, 3].map(() => crypto.randomUUID());
    const outcomes = await Promise.all(requestIds.map((requestId, n) => runtime.invoke({ n, fail: n === 2 }, { requestId })));
    expect(functionError(outcomes[2]!)).toMatchObject({ errorType: 'Error', errorMessage: 'failed on purpose: 2' });
    for (const n of [0, 1, 3]) expect((successJson(outcomes[n]!) as Answer).event.n).toBe(n);
    await runtime.waitUntil(() => errorLines(runtime, 'failed on purpose: 2').length === 1);
    expect(errorLines(runtime, 'failed on purpose: 2')[0]).toContain(`"requestId":"${requestIds[2]}"`);
    expect(runtime.isRunning()).toBe(true);
  });

  it('keeps each invoke’s trace id in its context and the store, not in _X_AMZN_TRACE_ID', async () => {
    const runtime = await start('index.handler', 1);
    const traceIds = [1, 2].map((n) => `Root=1-5759e988-bd862e3fe1be46a99427279${n};Parent=53995c3f42cd8ad8;Sampled=1`);
    const answers = await Promise.all(traceIds.map((traceId, n) => runtime.invoke({ n }, { traceId }).then((o) => successJson(o) as Answer)));
    expect(answers.map((answer) => answer.traceId)).toEqual(traceIds);
    expect(answers.map((answer) => answer.envTraceId)).toEqual([null, null]);
  });

  it('has an invoke-store context per invoke only: none at load, and work an invoke leaves behind keeps its own', async () => {
    const runtime = await start('index.handler', 1);
    expect(successJson(await runtime.invoke({ case: 'at-load' }))).toEqual({ requestId: '-', hasContext: false, set: 'No context available' });
    const leaver = crypto.randomUUID();
    await runtime.invoke({ case: 'leave-timer' }, { requestId: leaver });
    const now = crypto.randomUUID();
    expect(successJson(await runtime.invoke({ case: 'timer-saw' }, { requestId: now }))).toEqual({ timerSaw: leaver, now });
  });

  it('streams several responses at once, each to its own invoke', async () => {
    const runtime = await start('index.stream', 1);
    const requestIds = [0, 1, 2, 3].map(() => crypto.randomUUID());
    const started = performance.now();
    const bodies = await Promise.all(
      requestIds.map(async (requestId, n) => {
        const outcome = await runtime.invoke({ n, sleepMs: 500 }, { requestId });
        if (outcome.kind !== 'streaming') throw new Error(`Expected a streamed response, got ${describeOutcome(outcome)}`);
        const chunks: Buffer[] = [];
        for await (const chunk of outcome.body) chunks.push(chunk as Buffer);
        expect((await outcome.end).trailers).toEqual({});
        return Buffer.concat(chunks).toString('utf8');
      }),
    );
    expect(bodies).toEqual(requestIds.map((requestId, n) => `${n} ${requestId} ${requestId}`));
    // One at a time would take 4 × 500 ms.
    expect(performance.now() - started).toBeLessThan(3 * 500);
  });

  it('answers a callback handler when it calls back, not when the event loop empties (it never does here)', async () => {
    const runtime = await start('index.callback', 1);
    const started = performance.now();
    const outcomes = await Promise.all([0, 1].map((n) => runtime.invoke({ n })));
    expect(outcomes.map((outcome) => (successJson(outcome) as { n: number }).n)).toEqual([0, 1]);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('answers a handler that returns undefined at once, with null', async () => {
    const runtime = await start('index.sync', 1);
    const started = performance.now();
    const outcome = await runtime.invoke({});
    expect(successJson(outcome)).toBeNull();
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('ends a worker on an uncaught exception, failing the invokes it had in flight; the process ends with its last worker', async () => {
    const runtime = await start('index.crash', 1);
    const outcomes = await Promise.all([runtime.invoke({ n: 0, crash: true }), runtime.invoke({ n: 1 })]);
    for (const outcome of outcomes) expect(functionError(outcome)).toMatchObject({ errorType: 'Error', errorMessage: 'crashed the worker' });
    expect((await runtime.exited).code).not.toBe(0);
    await runtime.waitUntil(() => errorLines(runtime, 'crashed the worker').length === 1);
    expect(runtime.stderr()).toContain('worker 0 exited with code 1, 0 of 1 still serving');
  });

  it('keeps serving from the other workers after one crashed', async () => {
    const runtime = await start('index.crash', 2);
    await runtime.waitUntil(() => initLines(runtime).length === 2);
    expect(functionError(await runtime.invoke({ n: 0, crash: true, sleepMs: 200 })).errorMessage).toBe('crashed the worker');
    await runtime.waitForOutput(/worker \d exited with code 1, 1 of 2 still serving/);
    const answers = await Promise.all([1, 2, 3].map((n) => runtime.invoke({ n, sleepMs: 50 }).then((o) => successJson(o) as { n: number })));
    expect(answers.map((answer) => answer.n)).toEqual([1, 2, 3]);
    expect(runtime.isRunning()).toBe(true);
  });

  it('reports a handler that fails to load once, as Init Error, then exits', async () => {
    const runtime = await start('broken.handler', 3);
    const init = await runtime.waitForInit();
    expect(init).toMatchObject({ kind: 'init-error', error: { errorType: 'TypeError', errorMessage: 'broken at load' } });
    expect((await runtime.exited).code).not.toBe(0);
    // Every worker tried (init runs per worker), one reported.
    expect(runtime.stdout().match(/loading broken\.js/g)?.length ?? 0).toBeGreaterThanOrEqual(1);
    expect(errorLines(runtime, 'broken at load')).toHaveLength(1);
  });
});

describe('the number of worker threads, as AWS computes it', () => {
  const unreadable = () => {
    throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
  };

  it('is AWS_LAMBDA_NODEJS_WORKER_COUNT when that is a positive number, else 8 per CPU', () => {
    expect(workerCount({ AWS_LAMBDA_NODEJS_WORKER_COUNT: '3' }, () => 4)).toBe(3);
    expect(workerCount({}, () => 2)).toBe(16);
    expect(workerCount({ AWS_LAMBDA_NODEJS_WORKER_COUNT: '0' }, () => 2)).toBe(16);
    expect(workerCount({ AWS_LAMBDA_NODEJS_WORKER_COUNT: 'many' }, () => 1)).toBe(8);
  });

  it('counts the CPUs the cgroup grants: quota over period rounded up, every core for "max", 1 when unknown', () => {
    expect(availableCpus(() => '150000 100000\n')).toBe(2);
    expect(availableCpus(() => '200000 100000')).toBe(2);
    expect(availableCpus(() => 'max 100000')).toBe(Math.max(1, cpus().length));
    expect(availableCpus(unreadable)).toBe(1);
    expect(availableCpus(() => 'garbage')).toBe(1);
  });
});
