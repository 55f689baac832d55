// globalThis.awslambda.InvokeStore, as AWS's client 4.x publishes it (@aws/lambda-invoke-store's single-invoke
// store): the request id and X-Ray trace id of the invoke in flight, "-" and undefined before the first invoke,
// user values that last one invoke, and the same instance the @aws/lambda-invoke-store package hands out; and
// AWS's multi-concurrency store (AsyncLocalStorage) when AWS_LAMBDA_MAX_CONCURRENCY is set.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRuntime, stopAllRuntimes, successJson, type RuntimeProcess } from './support/runtime-process.ts';

afterAll(stopAllRuntimes);

describe('awslambda.InvokeStore', () => {
  let runtime: RuntimeProcess;
  beforeAll(async () => {
    runtime = await startRuntime({ handler: 'index.handler', taskRoot: 'invoke-store' });
    expect((await runtime.waitForInit()).kind).toBe('ready');
  });

  const invoke = async (testCase: string, request: { requestId?: string; traceId?: string } = {}) =>
    successJson(await runtime.invoke({ case: testCase }, request));

  it('answers "-", undefined and no context while the module loads', async () => {
    expect(await invoke('at-load')).toEqual({ requestId: '-', hasContext: false });
  });

  it('gives the request id and trace id of the invoke in flight, also after an await', async () => {
    const requestId = crypto.randomUUID();
    const traceId = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
    expect(await invoke('store', { requestId, traceId })).toEqual({
      inHandler: { requestId, traceId, hasContext: true },
      afterAwait: requestId,
      samePackageInstance: true,
      globalKeys: ['streamifyResponse', 'HttpResponseStream', 'InvokeStore'],
    });
  });

  it('has no trace id for an invoke without one', async () => {
    const result = (await invoke('store')) as { inHandler: Record<string, unknown> };
    expect(result.inHandler).not.toHaveProperty('traceId');
  });

  it('answers for the invoke in flight in a timer an earlier invoke left (one invoke at a time, as on AWS)', async () => {
    await invoke('leave-timer');
    const requestId = crypto.randomUUID();
    expect(await invoke('timer-saw', { requestId })).toEqual({ timerSaw: requestId, now: requestId });
  });

  it('keeps user values for one invoke and refuses the runtime keys', async () => {
    const requestId = crypto.randomUUID();
    expect(await invoke('user-values', { requestId })).toEqual({
      plan: 'gold',
      requestId,
      refused: 'Cannot modify protected Lambda context field: Symbol(_AWS_LAMBDA_REQUEST_ID)',
    });
    expect(await invoke('read-plan')).toEqual({ plan: null });
  });
});

// With AWS_LAMBDA_MAX_CONCURRENCY the store is AWS's multi-concurrency one (AsyncLocalStorage): the same answers
// inside an invoke, none outside, and work an invoke leaves behind keeps answering for it.
describe('awslambda.InvokeStore with several invokes at once', () => {
  let runtime: RuntimeProcess;
  beforeAll(async () => {
    runtime = await startRuntime({
      handler: 'index.handler',
      taskRoot: 'invoke-store',
      serverOptions: { maxConcurrency: 2 },
      env: { AWS_LAMBDA_MAX_CONCURRENCY: '2', AWS_LAMBDA_NODEJS_WORKER_COUNT: '1' },
    });
    expect((await runtime.waitForInit()).kind).toBe('ready');
  });

  const invoke = async (testCase: string, request: { requestId?: string; traceId?: string } = {}) =>
    successJson(await runtime.invoke({ case: testCase }, request));

  it('answers "-" and no context while the module loads', async () => {
    expect(await invoke('at-load')).toEqual({ requestId: '-', hasContext: false });
  });

  it('gives each invoke its own request id and trace id, also after an await, from the package’s instance too', async () => {
    const traceId = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
    const requestIds = [crypto.randomUUID(), crypto.randomUUID()];
    const results = await Promise.all(requestIds.map((requestId) => invoke('store', { requestId, traceId })));
    results.forEach((result, index) => {
      const requestId = requestIds[index];
      expect(result).toEqual({
        inHandler: { requestId, traceId, hasContext: true },
        afterAwait: requestId,
        samePackageInstance: true,
        globalKeys: ['streamifyResponse', 'HttpResponseStream', 'InvokeStore'],
      });
    });
  });

  it('answers for the invoke that left a timer, not the one in flight when it fires', async () => {
    const leaver = crypto.randomUUID();
    await invoke('leave-timer', { requestId: leaver });
    const requestId = crypto.randomUUID();
    expect(await invoke('timer-saw', { requestId })).toEqual({ timerSaw: leaver, now: requestId });
  });

  it('keeps user values for one invoke and refuses the runtime keys', async () => {
    const requestId = crypto.randomUUID();
    expect(await invoke('user-values', { requestId })).toEqual({
      plan: 'gold',
      requestId,
      refused: 'Cannot modify protected Lambda context field: Symbol(_AWS_LAMBDA_REQUEST_ID)',
    });
    expect(await invoke('read-plan')).toEqual({ plan: null });
  });
});
