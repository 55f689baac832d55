// Lambda's limits and the words it answers them with, through the real @aws-sdk/client-lambda against lambkin serve's
// API over a store in a temp dir. Each expectation is AWS's recorded answer (LocalStack's AWS-validated snapshots,
// tests/aws/services/lambda_/*.snapshot.json in localstack/localstack), named above the test that pins it.
import {
  CreateFunctionCommand,
  type CreateFunctionCommandInput,
  GetAccountSettingsCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  DeleteProvisionedConcurrencyConfigCommand,
  GetProvisionedConcurrencyConfigCommand,
  ListProvisionedConcurrencyConfigsCommand,
  PublishLayerVersionCommand,
  PublishVersionCommand,
  PutProvisionedConcurrencyConfigCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import { MAX_ZIPPED_BYTES } from '../src/limits/package-limits.ts';
import { makeZip } from '../tools/zip.ts';
import { createActiveFunction, ROLE, waitUntilUpdated } from './support/lambda-fixtures.ts';
import { failure, useLocalService, noInvoker as noInvokerFor } from './support/local-service.ts';

const noInvoker = noInvokerFor('limit tests');

const local = useLocalService('lambkin-limits-', () => ({ invoker: noInvoker }));

/** A zip of one stored (uncompressed) file of `size` bytes, as the recordings' zips were built (zipfile's default). */
const storedZip = (size: number) => makeZip([{ name: 'index.mjs', content: Buffer.alloc(size, '#'), store: true }]);

const zipFunction = (name: string, extra: Partial<CreateFunctionCommandInput> = {}): CreateFunctionCommandInput => ({
  FunctionName: name,
  Role: ROLE,
  Runtime: 'nodejs24.x',
  Handler: 'index.handler',
  Code: { ZipFile: makeZip([{ name: 'index.mjs', content: 'export const handler = async () => "hi";' }]) },
  ...extra,
});

describe('request and zip size', () => {
  // AWS: test_lambda_api.snapshot.json, TestLambdaSizeLimits::test_oversized_request_create_lambda: a zip just under
  // 50 MB and an environment that takes the request past 70,167,211 bytes.
  it('refuses a CreateFunction request over 70,167,211 bytes with RequestEntityTooLargeException (413)', async () => {
    const large = '#'.repeat(70_167_211 - MAX_ZIPPED_BYTES + 1024 * 1024);
    const request = zipFunction('too-large', { Code: { ZipFile: storedZip(MAX_ZIPPED_BYTES - 1024) }, Environment: { Variables: { largeKey: large } } });
    const error = await failure(local.lambda.send(new CreateFunctionCommand(request)));
    expect(error.name).toBe('RequestEntityTooLargeException');
    expect(error.$metadata.httpStatusCode).toBe(413);
    expect(error.message).toBe('Request must be smaller than 70167211 bytes for the CreateFunction operation');
    expect(await failure(local.lambda.send(new GetFunctionCommand({ FunctionName: 'too-large' })))).toHaveProperty('name', 'ResourceNotFoundException');
  });

  // AWS: test_lambda_api.snapshot.json, TestLambdaSizeLimits::test_oversized_zipped_create_lambda: a stored zip of a
  // 52,428,800-byte file, just over 50 MB, in a request (69.9 MB) within the request's limit.
  it('refuses a zip over 52,428,800 bytes with "Zipped size must be smaller than 52428800 bytes" (413)', async () => {
    const error = await failure(local.lambda.send(new CreateFunctionCommand(zipFunction('zip-too-large', { Code: { ZipFile: storedZip(MAX_ZIPPED_BYTES) } }))));
    expect(error.name).toBe('RequestEntityTooLargeException');
    expect(error.$metadata.httpStatusCode).toBe(413);
    expect(error.message).toBe('Zipped size must be smaller than 52428800 bytes');
  });

  // No recording of UpdateFunctionCode's or PublishLayerVersion's: their limits are CreateFunction's, named for the operation.
  it('applies both limits to UpdateFunctionCode, and the zip limit to PublishLayerVersion', async () => {
    const layer = await failure(local.lambda.send(new PublishLayerVersionCommand({ LayerName: 'big', Content: { ZipFile: storedZip(MAX_ZIPPED_BYTES) } })));
    expect(layer.name).toBe('RequestEntityTooLargeException');
    expect(layer.message).toBe('Zipped size must be smaller than 52428800 bytes');
    await createActiveFunction(local.lambda, zipFunction('update-large'));
    const zipped = await failure(local.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'update-large', ZipFile: storedZip(MAX_ZIPPED_BYTES) })));
    expect(zipped.name).toBe('RequestEntityTooLargeException');
    expect(zipped.message).toBe('Zipped size must be smaller than 52428800 bytes');
    const body = JSON.stringify({ ZipFile: 'A'.repeat(70_167_212) });
    const response = await fetch(`${local.service.endpoint}/2015-03-31/functions/update-large/code`, { method: 'PUT', body });
    expect(response.status).toBe(413);
    expect(response.headers.get('x-amzn-errortype')).toBe('RequestEntityTooLargeException');
    expect(await response.json()).toEqual({ Type: 'User', message: 'Request must be smaller than 70167211 bytes for the UpdateFunctionCode operation' });
  });
});

