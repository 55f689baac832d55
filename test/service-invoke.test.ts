// Invoke through the real @aws-sdk/client-lambda against `lambkin serve`'s API, with the function's zip run by
// our own runtime (runtime/bootstrap, Node 24) as a child process: the HTTP mapping of every outcome, the
// header contract (X-Amz-Function-Error, X-Amz-Log-Result, X-Amz-Executed-Version) and the request checks.
import { InvokeCommand, type LambdaClient, UpdateFunctionConfigurationCommand, type InvokeCommandInput } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LambdaApiServer } from '../src/service/index.ts';
import { failure, makeDataDir, removeDataDir, startLocalService, type LocalService } from './support/local-service.ts';
import { ProcessInvoker } from './support/process-invoker.ts';
import { makeZip } from '../tools/zip.ts';
import { createActiveFunction, payloadJson, ROLE, waitUntilUpdated } from './support/lambda-fixtures.ts';

const HANDLER = `
export const handler = async (event, context) => {
  switch (event.case) {
    case 'throw':
      throw new TypeError('handler says no');
    case 'log':
      console.log('hello from the handler');
      return { logged: true };
    case 'context':
      return { clientContext: context.clientContext ?? null, arn: context.invokedFunctionArn, memory: context.memoryLimitInMB };
    case 'env':
      return { greeting: process.env.GREETING ?? null };
    case 'sleep':
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      return 'late';
    default:
      return { received: event };
  }
};
`;

const STREAMING_HANDLER = `
export const handler = awslambda.streamifyResponse(async (event, stream) => {
  stream.setContentType('text/plain');
  stream.write('hello ');
  await new Promise((resolve) => setTimeout(resolve, 20));
  stream.end('streamed world');
});
`;

const BROKEN_AT_INIT = "throw new Error('cannot start');\n";

let dataDir: string;
let service: LocalService | undefined;
let invoker: ProcessInvoker;
let server: LambdaApiServer;
let lambda: LambdaClient;

beforeAll(async () => {
  dataDir = await makeDataDir('lambkin-invoke-');
  invoker = new ProcessInvoker();
  service = await startLocalService({ dataDir, invoker });
  ({ server, lambda } = service);
  const ZipFile = makeZip([
    { name: 'index.mjs', content: HANDLER },
    { name: 'stream.mjs', content: STREAMING_HANDLER },
    { name: 'broken.mjs', content: BROKEN_AT_INIT },
  ]);
  const create = (FunctionName: string, extra: object = {}) =>
    createActiveFunction(lambda, { FunctionName, Role: ROLE, Runtime: 'nodejs24.x', Handler: 'index.handler', Code: { ZipFile }, ...extra });
  await create('echo', { MemorySize: 256 });
  // The RIE's invoke path names the function `function`.
  await create('function');
  await create('short', { Timeout: 1 });
  await create('streamer', { Handler: 'stream.handler' });
  await create('broken', { Handler: 'broken.handler' });
  await createActiveFunction(lambda, { FunctionName: 'image-only', Role: ROLE, PackageType: 'Image', Code: { ImageUri: 'not-pulled:latest' } });
});

afterAll(async () => {
  await service?.stop();
  await invoker?.close();
  if (dataDir) await removeDataDir(dataDir);
});

const invoke = (input: Partial<InvokeCommandInput> & { event?: unknown }) => {
  const { event, ...rest } = input;
  return lambda.send(
    new InvokeCommand({
      FunctionName: 'echo',
      ...(event === undefined ? {} : { Payload: Buffer.from(JSON.stringify(event)) }),
      ...rest,
    }),
  );
};

