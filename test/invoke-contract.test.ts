// Invoke's HTTP contract is written once (src/invocation/) and both hosts answer by it: `lambkin serve` (its Invoke
// path, with the tests' process invoker) and the emulator (the bundle an image runs, as a process). Each check is
// made against both, as a user would see it: the real SDK, or plain HTTP where the SDK hides what is checked (trailers).
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdaEnvironmentError } from '../src/environments/errors.ts';
import { ERROR_MESSAGE_MEMBERS } from '../src/invocation/error-message-members.ts';
import { lambdaErrorOf } from '../src/invocation/invoke-errors.ts';
import { MAX_CLIENT_CONTEXT_BYTES } from '../src/invocation/invoke-request.ts';
import { ThrottleError } from '../src/scheduling/throttle.ts';
import { FunctionAlreadyExists } from '../src/service/storage/errors.ts';
import { makeZip } from '../tools/zip.ts';
import { emulatorBundle, nodeRuntimeBootstrap, startEmulator, stopAllEmulators } from './support/emulator-process.ts';
import { createActiveFunction, payloadJson, ROLE } from './support/lambda-fixtures.ts';
import { failure, makeDataDir, removeDataDir, startLocalService, type LocalService } from './support/local-service.ts';
import { ProcessInvoker } from './support/process-invoker.ts';

const HANDLERS = `
export const handler = async (event, context) => ({ custom: context.clientContext?.custom ?? null });
export const streamFails = awslambda.streamifyResponse(async (event, stream) => {
  stream.setContentType('text/plain');
  stream.write('partial ');
  await new Promise((resolve) => setTimeout(resolve, 20));
  throw new TypeError('broke mid-stream');
});
`;

interface Host {
  lambda: LambdaClient;
  /** The name the host knows the function by, for the handler asked for. */
  name: string;
  invokeUrl: string;
}

let dataDir: string;
let taskRoot: string;
let service: LocalService | undefined;
let invoker: ProcessInvoker;
const clients: LambdaClient[] = [];

beforeAll(async () => {
  dataDir = await makeDataDir('lambkin-contract-');
  invoker = new ProcessInvoker();
  service = await startLocalService({ dataDir, invoker });
  const ZipFile = makeZip([{ name: 'index.mjs', content: HANDLERS }]);
  for (const [FunctionName, Handler] of [
    ['plain', 'index.handler'],
    ['stream-fails', 'index.streamFails'],
  ]) {
    await createActiveFunction(service.lambda, { FunctionName, Role: ROLE, Runtime: 'nodejs24.x', Handler, Code: { ZipFile } });
  }
  taskRoot = await mkdtemp(join(tmpdir(), 'lambkin-contract-task-'));
  await writeFile(join(taskRoot, 'index.mjs'), HANDLERS);
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  await stopAllEmulators();
  await service?.stop();
  await invoker?.close();
  if (dataDir) await removeDataDir(dataDir);
  if (taskRoot) await rm(taskRoot, { recursive: true, force: true });
});