describe('UpdateFunctionCode with Architectures', () => {
  // AWS: test_lambda.snapshot.json, TestLambdaBehavior::test_mixed_architecture (update_function_code_response:
  // Architectures [arm64] at once, the update InProgress).
  it('applies the architecture given with the new code', async () => {
    const created = await createActiveFunction(local.lambda, zipFunction('arch', { Architectures: ['x86_64'] }));
    expect(created.Architectures).toEqual(['x86_64']);
    const zip = makeZip([{ name: 'index.mjs', content: 'export const handler = async () => "arm";' }]);
    const updated = await local.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'arch', ZipFile: zip, Architectures: ['arm64'] }));
    expect(updated).toMatchObject({ Architectures: ['arm64'], LastUpdateStatus: 'InProgress' });
    await waitUntilUpdated(local.lambda, 'arch');
    const after = await local.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'arch' }));
    expect(after).toMatchObject({ Architectures: ['arm64'], LastUpdateStatus: 'Successful' });
    // Left out, it stays as it is.
    await local.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'arch', ZipFile: zip }));
    await waitUntilUpdated(local.lambda, 'arch');
    expect((await local.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'arch' }))).Architectures).toEqual(['arm64']);
  });

  // AWS: test_lambda_api.snapshot.json, TestLambdaFunction::test_create_lambda_exceptions (multiple_architectures,
  // uppercase_architecture): the API model's constraints on Architectures, which UpdateFunctionCode's shares.
  it("refuses two architectures, or one outside the enum, in AWS's words, and changes nothing", async () => {
    await createActiveFunction(local.lambda, zipFunction('arch-refused'));
    const zip = makeZip([{ name: 'index.mjs', content: 'export const handler = async () => 1;' }]);
    const two = await failure(
      local.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'arch-refused', ZipFile: zip, Architectures: ['x86_64', 'arm64'] })),
    );
    expect(two.name).toBe('ValidationException');
    expect(two.$metadata.httpStatusCode).toBe(400);
    expect(two.message).toBe(
      "1 validation error detected: Value '[x86_64, arm64]' at 'architectures' failed to satisfy constraint: Member must have length less than or equal to 1",
    );
    const upper = await failure(
      local.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'arch-refused', ZipFile: zip, Architectures: ['X86_64' as 'x86_64'] })),
    );
    expect(upper.name).toBe('ValidationException');
    expect(upper.message).toBe(
      "1 validation error detected: Value '[X86_64]' at 'architectures' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]",
    );
    const now = await local.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'arch-refused' }));
    expect(now).toMatchObject({ Architectures: ['x86_64'], LastUpdateStatus: 'Successful' });
  });
});

