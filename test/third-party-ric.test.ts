// AWS's official Node.js runtime client, aws-lambda-ric 4.x (native, curl-based), must work unchanged against our
// Runtime API server: it is what existing Lambda container images run. The handlers are the ones our own runtime is
// tested with (test/fixtures/handlers) plus streaming ones (test/fixtures/third-party), limited to the cases where
// 4.x and our runtime agree (reference/node-runtime.md): 4.x dropped callback handlers and context.succeed/fail.
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { awsLambdaRicCommand, installAwsLambdaRic, type AwsLambdaRicInstall } from '../tools/aws-lambda-ric.ts';
import { describeOutcome, functionError, handlerFixtures, successJson } from './support/runtime-process.ts';
import { startThirdPartyRuntime, stopAllThirdPartyRuntimes } from './support/third-party-runtime.ts';
import type { InvokeOutcome } from '../src/runtime-api/index.ts';

const INVOKE_FIXTURE = `${handlerFixtures}/invoke`;
const STREAMING_FIXTURE = fileURLToPath(new URL('./fixtures/third-party/streaming', import.meta.url));
const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:test-function';
const TRACE_ID = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';

let ric: AwsLambdaRicInstall;

// The first run on a machine builds the client's native part: a minute or two.
beforeAll(async () => {
  ric = await installAwsLambdaRic();
}, 600_000);

afterEach(stopAllThirdPartyRuntimes);

async function startRic(handler: string, taskRoot = INVOKE_FIXTURE) {
  const runtime = await startThirdPartyRuntime(awsLambdaRicCommand(ric, handler), { handler, taskRoot });
  return runtime;
}

async function startReadyRic(handler: string, taskRoot = INVOKE_FIXTURE) {
  const runtime = await startRic(handler, taskRoot);
  const init = await runtime.waitForInit();
  if (init.kind !== 'ready') throw new Error(`aws-lambda-ric did not get ready: ${JSON.stringify(init)}\n${runtime.output()}`);
  return runtime;
}

async function readStream(outcome: InvokeOutcome) {
  if (outcome.kind !== 'streaming') throw new Error(`Expected a streamed response, got ${describeOutcome(outcome)}`);
  const chunks: Buffer[] = [];
  for await (const chunk of outcome.body) chunks.push(chunk as Buffer);
  return { contentType: outcome.contentType, body: Buffer.concat(chunks), ...(await outcome.end) };
}

describe('aws-lambda-ric 4.x against our Runtime API server: buffered invokes', () => {
  it('answers a run of invokes on one warm process with each async handler result', async () => {
    const runtime = await startReadyRic('index.handler');
    for (let n = 0; n < 20; n++) {
      expect(successJson(await runtime.invoke({ case: 'echo', n }))).toEqual({ received: { case: 'echo', n } });
    }
    // undefined goes out as null.
    const nothing = await runtime.invoke({ case: 'nothing' });
    expect(nothing.kind === 'success' && nothing.body.toString()).toBe('null');
  });

  it('returns a plain (non-async) handler’s value', async () => {
    const runtime = await startReadyRic('index.sync');
    expect(successJson(await runtime.invoke({ case: 'plain' }))).toEqual({ sync: true, case: 'plain' });
  });

  it('hands the invoke metadata from /next’s headers to the context object', async () => {
    const runtime = await startReadyRic('index.handler');
    const requestId = '0f0e0d0c-0b0a-4908-8706-050403020100';
    const context = successJson(
      await runtime.invoke(
        { case: 'context' },
        {
          requestId,
          timeoutMs: 5_000,
          invokedFunctionArn: ARN,
          traceId: TRACE_ID,
          clientContext: '{"custom":{"cart":"42"}}',
          cognitoIdentity: '{"cognitoIdentityId":"us-east-1:abc","cognitoIdentityPoolId":"us-east-1:pool"}',
        },
      ),
    ) as Record<string, unknown>;
    expect(context).toMatchObject({
      awsRequestId: requestId,
      functionName: 'test-function',
      functionVersion: '$LATEST',
      invokedFunctionArn: ARN,
      memoryLimitInMB: '256',
      logGroupName: '/aws/lambda/test-function',
      logStreamName: '2025/01/01/[$LATEST]0123456789abcdef0123456789abcdef',
      clientContext: { custom: { cart: '42' } },
      identity: { cognitoIdentityId: 'us-east-1:abc', cognitoIdentityPoolId: 'us-east-1:pool' },
      xRayTraceId: TRACE_ID,
      traceEnv: TRACE_ID,
    });
    // getRemainingTimeInMillis() counts down from our Lambda-Runtime-Deadline-Ms.
    expect(context.remaining).toBeGreaterThan(4_000);
    expect(context.remaining).toBeLessThanOrEqual(5_000);
  });

  it('reports a thrown error as a function error with its errorType, errorMessage and trace, and keeps serving', async () => {
    const runtime = await startReadyRic('index.handler');

    const thrown = await runtime.invoke({ case: 'throwError' });
    const error = functionError(thrown);
    expect(error).toMatchObject({ errorType: 'ValidationError', errorMessage: 'order 42 is invalid' });
    expect(error.trace?.[0]).toBe('ValidationError: order 42 is invalid');
    // The caller gets the body the runtime posted.
    expect(thrown.kind === 'function-error' && JSON.parse(thrown.body.toString())).toMatchObject({ errorType: 'ValidationError' });

    expect(functionError(await runtime.invoke({ case: 'throwString' }))).toEqual({
      errorType: 'string',
      errorMessage: 'plain string failure',
      trace: [],
    });
    expect(successJson(await runtime.invoke({ case: 'echo' }))).toEqual({ received: { case: 'echo' } });
  });

  it('turns a result that cannot be serialised into Runtime.JSONStringifyError', async () => {
    const runtime = await startReadyRic('index.handler');
    expect(functionError(await runtime.invoke({ case: 'bigint' }))).toMatchObject({
      errorType: 'Runtime.JSONStringifyError',
      errorMessage: 'Unable to stringify response body',
    });
  });

  it('gets a 6 MB response through, Function.ResponseSizeTooLarge past the limit, and carries on', async () => {
    const runtime = await startReadyRic('index.handler');
    const large = await runtime.invoke({ case: 'large', bytes: 6_000_000 });
    expect(large.kind === 'success' && large.body.length).toBe(6_000_002); // a JSON string: two quotes

    expect(functionError(await runtime.invoke({ case: 'large', bytes: 7_000_000 }))).toEqual({
      errorType: 'Function.ResponseSizeTooLarge',
      errorMessage: 'Response payload size exceeded maximum allowed payload size (6291556 bytes).',
    });
    expect(successJson(await runtime.invoke({ case: 'echo' }))).toEqual({ received: { case: 'echo' } });
  });

  it('times out an invoke that outlives its deadline', async () => {
    const runtime = await startReadyRic('index.handler');
    const outcome = await runtime.invoke({ case: 'slow', ms: 5_000 }, { timeoutMs: 300 });
    expect(outcome.kind).toBe('timeout');
    if (outcome.kind !== 'timeout') return;
    expect(outcome.error).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: `RequestId: ${outcome.requestId} Error: Task timed out after 0.30 seconds`,
    });
  });
});

