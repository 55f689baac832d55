// A function's lifecycle through the real @aws-sdk/client-lambda over HTTP, against the real service and store:
// CreateFunction answers Pending and the function becomes Active once its code is durable on disk; an update answers
// InProgress and becomes Successful; each transition mints a RevisionId; an update during an update, and an invoke
// of a Pending function, are refused with AWS's 409s; the SDK's functionActiveV2 and functionUpdatedV2 waiters work.
// What keeps a function Pending here is real work: a package of many files, each flushed to disk (an fsync each).
import {
  CreateFunctionCommand,
  type CreateFunctionCommandInput,
  GetFunctionCommand,
  InvokeCommand,
  type LambdaClient,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
} from '@aws-sdk/client-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FunctionInvoker } from '../src/service/index.ts';
import { makeZip } from '../tools/zip.ts';
import { LOCAL_WAITER, ROLE } from './support/lambda-fixtures.ts';
import { failure, makeDataDir, removeDataDir, startLocalService, type LocalService } from './support/local-service.ts';

const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Answers every invoke with "ok": what reaches it was let through. */
const invoker: FunctionInvoker = {
  invoke: async () => ({ outcome: { kind: 'success', requestId: 'r', body: Buffer.from('"ok"'), contentType: 'application/json', durationMs: 1 } }),
};

let dataDir: string;
let service: LocalService;
let lambda: LambdaClient;

beforeEach(async () => {
  dataDir = await makeDataDir('lambkin-lifecycle-');
  service = await startLocalService({ dataDir, invoker });
  lambda = service.lambda;
});

afterEach(async () => {
  await service.stop();
  await removeDataDir(dataDir);
});

/** Enough files that flushing them (an fsync each) outlasts the next request by far: a few hundred ms. */
const MANY = 400;

/** A package of `files` files: each is flushed to disk before the function is Active (about a millisecond each). */
const packageOf = (files: number, tag = 'v1') =>
  makeZip([
    { name: 'index.mjs', content: `export const handler = async () => '${tag}';` },
    ...Array.from({ length: files }, (_, i) => ({ name: `node_modules/m${i}/index.js`, content: `module.exports = ${i}; // ${tag}\n` })),
  ]);

const zipFunction = (name: string, zip: Buffer, extra: Partial<CreateFunctionCommandInput> = {}): CreateFunctionCommandInput => ({
  FunctionName: name,
  Role: ROLE,
  Runtime: 'nodejs24.x',
  Handler: 'index.handler',
  Code: { ZipFile: zip },
  ...extra,
});

const configuration = async (name: string) => (await lambda.send(new GetFunctionCommand({ FunctionName: name }))).Configuration!;

describe('CreateFunction', () => {
  // AWS: test_lambda_api.snapshot.json, TestLambdaFunction::test_function_lifecycle (create_response, then
  // get_function_response after the function_active_v2 waiter).
  it('answers Pending with its reason, and the functionActiveV2 waiter sees it become Active with a new RevisionId', async () => {
    const created = await lambda.send(new CreateFunctionCommand(zipFunction('born', packageOf(MANY))));
    expect(created).toMatchObject({ State: 'Pending', StateReason: 'The function is being created.', StateReasonCode: 'Creating' });
    expect(created).not.toHaveProperty('LastUpdateStatus');
    expect(created.RevisionId).toMatch(UUID);
    // The package's files are still being flushed: GetFunction says Pending too.
    expect(await configuration('born')).toMatchObject({ State: 'Pending', StateReasonCode: 'Creating', RevisionId: created.RevisionId });

    const waited = await waitUntilFunctionActiveV2({ client: lambda, ...LOCAL_WAITER }, { FunctionName: 'born' });
    expect(waited.state).toBe('SUCCESS');
    const active = await configuration('born');
    expect(active).toMatchObject({ State: 'Active', LastUpdateStatus: 'Successful' });
    expect(active).not.toHaveProperty('StateReason');
    expect(active).not.toHaveProperty('StateReasonCode');
    expect(active.RevisionId).toMatch(UUID);
    expect(active.RevisionId).not.toBe(created.RevisionId);
  });

  // AWS: "ResourceConflictException: The operation cannot be performed at this time. The function is currently in
  // the following state: Pending" (Lambda developer guide, troubleshooting-invocation; no LocalStack recording).
  it('refuses to invoke a Pending function with 409, and invokes it once it is Active', async () => {
    await lambda.send(new CreateFunctionCommand(zipFunction('early', packageOf(MANY))));
    const error = await failure(lambda.send(new InvokeCommand({ FunctionName: 'early' })));
    expect(error.name).toBe('ResourceConflictException');
    expect(error.$metadata.httpStatusCode).toBe(409);
    expect(error.message).toBe('The operation cannot be performed at this time. The function is currently in the following state: Pending');

    await waitUntilFunctionActiveV2({ client: lambda, ...LOCAL_WAITER }, { FunctionName: 'early' });
    const invoked = await lambda.send(new InvokeCommand({ FunctionName: 'early' }));
    expect(Buffer.from(invoked.Payload!).toString()).toBe('"ok"');
  });

  it('refuses an update of a Pending function with 409', async () => {
    await lambda.send(new CreateFunctionCommand(zipFunction('unready', packageOf(MANY))));
    const error = await failure(lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'unready', Timeout: 10 })));
    expect(error.name).toBe('ResourceConflictException');
    expect(error.message).toBe('The operation cannot be performed at this time. The function is currently in the following state: Pending');
  });
});