describe('RequestResponse', () => {
  it('answers 200 with the result and the executed version', async () => {
    const result = await invoke({ event: { case: 'echo', n: 1 } });
    expect(result.StatusCode).toBe(200);
    expect(result.ExecutedVersion).toBe('$LATEST');
    expect(result.FunctionError).toBeUndefined();
    expect(payloadJson(result)).toEqual({ received: { case: 'echo', n: 1 } });
  });

  it('delivers an empty body as {}', async () => {
    const result = await invoke({});
    expect(payloadJson(result)).toEqual({ received: {} });
  });

  it('reaches the function by ARN and by name:$LATEST with ?Qualifier=$LATEST', async () => {
    const byArn = await invoke({ FunctionName: 'arn:aws:lambda:us-east-1:123456789012:function:echo', event: { case: 'context' } });
    expect(payloadJson(byArn)).toMatchObject({ arn: 'arn:aws:lambda:us-east-1:123456789012:function:echo', memory: '256' });
    const qualified = await invoke({ FunctionName: 'echo:$LATEST', Qualifier: '$LATEST', event: { n: 2 } });
    expect(payloadJson(qualified)).toEqual({ received: { n: 2 } });
    // The qualifier the caller named is in the ARN the function sees (test_lambda_common.snapshot.json: an invoke
    // of `name:$LATEST` gives invokedFunctionArn `...:function:name:$LATEST`).
    const named = await invoke({ FunctionName: 'echo', Qualifier: '$LATEST', event: { case: 'context' } });
    expect(payloadJson(named)).toMatchObject({ arn: 'arn:aws:lambda:us-east-1:123456789012:function:echo:$LATEST' });
  });

  it('marks a function error with X-Amz-Function-Error: Unhandled and the error JSON', async () => {
    const result = await invoke({ event: { case: 'throw' } });
    expect(result.StatusCode).toBe(200);
    expect(result.FunctionError).toBe('Unhandled');
    expect(payloadJson(result)).toMatchObject({ errorType: 'TypeError', errorMessage: 'handler says no' });
  });

  it('marks a timeout as Unhandled, and the next invoke gets a fresh runtime', async () => {
    const result = await invoke({ FunctionName: 'short', event: { case: 'sleep' } });
    expect(result.FunctionError).toBe('Unhandled');
    expect(payloadJson(result).errorMessage).toMatch(/timed out/i);
    const next = await invoke({ FunctionName: 'short', event: { n: 3 } });
    expect(payloadJson(next)).toEqual({ received: { n: 3 } });
  });

  it('marks an init failure as Unhandled with the init error', async () => {
    const result = await invoke({ FunctionName: 'broken', event: {} });
    expect(result.StatusCode).toBe(200);
    expect(result.FunctionError).toBe('Unhandled');
    expect(payloadJson(result)).toMatchObject({ errorMessage: expect.stringContaining('cannot start') });
  });

  it('passes a streamed response through', async () => {
    const result = await invoke({ FunctionName: 'streamer', event: {} });
    expect(result.StatusCode).toBe(200);
    expect(result.FunctionError).toBeUndefined();
    expect(Buffer.from(result.Payload!).toString('utf8')).toBe('hello streamed world');
  });

  it('returns the log tail, base64, when asked with LogType Tail', async () => {
    const result = await invoke({ event: { case: 'log' }, LogType: 'Tail' });
    const log = Buffer.from(result.LogResult!, 'base64').toString('utf8');
    expect(log).toMatch(/^START RequestId: \S+ Version: \$LATEST\n/);
    expect(log).toContain('hello from the handler');
    expect(log).toMatch(/END RequestId: \S+\nREPORT RequestId: /);
    const untailed = await invoke({ event: { case: 'log' } });
    expect(untailed.LogResult).toBeUndefined();
  });

  it('passes the client context, decoded, to the function', async () => {
    const clientContext = { custom: { who: 'test' }, env: {}, client: {} };
    const result = await invoke({ event: { case: 'context' }, ClientContext: Buffer.from(JSON.stringify(clientContext)).toString('base64') });
    expect(payloadJson(result).clientContext).toMatchObject({ custom: { who: 'test' } });
  });

  it('runs the new configuration after an update', async () => {
    await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'function', Environment: { Variables: { GREETING: 'hej' } } }));
    await waitUntilUpdated(lambda, 'function');
    const result = await invoke({ FunctionName: 'function', event: { case: 'env' } });
    expect(payloadJson(result)).toEqual({ greeting: 'hej' });
  });
});

describe('other invocation types', () => {
  it('answers DryRun with 204 and runs nothing', async () => {
    const before = invoker.calls.length;
    const result = await invoke({ InvocationType: 'DryRun', event: { n: 1 } });
    expect(result.StatusCode).toBe(204);
    expect(invoker.calls.length).toBe(before);
  });

  it('refuses Event clearly on a service started without an event queue (serve always has one)', async () => {
    const error = await failure(invoke({ InvocationType: 'Event', event: { n: 1 } }));
    expect(error.name).toBe('InvalidParameterValueException');
    expect(error.message).toBe('Asynchronous (Event) invocations need an event queue, and this service has none');
  });
});