describe('GetAccountSettings', () => {
  // AWS: test_lambda_api.snapshot.json, TestLambdaAccountSettings::test_account_settings_total_code_size: a function
  // adds its zip's size (276), a layer its zip's (169), and another version of the layer the same again (169).
  it("counts each function's and each layer version's zip in AccountUsage.TotalCodeSize", async () => {
    const usage = async () => (await local.lambda.send(new GetAccountSettingsCommand({}))).AccountUsage!;
    expect(await usage()).toEqual({ TotalCodeSize: 0, FunctionCount: 0 });
    const code = makeZip([{ name: 'index.mjs', content: 'export const handler = async () => "counted";' }]);
    await createActiveFunction(local.lambda, zipFunction('counted', { Code: { ZipFile: code } }));
    expect(await usage()).toEqual({ TotalCodeSize: code.length, FunctionCount: 1 });
    const layer = makeZip([{ name: 'nodejs/node_modules/dep/index.js', content: 'module.exports = 1;' }]);
    await local.lambda.send(new PublishLayerVersionCommand({ LayerName: 'dep', Content: { ZipFile: layer } }));
    expect(await usage()).toEqual({ TotalCodeSize: code.length + layer.length, FunctionCount: 1 });
    await local.lambda.send(new PublishLayerVersionCommand({ LayerName: 'dep', Content: { ZipFile: layer } }));
    expect(await usage()).toEqual({ TotalCodeSize: code.length + 2 * layer.length, FunctionCount: 1 });
  });
});

describe('deprecated runtimes', () => {
  const deprecation = (runtime: string) =>
    `The runtime parameter of ${runtime} is no longer supported for creating or updating AWS Lambda functions. ` +
    'We recommend you use a supported runtime while creating or updating functions.';

  // AWS: test_lambda_api.snapshot.json, TestRuntimeValidation::test_create_deprecated_function_runtime_with_validation_enabled
  // (recorded 12-01-2026), one recording per runtime.
  it('refuses creating a function on each runtime AWS retired, in its words', async () => {
    for (const runtime of ['java8', 'go1.x', 'provided', 'ruby2.7', 'nodejs14.x', 'python3.7', 'dotnetcore3.1', 'nodejs12.x']) {
      const error = await failure(
        local.lambda.send(new CreateFunctionCommand(zipFunction(`old-${runtime.replace('.', '-')}`, { Runtime: runtime as 'nodejs24.x' }))),
      );
      expect(error.name, runtime).toBe('InvalidParameterValueException');
      expect(error.$metadata.httpStatusCode).toBe(400);
      expect(error.message).toBe(deprecation(runtime));
    }
  });

  // The same message says "or updating": UpdateFunctionConfiguration to one is refused alike, the function unchanged.
  it('refuses updating a function to one', async () => {
    await createActiveFunction(local.lambda, zipFunction('stays-new'));
    const error = await failure(local.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'stays-new', Runtime: 'nodejs12.x' })));
    expect(error.name).toBe('InvalidParameterValueException');
    expect(error.message).toBe(deprecation('nodejs12.x'));
    expect((await local.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'stays-new' }))).Runtime).toBe('nodejs24.x');
  });
});

