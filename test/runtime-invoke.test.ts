// What a caller gets back from our runtime for each way a handler can finish (reference/node-runtime.md,
// "Error JSON", "Invocation semantics", "Context object"). One runtime process serves the whole file: the
// fixture picks its behaviour from `event.case`.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InvokeOutcome } from '../src/runtime-api/index.ts';
import {
  DEFAULT_FUNCTION_ENV,
  functionError,
  handlerFixtures,
  startRuntime,
  stopAllRuntimes,
  successJson,
  type RuntimeProcess,
} from './support/runtime-process.ts';

let runtime: RuntimeProcess;

beforeAll(async () => {
  runtime = await startRuntime({ handler: 'index.handler', taskRoot: 'invoke' });
  expect((await runtime.waitForInit()).kind).toBe('ready');
});

afterAll(stopAllRuntimes);

const invoke = (event: unknown, request?: Parameters<RuntimeProcess['invoke']>[1]) => runtime.invoke(event, request);

describe('results', () => {
  it('returns the resolved value as JSON', async () => {
    expect(successJson(await invoke({ case: 'echo', items: [1, 'two', { three: 3 }] }))).toEqual({
      received: { case: 'echo', items: [1, 'two', { three: 3 }] },
    });
  });

  it('sends undefined as null', async () => {
    const outcome = await invoke({ case: 'nothing' });
    expect(outcome.kind).toBe('success');
    if (outcome.kind === 'success') expect(outcome.body.toString()).toBe('null');
  });

  // AWS's client (4.x) throws Runtime.JSONStringifyError('Unable to stringify response body') and posts it to /error.
  for (const [what, testCase] of [
    ['a BigInt', 'bigint'],
    ['a cycle', 'cyclic'],
  ] as const) {
    it(`reports a result holding ${what} as Runtime.JSONStringifyError: "Unable to stringify response body"`, async () => {
      const outcome = await invoke({ case: testCase });
      expect(functionError(outcome)).toMatchObject({ errorType: 'Runtime.JSONStringifyError', errorMessage: 'Unable to stringify response body' });
      const body = JSON.parse(outcome.kind === 'function-error' ? outcome.body.toString() : '{}');
      expect(Object.keys(body)).toEqual(['errorType', 'errorMessage', 'trace']);
      expect(body.trace[0]).toBe('Runtime.JSONStringifyError: Unable to stringify response body');
      expect(body.trace.length).toBeGreaterThan(1);
    });
  }

  it('answers at once on context.succeed, even when the returned promise never settles', async () => {
    expect(successJson(await invoke({ case: 'succeedBeforePromise' }))).toEqual({ via: 'context.succeed' });
  });

  it('fails on context.fail even when the handler then returns a value', async () => {
    expect(functionError(await invoke({ case: 'failViaContext' }))).toMatchObject({
      errorType: 'ValidationError',
      errorMessage: 'failed through context.fail',
    });
  });

  it('survives a response over 6 MB: the caller gets Function.ResponseSizeTooLarge and the next invoke works', async () => {
    const error = functionError(await invoke({ case: 'large', bytes: 7 * 1024 * 1024 }));
    expect(error.errorType).toBe('Function.ResponseSizeTooLarge');
    expect(successJson(await invoke({ case: 'echo' }))).toEqual({ received: { case: 'echo' } });
    expect(runtime.isRunning()).toBe(true);
    await runtime.waitForOutput('status 413');
  });
});

describe('errors', () => {
  it('reports a thrown Error with its name, message and stack lines', async () => {
    const outcome = await invoke({ case: 'throwError' });
    const error = functionError(outcome);
    expect(error).toMatchObject({ errorType: 'ValidationError', errorMessage: 'order 42 is invalid' });
    const body = JSON.parse(outcome.kind === 'function-error' ? outcome.body.toString() : '{}');
    expect(body.trace[0]).toBe('ValidationError: order 42 is invalid');
    expect(body.trace[1]).toMatch(/^ {4}at .*invoke\/index\.js:\d+:\d+\)$/);
  });

  it('reports a thrown string with its type and an empty trace', async () => {
    const outcome = await invoke({ case: 'throwString' });
    expect(outcome.kind === 'function-error' && JSON.parse(outcome.body.toString())).toEqual({
      errorType: 'string',
      errorMessage: 'plain string failure',
      trace: [],
    });
  });

  it('reports a thrown undefined as an error, not a success', async () => {
    expect(functionError(await invoke({ case: 'throwUndefined' }))).toMatchObject({
      errorType: 'undefined',
      errorMessage: 'undefined',
    });
  });

  it('escapes DEL characters in the error as %7F', async () => {
    expect(functionError(await invoke({ case: 'delInName' }))).toMatchObject({
      errorType: 'Weird%7FError',
      errorMessage: 'bad%7Fmessage',
    });
  });

  it('fails an event that is not JSON with Runtime.UnmarshalError and keeps serving', async () => {
    const error = functionError(await invoke(undefined, { payload: '{"case": "echo", oops' }));
    expect(error.errorType).toBe('Runtime.UnmarshalError');
    expect(error.errorMessage).toMatch(/^Unable to parse the event as JSON: /);
    expect(successJson(await invoke({ case: 'echo' }))).toEqual({ received: { case: 'echo' } });
  });

  it('fails a malformed client context header with Runtime.UnmarshalError', async () => {
    const error = functionError(await invoke({ case: 'context' }, { clientContext: '{not json' }));
    expect(error.errorType).toBe('Runtime.UnmarshalError');
    expect(error.errorMessage).toContain('Lambda-Runtime-Client-Context');
  });
});