const hosts: Record<'serve' | 'emulator', (handler: 'handler' | 'streamFails') => Promise<Host>> = {
  serve: async (handler) => {
    const name = handler === 'handler' ? 'plain' : 'stream-fails';
    return { lambda: service!.lambda, name, invokeUrl: `${service!.endpoint}/2015-03-31/functions/${name}/invocations` };
  },
  emulator: async (handler) => {
    const emulator = await startEmulator({ args: [nodeRuntimeBootstrap, `index.${handler}`], env: { LAMBDA_TASK_ROOT: taskRoot }, cwd: taskRoot });
    const lambda = new LambdaClient({ endpoint: emulator.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
    clients.push(lambda);
    return { lambda, name: 'function', invokeUrl: emulator.invokeUrl };
  },
};

/** A base64 JSON client context of exactly `length` characters (a multiple of 4). */
function clientContextOf(length: number): string {
  const json = JSON.stringify({ custom: { pad: '' } });
  const padded = JSON.stringify({ custom: { pad: 'x'.repeat((length / 4) * 3 - json.length) } });
  const encoded = Buffer.from(padded).toString('base64');
  expect(encoded.length).toBe(length);
  return encoded;
}

describe.each(['serve', 'emulator'] as const)('under %s', (hostName) => {
  it(`takes a client context of ${MAX_CLIENT_CONTEXT_BYTES - 3} bytes and refuses one over ${MAX_CLIENT_CONTEXT_BYTES} in Lambda's words`, async () => {
    const host = await hosts[hostName]('handler');
    const invoke = (ClientContext: string) => host.lambda.send(new InvokeCommand({ FunctionName: host.name, Payload: Buffer.from('{}'), ClientContext }));
    const taken = await invoke(clientContextOf(MAX_CLIENT_CONTEXT_BYTES - 3));
    expect(payloadJson(taken).custom.pad).toMatch(/^x+$/);

    const refused = await failure(invoke(clientContextOf(MAX_CLIENT_CONTEXT_BYTES + 1)));
    expect(refused.name).toBe('InvalidParameterValueException');
    expect(refused.$metadata.httpStatusCode).toBe(400);
    expect(refused.message).toBe(
      "1 validation error detected: Value at 'clientContext' failed to satisfy constraint: Member must have length less than or equal to 3583",
    );
    const notJson = await failure(invoke(Buffer.from('not json').toString('base64')));
    expect(notJson.message).toBe('Client context must be a valid Base64-encoded JSON object.');
  });

  it('ends a stream that fails after its first byte with both trailers: X-Amz-Function-Error and the error type', async () => {
    const host = await hosts[hostName]('streamFails');
    const res = await request(host.invokeUrl, { method: 'POST', body: '{}' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain');
    expect(res.headers.trailer).toBe('X-Amz-Function-Error, Lambda-Runtime-Function-Error-Type');
    expect(res.headers['x-amz-executed-version']).toBe('$LATEST');
    expect(await res.body.text()).toBe('partial ');
    expect(res.trailers).toEqual({ 'x-amz-function-error': 'Unhandled', 'lambda-runtime-function-error-type': 'TypeError' });
  });
});

describe('one translation of what an invoke throws', () => {
  it('answers a throttle with 429, its Reason and Retry-After', () => {
    const error = lambdaErrorOf(new ThrottleError('ReservedFunctionConcurrentInvocationLimitExceeded', 'Rate Exceeded.', 0.2), 'f');
    expect([error.status, error.type, error.headers, JSON.parse(error.toBody())]).toEqual([
      429,
      'TooManyRequestsException',
      { 'Retry-After': '1' },
      { Type: 'User', message: 'Rate Exceeded.', Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' },
    ]);
    expect(lambdaErrorOf(new ThrottleError('ConcurrentInvocationLimitExceeded', 'Rate Exceeded.', undefined), 'f').headers).toEqual({});
  });

  it("answers an environment's refusal in its error type; the memory budget as a concurrency throttle", () => {
    const budget = lambdaErrorOf(new LambdaEnvironmentError('TooManyRequestsException', 'no memory left'), 'f');
    expect([budget.status, budget.fields, budget.headers]).toEqual([429, { Reason: 'ConcurrentInvocationLimitExceeded' }, { 'Retry-After': '1' }]);
    const missing = lambdaErrorOf(new LambdaEnvironmentError('ResourceNotFoundException', 'no image'), 'f');
    expect([missing.status, JSON.parse(missing.toBody())]).toEqual([404, { Type: 'User', Message: 'no image' }]);
    expect(lambdaErrorOf(new LambdaEnvironmentError('ServiceException', 'engine down'), 'f').status).toBe(500);
  });

  it("answers a store's refusal in Lambda's words, and anything else as lambkin's fault", () => {
    expect(lambdaErrorOf(new FunctionAlreadyExists('f'), 'f').status).toBe(409);
    const fault = lambdaErrorOf(new Error('docker is gone'), 'f');
    expect([fault.status, JSON.parse(fault.toBody())]).toEqual([500, { Type: 'Service', Message: 'lambkin could not run function f: docker is gone' }]);
  });
});

describe('the emulator bundle', () => {
  it("says errors in the model's message members without carrying the model", async () => {
    // The members come from the model's generator (error-message-members.ts), as botocore names them.
    expect([ERROR_MESSAGE_MEMBERS.ResourceNotFoundException, ERROR_MESSAGE_MEMBERS.InvalidParameterValueException]).toEqual(['Message', 'message']);
    // The model's routes (ListFunctions's among them) stay out of the bundle every image starts.
    expect(await readFile(emulatorBundle, 'utf8')).not.toContain('/2015-03-31/functions/{FunctionName}/configuration');
  });
});
