// The execution environment a nodejs24.x function sees under lambkin serve, against what AWS gave the same
// function: its variables (AWS's recording in LocalStack's test_lambda_common.snapshot.json,
// TestLambdaRuntimesCommon::test_introspection_invoke[nodejs24.x]), a trace header on every invoke, the runtime
// wrapper AWS_LAMBDA_EXEC_WRAPPER (test_runtime_wrapper_invoke[nodejs24.x]), and /tmp kept across the runtime reset
// a timeout or a crash causes. Real containers, the real SDK.
import { UpdateFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeZip } from '../tools/zip.ts';
import { requireDocker } from './support/docker.ts';
import { createNodeFunction, invokeJson, waitUntilUpdated } from './support/lambda-fixtures.ts';
import { DockerLambdaServices, type LambdaService } from './support/lambda-service.ts';

const docked = await requireDocker();

// LocalStack's introspection handler for nodejs (functions/common/introspection/nodejs/src/index.js), in ESM.
const INTROSPECTION = `
export const handler = async (event, context) => ({ environment: process.env, ctx: { function_name: context.functionName } });
`;
// What serve's invoke of it must show, as AWS's nodejs24.x recording does (the placeholders of the recording, such as
// <region>, are checked by the tests of the variables that carry them).
const AWS_NODEJS24_FIXED = {
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
  AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
  AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
  AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
  LAMBDA_RUNTIME_DIR: '/var/runtime',
  LAMBDA_TASK_ROOT: '/var/task',
  LANG: 'en_US.UTF-8',
  LD_LIBRARY_PATH: '/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib',
  NODE_PATH: '/opt/nodejs/node24/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task',
  PATH: '/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin',
  PWD: '/var/task',
  SHLVL: '0',
  TEST_KEY: 'TEST_VAL',
  TZ: ':UTC',
  _AWS_XRAY_DAEMON_PORT: '2000',
  _HANDLER: 'index.handler',
};
/** Every variable of AWS's recording. */
const AWS_NODEJS24_NAMES = [
  ...Object.keys(AWS_NODEJS24_FIXED),
  'AWS_ACCESS_KEY_ID',
  'AWS_DEFAULT_REGION',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_LAMBDA_RUNTIME_API',
  'AWS_REGION',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_XRAY_DAEMON_ADDRESS',
  '_AWS_XRAY_DAEMON_ADDRESS',
  '_X_AMZN_TRACE_ID',
];
/** AWS's trace header when the caller sends none, under the default tracing mode (PassThrough): not sampled. */
const GENERATED_TRACE = /^Root=1-([0-9a-f]{8})-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/;

type Environment = Record<string, string>;

const services = new DockerLambdaServices();
let service: LambdaService;

beforeAll(async () => {
  if (!docked) return;
  await services.backend.prepare();
  service = await services.start();
}, 60_000);
afterAll(() => services.close(), 60_000);