describe('UpdateFunctionCode and UpdateFunctionConfiguration', () => {
  const activeFunction = async (name: string) => {
    await lambda.send(new CreateFunctionCommand(zipFunction(name, packageOf(2))));
    await waitUntilFunctionActiveV2({ client: lambda, ...LOCAL_WAITER }, { FunctionName: name });
    return configuration(name);
  };

  // AWS: test_lambda_api.snapshot.json, TestLambdaFunction::test_function_lifecycle (update_func_conf_response,
  // update_code_response, and get_function_response_postupdate/postcodeupdate after the function_updated_v2 waiter).
  it('answer InProgress with its reason; the functionUpdatedV2 waiter sees Successful, with a new RevisionId each time', async () => {
    const active = await activeFunction('changing');

    const configured = await lambda.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: 'changing', Description: 'Changed-Description', Environment: { Variables: { ENV_A: 'a' } } }),
    );
    expect(configured).toMatchObject({
      State: 'Active',
      LastUpdateStatus: 'InProgress',
      LastUpdateStatusReason: 'The function is being created.',
      LastUpdateStatusReasonCode: 'Creating',
      Description: 'Changed-Description',
      Environment: { Variables: { ENV_A: 'a' } },
    });
    expect(configured.RevisionId).not.toBe(active.RevisionId);
    expect((await waitUntilFunctionUpdatedV2({ client: lambda, ...LOCAL_WAITER }, { FunctionName: 'changing' })).state).toBe('SUCCESS');
    const configuredDone = await configuration('changing');
    expect(configuredDone).toMatchObject({ State: 'Active', LastUpdateStatus: 'Successful', Description: 'Changed-Description' });
    expect(configuredDone).not.toHaveProperty('LastUpdateStatusReason');
    expect(configuredDone).not.toHaveProperty('LastUpdateStatusReasonCode');
    expect(configuredDone.RevisionId).not.toBe(configured.RevisionId);

    const coded = await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'changing', ZipFile: packageOf(MANY, 'v2') }));
    expect(coded).toMatchObject({ State: 'Active', LastUpdateStatus: 'InProgress', LastUpdateStatusReasonCode: 'Creating' });
    expect(coded.RevisionId).not.toBe(configuredDone.RevisionId);
    // Its package is still being flushed.
    expect(await configuration('changing')).toMatchObject({ LastUpdateStatus: 'InProgress', RevisionId: coded.RevisionId });
    await waitUntilFunctionUpdatedV2({ client: lambda, ...LOCAL_WAITER }, { FunctionName: 'changing' });
    const codedDone = await configuration('changing');
    expect(codedDone).toMatchObject({ LastUpdateStatus: 'Successful', CodeSha256: coded.CodeSha256 });
    expect(codedDone.RevisionId).not.toBe(coded.RevisionId);
  });

  // AWS: test_lambda_api.snapshot.json, TestLambdaFunction::test_lambda_concurrent_code_updates and
  // test_lambda_concurrent_config_updates (update-during-in-progress-update-exc).
  it('refuses an update while another is in progress with 409, in AWS words', async () => {
    await activeFunction('busy');
    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'busy', ZipFile: packageOf(MANY, 'v2') }));
    const code = await failure(lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'busy', ZipFile: packageOf(2, 'v3') })));
    const config = await failure(lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'busy', Timeout: 10 })));
    for (const error of [code, config]) {
      expect(error.name).toBe('ResourceConflictException');
      expect(error.$metadata.httpStatusCode).toBe(409);
      expect(error.message).toBe(`The operation cannot be performed at this time. An update is in progress for resource: ${ARN}busy`);
    }
    // An invoke during an update is served, as in Lambda.
    expect(Buffer.from((await lambda.send(new InvokeCommand({ FunctionName: 'busy' }))).Payload!).toString()).toBe('"ok"');

    await waitUntilFunctionUpdatedV2({ client: lambda, ...LOCAL_WAITER }, { FunctionName: 'busy' });
    const after = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'busy', Timeout: 10 }));
    expect(after.LastUpdateStatus).toBe('InProgress');
  });

  it('lets one of two updates sent at once through and refuses the other with 409', async () => {
    await activeFunction('racing');
    const results = await Promise.allSettled([
      lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'racing', ZipFile: packageOf(MANY, 'a') })),
      lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'racing', ZipFile: packageOf(MANY, 'b') })),
    ]);
    const refused = results.filter((result) => result.status === 'rejected').map((result) => (result as PromiseRejectedResult).reason);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0].name).toBe('ResourceConflictException');
    expect(refused[0].message).toBe(`The operation cannot be performed at this time. An update is in progress for resource: ${ARN}racing`);
  });
});

describe('a restart between the answer and the transition', () => {
  it('finishes the transition when the function is next read', async () => {
    const created = await lambda.send(new CreateFunctionCommand(zipFunction('interrupted', packageOf(MANY))));
    await service.stop();
    service = await startLocalService({ dataDir, invoker });
    lambda = service.lambda;
    const got = await configuration('interrupted');
    expect(got).toMatchObject({ State: 'Active', LastUpdateStatus: 'Successful' });
    expect(got.RevisionId).not.toBe(created.RevisionId);
  });
});