describe('the X-Ray error cause (Lambda-Runtime-Function-XRay-Error-Cause)', () => {
  const taskRoot = join(handlerFixtures, 'invoke');
  const xrayCause = (outcome: InvokeOutcome) => (outcome.kind === 'function-error' ? outcome.xrayErrorCause : `not an error: ${outcome.kind}`);

  it('goes with a thrown error: working_directory, the exception with its frames, the distinct paths', async () => {
    const outcome = await invoke({ case: 'throwError' });
    const header = xrayCause(outcome);
    expect(header).toMatch(/^\{"working_directory":/);
    const cause = JSON.parse(header ?? '');
    expect(Object.keys(cause)).toEqual(['working_directory', 'exceptions', 'paths']);
    expect(cause.working_directory).toBe(taskRoot);
    expect(cause.exceptions).toHaveLength(1);
    expect(Object.keys(cause.exceptions[0])).toEqual(['type', 'message', 'stack']);
    expect(cause.exceptions[0]).toMatchObject({ type: 'ValidationError', message: 'order 42 is invalid' });
    // The first frame is the fixture's throwError case (test/fixtures/handlers/invoke/index.js).
    expect(cause.exceptions[0].stack[0]).toEqual({ path: join(taskRoot, 'index.js'), line: 16, label: 'throwError' });
    expect(cause.paths[0]).toBe(join(taskRoot, 'index.js'));
    expect(new Set(cause.paths).size).toBe(cause.paths.length);
  });

  it('is sent exactly for a thrown string: no type, no message, no frames', async () => {
    expect(xrayCause(await invoke({ case: 'throwString' }))).toBe(`{"working_directory":${JSON.stringify(taskRoot)},"exceptions":[{"stack":[]}],"paths":[]}`);
  });

  it('carries DEL as %7F', async () => {
    const cause = JSON.parse(xrayCause(await invoke({ case: 'delInName' })) ?? '');
    expect(cause.exceptions[0]).toMatchObject({ type: 'Weird%7FError', message: 'bad%7Fmessage' });
  });

  it('is left out when the thrown value cannot be read (undefined)', async () => {
    const outcome = await invoke({ case: 'throwUndefined' });
    expect(outcome.kind).toBe('function-error');
    expect(xrayCause(outcome)).toBeUndefined();
  });

  it('goes with Runtime.JSONStringifyError too, naming the runtime error', async () => {
    const cause = JSON.parse(xrayCause(await invoke({ case: 'bigint' })) ?? '');
    expect(cause.exceptions[0]).toMatchObject({ type: 'Runtime.JSONStringifyError', message: 'Unable to stringify response body' });
  });
});

describe('the context object', () => {
  it('carries the function settings and the invoke metadata', async () => {
    const traceId = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
    const outcome = await invoke(
      { case: 'context' },
      {
        requestId: 'c0ffee00-0000-4000-8000-000000000001',
        timeoutMs: 5_000,
        invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:test-function:live',
        traceId,
        clientContext: '{"client":{"installation_id":"abc"},"custom":{"tier":"gold"},"env":{"locale":"en"}}',
        cognitoIdentity: '{"cognitoIdentityId":"us-east-1:identity","cognitoIdentityPoolId":"us-east-1:pool"}',
      },
    );
    const context = successJson(outcome) as Record<string, unknown>;
    expect(context).toMatchObject({
      awsRequestId: 'c0ffee00-0000-4000-8000-000000000001',
      functionName: DEFAULT_FUNCTION_ENV.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:test-function:live',
      memoryLimitInMB: '256',
      logGroupName: '/aws/lambda/test-function',
      logStreamName: DEFAULT_FUNCTION_ENV.AWS_LAMBDA_LOG_STREAM_NAME,
      identity: { cognitoIdentityId: 'us-east-1:identity', cognitoIdentityPoolId: 'us-east-1:pool' },
      clientContext: { client: { installation_id: 'abc' }, custom: { tier: 'gold' }, env: { locale: 'en' } },
      xRayTraceId: traceId,
      traceEnv: traceId,
      callbackWaitsForEmptyEventLoop: true,
    });
    expect(context.remaining).toBeGreaterThan(4_000);
    expect(context.remaining).toBeLessThanOrEqual(5_000);
  });

  it('removes _X_AMZN_TRACE_ID when an invoke comes without a trace id', async () => {
    await invoke({ case: 'context' }, { traceId: 'Root=1-00000000-000000000000000000000001' });
    const context = successJson(await invoke({ case: 'context' })) as Record<string, unknown>;
    expect(context.traceEnv).toBeNull();
    expect(context.xRayTraceId).toBeUndefined();
  });

  it('counts getRemainingTimeInMillis down towards the deadline', async () => {
    const { before, after } = successJson(await invoke({ case: 'remainingAfterSleep', sleepMs: 200 }, { timeoutMs: 3_000 })) as {
      before: number;
      after: number;
    };
    expect(before).toBeGreaterThan(2_500);
    expect(before - after).toBeGreaterThanOrEqual(190);
    expect(before - after).toBeLessThan(1_000);
  });
});

describe('plain (non-async) handlers', () => {
  it('uses a returned value as the result', async () => {
    const plain = await startRuntime({ handler: 'index.sync', taskRoot: 'invoke' });
    expect(successJson(await plain.invoke({ case: 'x' }))).toEqual({ sync: true, case: 'x' });
  });

  it('answers null once the event loop is empty when nothing is returned', async () => {
    const plain = await startRuntime({ handler: 'index.syncNothing', taskRoot: 'invoke' });
    const outcome = await plain.invoke({});
    expect(outcome.kind === 'success' && outcome.body.toString()).toBe('null');
    expect(outcome.kind === 'success' && outcome.durationMs).toBeGreaterThanOrEqual(45);
  });
});