describe('provisioned concurrency', () => {
  const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:';

  // AWS: test_lambda_api.snapshot.json, TestLambdaProvisionedConcurrency::test_provisioned_concurrency_exceptions:
  // a version that does not exist is "Function not found", an alias "Cannot find alias arn", for Put, Get and Delete,
  // whether the function exists or not; a function without a config has none (ProvisionedConcurrencyConfigNotFoundException).
  it('names a missing version or alias as AWS does', async () => {
    await createActiveFunction(local.lambda, zipFunction('pc'));
    const put = (FunctionName: string, Qualifier: string) =>
      failure(local.lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName, Qualifier, ProvisionedConcurrentExecutions: 1 })));
    const get = (FunctionName: string, Qualifier: string) =>
      failure(local.lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName, Qualifier })));
    const del = (FunctionName: string, Qualifier: string) =>
      failure(local.lambda.send(new DeleteProvisionedConcurrencyConfigCommand({ FunctionName, Qualifier })));
    for (const [call, name, qualifier, message] of [
      [put, 'doesnotexist', 'noalias', `Cannot find alias arn: ${ARN}doesnotexist:noalias`],
      [put, 'doesnotexist', '1', `Function not found: ${ARN}doesnotexist:1`],
      [put, 'pc', 'doesnotexist', `Cannot find alias arn: ${ARN}pc:doesnotexist`],
      [put, 'pc', '10', `Function not found: ${ARN}pc:10`],
      [get, 'doesnotexist', 'noalias', `Cannot find alias arn: ${ARN}doesnotexist:noalias`],
      [get, 'pc', 'noalias', `Cannot find alias arn: ${ARN}pc:noalias`],
      [get, 'pc', '10', `Function not found: ${ARN}pc:10`],
      [del, 'doesnotexist', '1', `Function not found: ${ARN}doesnotexist:1`],
      [del, 'pc', 'noalias', `Cannot find alias arn: ${ARN}pc:noalias`],
      [del, 'pc', '10', `Function not found: ${ARN}pc:10`],
    ] as const) {
      const error = await call(name, qualifier);
      expect(error.name, `${name}:${qualifier}`).toBe('ResourceNotFoundException');
      expect(error.$metadata.httpStatusCode).toBe(404);
      expect(error.message).toBe(message);
    }
    const list = await failure(local.lambda.send(new ListProvisionedConcurrencyConfigsCommand({ FunctionName: 'doesnotexist' })));
    expect(list.name).toBe('ResourceNotFoundException');
    expect(list.message).toBe(`Function not found: ${ARN}doesnotexist`);
    await local.lambda.send(new PublishVersionCommand({ FunctionName: 'pc' }));
    const none = await get('pc', '1');
    expect(none.name).toBe('ProvisionedConcurrencyConfigNotFoundException');
    expect(none.$metadata.httpStatusCode).toBe(404);
    expect(none.message).toBe('No Provisioned Concurrency Config found for this function');
    const zero = await failure(
      local.lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'pc', Qualifier: '$LATEST', ProvisionedConcurrentExecutions: 0 })),
    );
    expect(zero.name).toBe('ValidationException');
    expect(zero.message).toBe(
      "1 validation error detected: Value '0' at 'provisionedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 1",
    );
  });

  // AWS: test_lambda_api.snapshot.json, TestLambdaProvisionedConcurrency::test_provisioned_concurrency_limits: more than
  // the account's unreserved concurrency (1,000 here), then as much (which leaves less than the minimum of 100), on a
  // published version.
  it("refuses more than the account's unreserved concurrency, or less left than its minimum, in AWS's words", async () => {
    await createActiveFunction(local.lambda, zipFunction('pc-limits'));
    await local.lambda.send(new PublishVersionCommand({ FunctionName: 'pc-limits' }));
    const put = (n: number) =>
      failure(local.lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'pc-limits', Qualifier: '1', ProvisionedConcurrentExecutions: n })));
    const over = await put(1001);
    expect(over.name).toBe('InvalidParameterValueException');
    expect(over.$metadata.httpStatusCode).toBe(400);
    expect(over.message).toBe("Specified ConcurrentExecutions for function is greater than account's unreserved concurrency [1000].");
    const belowMinimum = await put(1000);
    expect(belowMinimum.name).toBe('InvalidParameterValueException');
    expect(belowMinimum.message).toBe(
      "Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].",
    );
  });
});
