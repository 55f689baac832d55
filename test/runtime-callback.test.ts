// Callback-style handlers, (event, context, callback), which our runtime keeps supporting on Node 24 (AWS's
// 4.x client rejects them): callbackWaitsForEmptyEventLoop, context.done/succeed/fail, first completion wins
// (reference/node-runtime.md, "Invocation semantics").
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { functionError, startRuntime, stopAllRuntimes, successJson, type RuntimeProcess } from './support/runtime-process.ts';

describe('a callback handler', () => {
  let runtime: RuntimeProcess;

  beforeAll(async () => {
    runtime = await startRuntime({ handler: 'index.handler', taskRoot: 'callback' });
    expect((await runtime.waitForInit()).kind).toBe('ready');
  });

  afterAll(stopAllRuntimes);

  it('answers only once the event loop is empty, by default', async () => {
    const outcome = await runtime.invoke({ case: 'waitForTimer', ms: 300 });
    expect(successJson(outcome)).toEqual({ answered: 'after the timer' });
    expect(outcome.kind === 'success' && outcome.durationMs).toBeGreaterThanOrEqual(290);
    await runtime.waitForOutput('timer after callback fired');
  });

  it('answers a callback that comes later, from a timer', async () => {
    expect(successJson(await runtime.invoke({ case: 'asyncLater', ms: 50 }))).toEqual({ after: 50 });
  });

  it('reports an error passed to the callback', async () => {
    expect(functionError(await runtime.invoke({ case: 'callbackError' }))).toMatchObject({
      errorType: 'TypeError',
      errorMessage: 'callback got an error',
    });
  });

  it('reports a string passed as the callback error', async () => {
    expect(functionError(await runtime.invoke({ case: 'callbackString' }))).toMatchObject({
      errorType: 'string',
      errorMessage: 'a plain string error',
    });
  });

  it('treats a null error as success', async () => {
    expect(successJson(await runtime.invoke({ case: 'callbackNullError' }))).toBe('null error means success');
  });

  it('answers context.done and context.succeed at once, without waiting for timers', async () => {
    for (const [name, via] of [
      ['done', 'done'],
      ['succeed', 'succeed'],
    ]) {
      const outcome = await runtime.invoke({ case: name, ms: 600 });
      expect(successJson(outcome)).toEqual({ via });
      expect(outcome.kind === 'success' && outcome.durationMs).toBeLessThan(400);
    }
  });

  it('reports context.fail and context.done(error) as errors', async () => {
    expect(functionError(await runtime.invoke({ case: 'fail' }))).toMatchObject({
      errorType: 'Error',
      errorMessage: 'failed via context.fail',
    });
    expect(functionError(await runtime.invoke({ case: 'doneWithError' }))).toMatchObject({
      errorType: 'RangeError',
      errorMessage: 'done with an error',
    });
  });

  it('lets context.succeed be passed around detached', async () => {
    expect(successJson(await runtime.invoke({ case: 'detachedSucceed' }))).toEqual({ via: 'detached succeed' });
  });

  it('keeps the first completion and ignores the later ones', async () => {
    expect(successJson(await runtime.invoke({ case: 'firstWins' }))).toBe('first');
    // The ignored completions must not leak into the next invoke.
    expect(successJson(await runtime.invoke({ case: 'callbackNullError' }))).toBe('null error means success');
  });

  it('answers null for a handler that never calls back once nothing is left to run', async () => {
    const outcome = await runtime.invoke({ case: 'neverCalls' });
    expect(outcome.kind === 'success' && outcome.body.toString()).toBe('null');
  });
});

describe('callbackWaitsForEmptyEventLoop = false', () => {
  afterEach(stopAllRuntimes);

  it('answers at once while a timer is still pending', async () => {
    const runtime = await startRuntime({ handler: 'index.handler', taskRoot: 'callback' });
    const outcome = await runtime.invoke({ case: 'dontWait', ms: 2_000 });
    expect(successJson(outcome)).toEqual({ answered: 'at once' });
    expect(outcome.kind === 'success' && outcome.durationMs).toBeLessThan(1_000);
    expect(runtime.stdout()).not.toContain('late timer fired');
  });
});

describe('an async handler that also takes a callback', () => {
  afterEach(stopAllRuntimes);

  it('answers with whichever of the promise and the callback completes first', async () => {
    const runtime = await startRuntime({ handler: 'index.asyncWithCallback', taskRoot: 'callback' });
    expect(successJson(await runtime.invoke({}))).toBe('from the promise');
    expect(successJson(await runtime.invoke({ useCallback: true }))).toBe('from the callback');
  });
});
