// Failures outside the handler's own result: an unhandled rejection or uncaught exception is posted as the
// invoke's error and the process then exits so the environment is replaced; a promise that can never settle is
// reported as Runtime.NodeJsExit (reference/node-runtime.md, "Invocation semantics").
import { afterEach, describe, expect, it } from 'vitest';
import { functionError, startRuntime, stopAllRuntimes, successJson } from './support/runtime-process.ts';

afterEach(stopAllRuntimes);

const start = () => startRuntime({ handler: 'index.handler', taskRoot: 'crash' });

describe('an unhandled rejection during an invoke', () => {
  it('is posted as Runtime.UnhandledPromiseRejection, then the process exits', async () => {
    const runtime = await start();
    const outcome = await runtime.invoke({ case: 'unhandledRejection' });
    const error = functionError(outcome);
    expect(error).toMatchObject({ errorType: 'Runtime.UnhandledPromiseRejection', errorMessage: 'Error: nobody caught this' });
    const body = JSON.parse(outcome.kind === 'function-error' ? outcome.body.toString() : '{}');
    expect(body.trace[0]).toBe('Runtime.UnhandledPromiseRejection: Error: nobody caught this');
    expect(body.trace[1]).toContain('crash/index.js');
    const exit = await runtime.exited;
    expect(exit.code).not.toBe(0);
    await runtime.waitForOutput(/\tERROR\tUnhandled Promise Rejection \t\{"errorType":"Runtime\.UnhandledPromiseRejection"/);
  });

  it('reports a non-Error reason by its string form', async () => {
    const runtime = await start();
    expect(functionError(await runtime.invoke({ case: 'unhandledRejectionString' }))).toMatchObject({
      errorType: 'Runtime.UnhandledPromiseRejection',
      errorMessage: 'a bare string reason',
    });
    expect((await runtime.exited).code).not.toBe(0);
  });
});

describe('an uncaught exception during an invoke', () => {
  it('is posted as the error itself, then the process exits', async () => {
    const runtime = await start();
    const outcome = await runtime.invoke({ case: 'uncaughtException' });
    expect(functionError(outcome)).toMatchObject({ errorType: 'ReferenceError', errorMessage: 'thrown from a timer' });
    expect((await runtime.exited).code).not.toBe(0);
    await runtime.waitForOutput(/\tERROR\tUncaught Exception \t\{"errorType":"ReferenceError"/);
  });

  it('after the response went out, still ends the process so that the environment is replaced', async () => {
    const runtime = await start();
    expect(successJson(await runtime.invoke({ case: 'throwAfterResponse' }))).toBe('answered first');
    expect((await runtime.exited).code).not.toBe(0);
    expect(runtime.server?.needsReset).toBe(true);
    await runtime.waitForOutput(/\tERROR\tUncaught Exception \t\{"errorType":"Error","errorMessage":"thrown after the response"/);
  });
});

describe('a promise that never settles', () => {
  it('is reported as Runtime.NodeJsExit once nothing else can run, and the runtime keeps serving', async () => {
    const runtime = await start();
    const error = functionError(await runtime.invoke({ case: 'neverSettles' }));
    expect(error.errorType).toBe('Runtime.NodeJsExit');
    expect(error.errorMessage).toContain('never settled');
    expect(successJson(await runtime.invoke({ case: 'ok' }))).toBe('fine');
  });
});

describe('an unhandled rejection while the handler module loads', () => {
  it('is posted as an init error, then the process exits', async () => {
    const runtime = await startRuntime({ handler: 'rejects-during-init.handler', taskRoot: 'crash' });
    const init = await runtime.waitForInit();
    expect(init.kind).toBe('init-error');
    if (init.kind === 'init-error') {
      expect(init.error).toMatchObject({
        errorType: 'Runtime.UnhandledPromiseRejection',
        errorMessage: 'TypeError: rejected while loading',
      });
    }
    expect((await runtime.exited).code).not.toBe(0);
  });
});