describe('request checks', () => {
  // AWS: RequestEntityTooLargeException, as the AWS CLI showed it (Zac Charles, "Deep Dive: Lambda's Request Payload
  // Size Limit", 2022), the code of every request over its limit (test_oversized_request_create_lambda).
  it('refuses a payload over 6 MB with RequestEntityTooLargeException (413)', async () => {
    const payload = Buffer.from(JSON.stringify({ pad: 'x'.repeat(6_291_456) }));
    const error = await failure(invoke({ Payload: payload }));
    expect(error.name).toBe('RequestEntityTooLargeException');
    expect(error.$metadata.httpStatusCode).toBe(413);
    expect(error.message).toBe('Request must be smaller than 6291456 bytes for the InvokeFunction operation');
  });

  it('refuses a payload that is not JSON with InvalidRequestContentException (400)', async () => {
    // AWS: test_lambda.snapshot.json, test_lambda_invoke_payload_encoding_error[message-...] (the AWS CLI v2's bytes).
    const error = await failure(invoke({ Payload: Buffer.from('99eb2c6a07a17a5968', 'hex') }));
    expect(error.name).toBe('InvalidRequestContentException');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.message).toBe(
      'Could not parse request body into json: Could not parse payload into json: Unexpected character ((CTRL-CHAR, code 153)): ' +
        "expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')\n" +
        ' at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 1]',
    );
  });

  // AWS: test_lambda.snapshot.json, TestLambdaFeatures::test_invoke_exceptions (recorded 24-11-2025): Invoke names the
  // missing function at $LATEST.
  it('answers an unknown function with ResourceNotFoundException (404)', async () => {
    const error = await failure(invoke({ FunctionName: 'nobody', event: {} }));
    expect(error.name).toBe('ResourceNotFoundException');
    expect(error.$metadata.httpStatusCode).toBe(404);
    expect(error.message).toBe('Function not found: arn:aws:lambda:us-east-1:123456789012:function:nobody:$LATEST');
  });

  it('answers a version qualifier with ResourceNotFoundException: there are no versions yet', async () => {
    const error = await failure(invoke({ Qualifier: '1', event: {} }));
    expect(error.name).toBe('ResourceNotFoundException');
    expect(error.message).toBe('Function not found: arn:aws:lambda:us-east-1:123456789012:function:echo:1');
  });

  it('refuses a qualifier in the name that differs from ?Qualifier=', async () => {
    const error = await failure(invoke({ FunctionName: 'echo:$LATEST', Qualifier: 'live', event: {} }));
    expect(error.name).toBe('InvalidParameterValueException');
  });

  it('refuses a client context that is not base64 JSON, or is too long', async () => {
    const notJson = await failure(invoke({ ClientContext: Buffer.from('nope').toString('base64'), event: {} }));
    expect(notJson.name).toBe('InvalidParameterValueException');
    const tooLong = await failure(invoke({ ClientContext: Buffer.from(JSON.stringify({ pad: 'x'.repeat(3_000) })).toString('base64'), event: {} }));
    expect(tooLong.name).toBe('InvalidParameterValueException');
  });
});

describe('the wire', () => {
  it('serves the RIE path as an Invoke of the function named `function`', async () => {
    const response = await fetch(`${server.url}/2015-03-31/functions/function/invocations`, { method: 'POST', body: '{"n":4}' });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-amz-executed-version')).toBe('$LATEST');
    expect(await response.json()).toEqual({ received: { n: 4 } });
  });

  it('answers an invoker failure (no image, no engine) with ServiceException and stays up', async () => {
    const error = await failure(invoke({ FunctionName: 'image-only', event: {} }));
    expect(error.name).toBe('ServiceException');
    expect(error.$metadata.httpStatusCode).toBe(500);
    expect(error.message).toMatch(/^lambkin could not run function image-only: /);
    const after = await invoke({ event: { n: 5 } });
    expect(payloadJson(after)).toEqual({ received: { n: 5 } });
  });
});