describe.skipIf(!docked)('the execution environment under lambkin serve', () => {
  it("a nodejs24.x handler sees AWS's variables: PATH, LD_LIBRARY_PATH, NODE_PATH, the X-Ray ones and a trace header", async () => {
    await createNodeFunction(service.lambda, 'introspection', makeZip([{ name: 'index.mjs', content: INTROSPECTION }]), {
      MemorySize: 1024,
      Environment: { Variables: { TEST_KEY: 'TEST_VAL' } },
    });
    const { body } = await invokeJson<{ environment: Environment }>(service.lambda, 'introspection', { simple: 'payload' });
    const env = body.environment;
    expect(env).toMatchObject(AWS_NODEJS24_FIXED);
    for (const name of AWS_NODEJS24_NAMES) expect(env, name).toHaveProperty(name);
    expect(env).toMatchObject({ AWS_LAMBDA_FUNCTION_NAME: 'introspection', AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/introspection' });
    expect(env.AWS_REGION).toBe(env.AWS_DEFAULT_REGION);
    // On AWS the X-Ray daemon is at the Runtime API's host (169.254.100.1:9001 and 169.254.100.1:2000).
    const runtimeHost = env.AWS_LAMBDA_RUNTIME_API!.replace(/:\d+$/, '');
    expect(env._AWS_XRAY_DAEMON_ADDRESS).toBe(runtimeHost);
    expect(env.AWS_XRAY_DAEMON_ADDRESS).toBe(`${runtimeHost}:2000`);
    expect(env._X_AMZN_TRACE_ID).toMatch(GENERATED_TRACE);
    // And nothing else: not the HOME and HOSTNAME Docker adds, nor the base image's NODE_VERSION.
    expect(Object.keys(env).filter((name) => !AWS_NODEJS24_NAMES.includes(name))).toEqual([]);
  }, 60_000);

  it('every invoke gets its own trace header, or the caller X-Amzn-Trace-Id as sent', async () => {
    const traceOf = async (headers: Record<string, string> = {}) => {
      const response = await fetch(`${service.endpoint}/2015-03-31/functions/introspection/invocations`, { method: 'POST', body: '{}', headers });
      expect(response.status).toBe(200);
      return ((await response.json()) as { environment: Environment }).environment._X_AMZN_TRACE_ID;
    };
    const before = Math.floor(Date.now() / 1000);
    const [first, second] = [await traceOf(), await traceOf()];
    const after = Math.floor(Date.now() / 1000);
    for (const trace of [first, second]) {
      const epoch = Number.parseInt(GENERATED_TRACE.exec(trace ?? '')?.[1] ?? '', 16);
      expect(epoch).toBeGreaterThanOrEqual(before);
      expect(epoch).toBeLessThanOrEqual(after);
    }
    expect(first).not.toBe(second);

    const sent = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
    expect(await traceOf({ 'X-Amzn-Trace-Id': sent })).toBe(sent);
    // And the next invoke without one does not inherit it.
    expect(await traceOf()).toMatch(GENERATED_TRACE);
  }, 60_000);

  it('AWS_LAMBDA_EXEC_WRAPPER runs the runtime through the wrapper; one that does not exist fails the init with exit status 127', async () => {
    // test_runtime_wrapper_invoke[nodejs24.x]: the wrapper in the function's code exports a variable and execs "$@".
    const wrapper = '#!/bin/sh\nexport WRAPPER_VAR=test-value-42\nexec "$@"\n';
    const zip = makeZip([
      { name: 'index.mjs', content: INTROSPECTION },
      { name: 'environment_wrapper', content: wrapper, mode: 0o755 },
    ]);
    await createNodeFunction(service.lambda, 'wrapped', zip, { Environment: { Variables: { AWS_LAMBDA_EXEC_WRAPPER: '/var/task/environment_wrapper' } } });
    const wrapped = await invokeJson<{ environment: Environment }>(service.lambda, 'wrapped', { simple: 'payload' });
    expect(wrapped.FunctionError).toBeUndefined();
    expect(wrapped.body.environment).toMatchObject({ WRAPPER_VAR: 'test-value-42', AWS_LAMBDA_EXEC_WRAPPER: '/var/task/environment_wrapper' });

    await service.lambda.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: 'wrapped', Environment: { Variables: { AWS_LAMBDA_EXEC_WRAPPER: '/opt/missing_wrapper' } } }),
    );
    await waitUntilUpdated(service.lambda, 'wrapped');
    const missing = await invokeJson<{ errorType: string; errorMessage: string }>(service.lambda, 'wrapped', {}, { tail: true });
    expect(missing.FunctionError).toBe('Unhandled');
    expect(missing.body.errorType).toBe('Runtime.ExitError');
    expect(missing.body.errorMessage).toMatch(/Runtime exited with error: exit status 127$/);
    expect(missing.log).toContain('/opt/missing_wrapper: does not exist');
  }, 90_000);

  it('/tmp is kept across the runtime reset after a timeout and after a crash: the next invoke finds the files', async () => {
    const handler = `
import { readFileSync, writeFileSync } from 'node:fs';
const bootedAt = process.hrtime.bigint().toString();
export const handler = async (event) => {
  let found = null;
  try { found = readFileSync('/tmp/kept', 'utf8'); } catch {}
  if (event.write) writeFileSync('/tmp/kept', event.write);
  if (event.next === 'hang') await new Promise((resolve) => setTimeout(resolve, 10_000));
  if (event.next === 'crash') process.exit(1);
  return { found, runtime: process.pid + ':' + bootedAt };
};
`;
    await createNodeFunction(service.lambda, 'resettable', makeZip([{ name: 'index.mjs', content: handler }]), { Timeout: 1 });
    const first = await invokeJson<{ runtime: string }>(service.lambda, 'resettable', {});
    const timedOut = await invokeJson<{ errorType: string }>(service.lambda, 'resettable', { write: 'before the timeout', next: 'hang' });
    expect(timedOut.FunctionError).toBe('Unhandled');
    expect(timedOut.body.errorType).toBe('Sandbox.Timedout');
    const afterTimeout = await invokeJson<{ found: string | null; runtime: string }>(service.lambda, 'resettable', {});
    expect(afterTimeout.body.found).toBe('before the timeout');
    expect(afterTimeout.body.runtime).not.toBe(first.body.runtime); // a fresh runtime

    const crashed = await invokeJson<{ errorType: string }>(service.lambda, 'resettable', { write: 'before the crash', next: 'crash' });
    expect(crashed.body.errorType).toBe('Runtime.ExitError');
    const afterCrash = await invokeJson<{ found: string | null }>(service.lambda, 'resettable', {});
    expect(afterCrash.body.found).toBe('before the crash');
  }, 90_000);
});