describe('aws-lambda-ric 4.x against our Runtime API server: init errors', () => {
  it.each([
    ['missing.handler', 'Runtime.ImportModuleError', "Error: Cannot find module 'missing'"],
    ['index.nope', 'Runtime.HandlerNotFound', 'index.nope is undefined or not exported'],
    ['index', 'Runtime.MalformedHandlerName', 'Bad handler'],
  ])('_HANDLER=%s fails init with %s, and the queued invoke gets that error', async (handler, errorType, message) => {
    const runtime = await startRic(handler);
    const queued = runtime.invoke({ case: 'echo' });

    const init = await runtime.waitForInit();
    expect(init.kind).toBe('init-error');
    if (init.kind !== 'init-error') return;
    expect(init.error.errorType).toBe(errorType);
    expect(init.error.errorMessage).toContain(message);

    const outcome = await queued;
    expect(outcome.kind).toBe('init-error');
    // The client exits after posting /init/error.
    expect((await runtime.exited).code).not.toBe(0);
  });
});

describe('aws-lambda-ric 4.x against our Runtime API server: response streaming', () => {
  it('streams chunks with the handler’s content type', async () => {
    const runtime = await startReadyRic('index.handler', STREAMING_FIXTURE);
    const streamed = await readStream(await runtime.invoke({ case: 'text' }));
    expect(streamed.contentType).toBe('text/plain');
    expect(streamed.body.toString()).toBe('hello world');
    expect(streamed.trailers).toEqual({});
  });

  it('streams an HTTP-integration response: JSON prelude, 8 NUL bytes, body', async () => {
    const runtime = await startReadyRic('index.handler', STREAMING_FIXTURE);
    const streamed = await readStream(await runtime.invoke({ case: 'http' }));
    expect(streamed.contentType).toBe('application/vnd.awslambda.http-integration-response');
    const prelude = JSON.stringify({ statusCode: 201, headers: { 'x-fixture': 'streaming' } });
    expect(streamed.body.equals(Buffer.concat([Buffer.from(prelude), Buffer.alloc(8), Buffer.from('created')]))).toBe(true);
  });

  it('delivers an error thrown mid-stream in the trailers, after the bytes already sent', async () => {
    const runtime = await startReadyRic('index.handler', STREAMING_FIXTURE);
    const streamed = await readStream(await runtime.invoke({ case: 'failMidway' }));
    expect(streamed.body.toString()).toBe('partial');
    expect(streamed.trailers.errorType).toBe('StreamBrokeError');
    expect(streamed.trailers.errorBody).toMatchObject({ errorType: 'StreamBrokeError', errorMessage: 'the stream broke' });

    // The same process serves the next streamed invoke.
    expect((await readStream(await runtime.invoke({ case: 'text' }))).body.toString()).toBe('hello world');
  });
});
