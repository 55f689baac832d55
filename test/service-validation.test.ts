// Requests the Lambda API refuses, answered as AWS answers them: the API model's constraints as one ValidationException
// naming every violation, ARNs of another region or account, not-found bodies with the SDK's `Message`, and operations
// lambkin does not serve named. Each expectation is AWS's recorded answer (LocalStack's AWS-validated snapshots,
// tests/aws/services/lambda_/*.snapshot.json in localstack/localstack), named above the test that pins it.
import {
  CreateFunctionCommand,
  type CreateFunctionCommandInput,
  GetFunctionCommand,
  PutFunctionConcurrencyCommand,
  ResourceNotFoundException,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { unknownOperation } from '../src/service/lambda-error.ts';
import { LAMBDA_MODEL } from '../src/service/model/lambda-model.ts';
import { OPERATIONS } from '../src/service/router.ts';
import { makeZip } from '../tools/zip.ts';
import { ROLE } from './support/lambda-fixtures.ts';
import { failure, useLocalService, noInvoker as noInvokerFor } from './support/local-service.ts';

const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:';
const FUNCTION_NAME_PATTERN =
  '(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?';

const noInvoker = noInvokerFor('validation tests');

const local = useLocalService('lambkin-validation-', () => ({ invoker: noInvoker }));

const zipFunction = (name: string, extra: Partial<CreateFunctionCommandInput> = {}): CreateFunctionCommandInput => ({
  FunctionName: name,
  Role: ROLE,
  Runtime: 'nodejs24.x',
  Handler: 'index.handler',
  Code: { ZipFile: makeZip([{ name: 'index.mjs', content: 'export const handler = async () => "hi";' }]) },
  ...extra,
});

interface RawAnswer {
  status: number;
  type: string | null;
  body: Record<string, unknown>;
}

/** A request as the wire carries it, to see the body's members as sent (the SDK folds `message` into `Message`). */
async function call(method: string, path: string, body?: unknown): Promise<RawAnswer> {
  const response = await fetch(`${local.service.endpoint}${path}`, {
    method,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await response.text();
  return { status: response.status, type: response.headers.get('x-amzn-errortype'), body: text === '' ? {} : JSON.parse(text) };
}

const validation = (message: string) => ({ status: 400, type: 'ValidationException', body: { Type: 'User', message } });

describe('ARNs of another region or account', () => {
  beforeEach(async () => {
    await local.lambda.send(new CreateFunctionCommand(zipFunction('here')));
  });

  const otherRegion = {
    status: 404,
    type: 'ResourceNotFoundException',
    body: { Type: 'User', Message: "Functions from 'eu-central-1' are not reachable in this region ('us-east-1')" },
  };
  const elsewhere = encodeURIComponent('arn:aws:lambda:eu-central-1:123456789012:function:here');

  // AWS: test_lambda_api.snapshot.json, TestLambdaFunction::test_get_function_wrong_region[get_function,
  // get_function_configuration, get_function_concurrency, delete_function, invoke] (wrong_region_exception).
  it.each([
    ['GetFunction', 'GET', `/2015-03-31/functions/${elsewhere}`],
    ['GetFunctionConfiguration', 'GET', `/2015-03-31/functions/${elsewhere}/configuration`],
    ['GetFunctionConcurrency', 'GET', `/2019-09-30/functions/${elsewhere}/concurrency`],
    ['DeleteFunction', 'DELETE', `/2015-03-31/functions/${elsewhere}`],
    ['Invoke', 'POST', `/2015-03-31/functions/${elsewhere}/invocations`],
  ])('%s on an ARN of another region: 404, and the function is untouched', async (_operation, method, path) => {
    expect(await call(method, path)).toEqual(otherRegion);
    expect((await local.lambda.send(new GetFunctionCommand({ FunctionName: 'here' }))).Configuration?.FunctionName).toBe('here');
  });

  // AWS: test_lambda_api.snapshot.json, TestLambdaFunction::test_function_arns (function_arn_other_region_exc,
  // function_arn_other_account_exc: 403 AccessDeniedException, its message null).
  it('CreateFunction with an ARN of another region answers 404, of another account 403, and creates nothing', async () => {
    const input = zipFunction('x');
    const body = { ...input, Code: { ZipFile: Buffer.from(input.Code!.ZipFile!).toString('base64') } };
    expect(await call('POST', '/2015-03-31/functions', { ...body, FunctionName: 'arn:aws:lambda:eu-central-1:123456789012:function:made' })).toEqual(
      otherRegion,
    );
    expect(await call('POST', '/2015-03-31/functions', { ...body, FunctionName: 'arn:aws:lambda:us-east-1:111111111111:function:made' })).toEqual({
      status: 403,
      type: 'AccessDeniedException',
      body: { Message: null },
    });
    expect((await call('GET', '/2015-03-31/functions/made')).status).toBe(404);
  });

  // AWS: the FunctionName pattern of the API model refuses a region that is not one (the form: test_lambda_api
  // .snapshot.json, TestLambdaFunction::test_invalid_invoke, invoke_function_name_pattern_exc).
  it('refuses an ARN whose region is not a region with a ValidationException', async () => {
    const arn = 'arn:aws:lambda:nowhere:123456789012:function:here';
    expect(await call('GET', `/2019-09-30/functions/${encodeURIComponent(arn)}/concurrency`)).toEqual(
      validation(
        `1 validation error detected: Value '${arn}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: ${FUNCTION_NAME_PATTERN}`,
      ),
    );
  });
});

describe('ResourceNotFoundException', () => {
  // AWS: test_lambda_api.snapshot.json, TestLambdaFunction::test_ops_on_nonexisting_fn[get_function] (the body's
  // member is `Message`, as the model spells it for this error: boto3's e.response['Message']).
  it('carries Message (the model member), not message', async () => {
    const answer = await call('GET', '/2015-03-31/functions/nothing');
    expect(answer).toEqual({
      status: 404,
      type: 'ResourceNotFoundException',
      body: { Type: 'User', Message: `Function not found: ${ARN}nothing` },
    });
    const error = await failure(local.lambda.send(new GetFunctionCommand({ FunctionName: 'nothing' })));
    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect(error.message).toBe(`Function not found: ${ARN}nothing`);
  });

  // AWS: test_lambda.snapshot.json, TestLambdaFeatures::test_invoke_exceptions (recorded 24-11-2025) and
  // test_lambda_api.snapshot.json, TestLambdaReservedConcurrency::test_function_concurrency_exceptions
  // (put_function_concurrency_with_function_name_doesnotexist): these two name the missing function at $LATEST.
  it('names an unqualified missing function at :$LATEST for Invoke and PutFunctionConcurrency', async () => {
    expect((await call('POST', '/2015-03-31/functions/doesnotexist/invocations', '{}')).body).toEqual({
      Type: 'User',
      Message: `Function not found: ${ARN}doesnotexist:$LATEST`,
    });
    const error = await failure(local.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'doesnotexist', ReservedConcurrentExecutions: 0 })));
    expect(error.name).toBe('ResourceNotFoundException');
    expect(error.message).toBe(`Function not found: ${ARN}doesnotexist:$LATEST`);
  });
});

describe('DeleteFunction with a qualifier', () => {
  // AWS: test_lambda_api.snapshot.json, TestLambdaFunction::test_delete_on_nonexisting_version (a missing version is
  // deleted without complaint, twice; once the function is gone, it is named without the qualifier).
  it('deletes a version that does not exist without complaint, and names a missing function unqualified', async () => {
    await local.lambda.send(new CreateFunctionCommand(zipFunction('versioned')));
    expect((await call('DELETE', '/2015-03-31/functions/versioned?Qualifier=1233')).status).toBe(204);
    expect((await call('DELETE', '/2015-03-31/functions/versioned?Qualifier=1233')).status).toBe(204);
    expect((await call('DELETE', '/2015-03-31/functions/versioned')).status).toBe(204);
    const notFound = { status: 404, type: 'ResourceNotFoundException', body: { Type: 'User', Message: `Function not found: ${ARN}versioned` } };
    expect(await call('DELETE', '/2015-03-31/functions/versioned')).toEqual(notFound);
    expect(await call('DELETE', '/2015-03-31/functions/versioned?Qualifier=1233')).toEqual(notFound);
  });
});

describe('ValidationException from the API model', () => {
  // AWS: test_lambda_api.snapshot.json, TestLambdaFunction::test_create_lambda_exceptions and
  // test_update_lambda_exceptions (invalid_role_arn_exc).
  it('refuses Role "r1" on CreateFunction and UpdateFunctionConfiguration', async () => {
    const expected =
      "1 validation error detected: Value 'r1' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+";
    const created = await failure(local.lambda.send(new CreateFunctionCommand(zipFunction('roled', { Role: 'r1' }))));
    expect(created.name).toBe('ValidationException');
    expect(created.message).toBe(expected);
    await local.lambda.send(new CreateFunctionCommand(zipFunction('roled')));
    const updated = await failure(local.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'roled', Role: 'r1' })));
    expect(updated.name).toBe('ValidationException');
    expect(updated.message).toBe(expected);
  });

  // AWS: test_lambda_api.snapshot.json, TestLambdaFunction::test_create_lambda_exceptions (multiple_architectures,
  // uppercase_architecture).
  it.each([
    [['x86_64', 'arm64'], "Value '[x86_64, arm64]' at 'architectures' failed to satisfy constraint: Member must have length less than or equal to 1"],
    [
      ['X86_64'],
      "Value '[X86_64]' at 'architectures' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]",
    ],
  ])('refuses Architectures %j', async (architectures, violation) => {
    const error = await failure(local.lambda.send(new CreateFunctionCommand(zipFunction('arch', { Architectures: architectures as never }))));
    expect(error.name).toBe('ValidationException');
    expect(error.message).toBe(`1 validation error detected: ${violation}`);
  });

  // AWS: the several-errors form as test_lambda_api.snapshot.json, TestLambdaLayer::test_layer_exceptions
  // (publish_layer_version_exc_invalid_runtime_arch) records it: every violation, in the model's member order, joined
  // by "; "; each violation's words as TestLambdaProvisionedConcurrency::test_provisioned_concurrency_exceptions
  // (put_provisioned_invalid_param_0) records a number below its minimum.
  it('names every violation at once: "2 validation errors detected: ...; ..."', async () => {
    const error = await failure(local.lambda.send(new CreateFunctionCommand(zipFunction('both', { Timeout: 0, MemorySize: 127 }))));
    expect(error.name).toBe('ValidationException');
    expect(error.message).toBe(
      "2 validation errors detected: Value '0' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1; " +
        "Value '127' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128",
    );
  });

  // AWS: test_lambda_api.snapshot.json, TestLambdaFunction::test_function_arns (invalid_function_name_exc,
  // long_function_arn_exc, and long_function_name_exc: a name over 64 characters is the service's own check, an
  // InvalidParameterValueException).
  it('refuses a FunctionName outside the pattern or 140 characters (ValidationException), a name over 64 (InvalidParameterValueException)', async () => {
    const pattern = await failure(local.lambda.send(new CreateFunctionCommand(zipFunction('invalid:function:name'))));
    expect([pattern.name, pattern.message]).toEqual([
      'ValidationException',
      `1 validation error detected: Value 'invalid:function:name' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: ${FUNCTION_NAME_PATTERN}`,
    ]);
    const longArn = `${ARN}${'a'.repeat(141 - ARN.length)}`;
    const tooLong = await failure(local.lambda.send(new CreateFunctionCommand(zipFunction(longArn))));
    expect([tooLong.name, tooLong.message]).toEqual([
      'ValidationException',
      `1 validation error detected: Value '${longArn}' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 140`,
    ]);
    const longName = 'a'.repeat(65);
    const nameTooLong = await failure(local.lambda.send(new CreateFunctionCommand(zipFunction(longName))));
    expect([nameTooLong.name, nameTooLong.message]).toEqual([
      'InvalidParameterValueException',
      `1 validation error detected: Value '${longName}' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 64`,
    ]);
  });

  // AWS: test_lambda_api.snapshot.json, TestLambdaFunction::test_create_lambda_exceptions (invalid_runtime_exc): the
  // service's own check, in its own form (no count, "or be a valid ARN").
  it('refuses a runtime AWS does not know in AWS words, and one lambkin does not run yet in its own', async () => {
    const unknown = await failure(local.lambda.send(new CreateFunctionCommand(zipFunction('rt', { Runtime: 'non-existent-runtime' as never }))));
    expect([unknown.name, unknown.message]).toEqual([
      'InvalidParameterValueException',
      "Value non-existent-runtime at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [nodejs20.x, python3.14, provided.al2023, " +
        'python3.12, python3.13, nodejs24.x, nodejs22.x, java25, python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, java17, ' +
        'nodejs16.x, dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2] or be a valid ARN',
    ]);
    const notYet = await failure(local.lambda.send(new CreateFunctionCommand(zipFunction('rt', { Runtime: 'python3.12' }))));
    expect([notYet.name, notYet.message]).toEqual([
      'InvalidParameterValueException',
      'lambkin serve does not support the runtime python3.12 yet: it runs nodejs24.x and provided.al2023.',
    ]);
  });

  // AWS (no LocalStack recording): the text AWS answers for a one-letter variable name, quoted in
  // github.com/trek10inc/serverless-secrets/issues/39: the map is sensitive, so its value is not repeated.
  it('refuses an environment variable name the model does not allow, without repeating the secret values', async () => {
    const error = await failure(local.lambda.send(new CreateFunctionCommand(zipFunction('env', { Environment: { Variables: { A: 'secret' } } }))));
    expect(error.name).toBe('ValidationException');
    expect(error.message).toBe(
      "1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]",
    );
  });

  // No recording of this one: the model's enums for Invoke's headers, in the form of list_functions_invalid_functionversion
  // (test_lambda_api.snapshot.json, TestLambdaFunction::test_list_functions), every violation named.
  it("refuses Invoke's X-Amz-Invocation-Type and X-Amz-Log-Type outside their enums", async () => {
    const response = await fetch(`${local.service.endpoint}/2015-03-31/functions/nothing/invocations`, {
      method: 'POST',
      body: '{}',
      headers: { 'x-amz-invocation-type': 'Bogus', 'x-amz-log-type': 'All' },
    });
    expect([response.status, response.headers.get('x-amzn-errortype'), await response.json()]).toEqual([
      400,
      'ValidationException',
      {
        Type: 'User',
        message:
          "2 validation errors detected: Value 'Bogus' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]; " +
          "Value 'All' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [None, Tail]",
      },
    ]);
  });

  // AWS: test_lambda_api.snapshot.json, TestLambdaFunction::test_list_functions (list_functions_invalid_functionversion).
  it('refuses ListFunctions FunctionVersion=invalid', async () => {
    expect(await call('GET', '/2015-03-31/functions/?FunctionVersion=invalid')).toEqual(
      validation("1 validation error detected: Value 'invalid' at 'functionVersion' failed to satisfy constraint: Member must satisfy enum value set: [ALL]"),
    );
  });

  // AWS: test_lambda_api.snapshot.json, TestLambdaPermissions::test_permission_exceptions (add_permission_fn_qualifier_invalid:
  // the same qualifier shape as GetFunction's): an invalid qualifier is a validation error, not a 404.
  it('refuses a qualifier outside its pattern before looking for the function', async () => {
    expect(await call('GET', `/2015-03-31/functions/nothing?Qualifier=${encodeURIComponent('invalid-qualifier-with-?-char')}`)).toEqual(
      validation(
        "1 validation error detected: Value 'invalid-qualifier-with-?-char' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: \\$(LATEST(\\.PUBLISHED)?)|[a-zA-Z0-9-_$]+",
      ),
    );
  });

  // AWS: test_lambda_api.snapshot.json, TestLambdaReservedConcurrency::test_function_concurrency_exceptions
  // (put_function_concurrency_with_qualified_arn).
  it('refuses PutFunctionConcurrency on a qualified ARN', async () => {
    await local.lambda.send(new CreateFunctionCommand(zipFunction('reserved')));
    const answer = await call('PUT', `/2017-10-31/functions/${encodeURIComponent(`${ARN}reserved:$LATEST`)}/concurrency`, { ReservedConcurrentExecutions: 0 });
    expect(answer).toEqual({
      status: 400,
      type: 'InvalidParameterValueException',
      body: {
        Type: 'User',
        message:
          'This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. Please specify either a function name or an unqualified function ARN.',
      },
    });
  });
});

describe('layers', () => {
  const RUNTIMES =
    'nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, java25, python3.10, python3.11, java21, ruby3.3, ruby3.4, ' +
    'ruby3.2, python3.8, python3.9, java17, nodejs16.x, dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2';
  const content = { ZipFile: makeZip([{ name: 'nodejs/x.js', content: '' }]).toString('base64') };

  // AWS: test_lambda_api.snapshot.json, TestLambdaLayer::test_layer_exceptions (publish_layer_version_exc_invalid_runtime_arch,
  // publish_layer_version_exc_partially_invalid_values).
  it.each([
    [['invalidruntime'], ['invalidarch']],
    [
      ['invalidruntime', 'invalidruntime2', 'nodejs20.x'],
      ['invalidarch', 'x86_64'],
    ],
  ])('refuses CompatibleRuntimes %j and CompatibleArchitectures %j together', async (runtimes, architectures) => {
    const answer = await call('POST', '/2018-10-31/layers/my-layer/versions', {
      Content: content,
      CompatibleRuntimes: runtimes,
      CompatibleArchitectures: architectures,
    });
    expect(answer).toEqual(
      validation(
        `2 validation errors detected: Value '[${runtimes.join(', ')}]' at 'compatibleRuntimes' failed to satisfy constraint: Member must satisfy enum value set: [${RUNTIMES}]; ` +
          `Value '[${architectures.join(', ')}]' at 'compatibleArchitectures' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]`,
      ),
    );
    expect((await call('GET', '/2018-10-31/layers/my-layer/versions')).body).toEqual({ LayerVersions: [] });
  });

  // No recording of this one: the model's lengths (Description at most 256, CompatibleRuntimes at most 15), in the
  // several-errors form of publish_layer_version_exc_invalid_runtime_arch.
  it('refuses a Description and a CompatibleRuntimes list over their lengths together', async () => {
    const description = 'd'.repeat(257);
    const runtimes = Array.from({ length: 16 }, () => 'nodejs24.x');
    expect(await call('POST', '/2018-10-31/layers/my-layer/versions', { Content: content, Description: description, CompatibleRuntimes: runtimes })).toEqual(
      validation(
        `2 validation errors detected: Value '${description}' at 'description' failed to satisfy constraint: Member must have length less than or equal to 256; ` +
          `Value '[${runtimes.join(', ')}]' at 'compatibleRuntimes' failed to satisfy constraint: Member must have length less than or equal to 15`,
      ),
    );
  });

  // AWS: test_lambda_api.snapshot.json, TestLambdaLayer::test_layer_function_exceptions (create_function_with_layer_in_different_region).
  it("refuses a function's layer of another region", async () => {
    const error = await failure(
      local.lambda.send(new CreateFunctionCommand(zipFunction('layered', { Layers: ['arn:aws:lambda:eu-central-1:123456789012:layer:my-layer:1'] }))),
    );
    expect([error.name, error.message]).toEqual([
      'InvalidParameterValueException',
      'Layers are not in the same region as the function. Layers are expected to be in region us-east-1.',
    ]);
  });

  // AWS: test_lambda_api.snapshot.json, TestLambdaLayer::test_layer_exceptions (get_layer_version_exc_layer_version_doesnotexist_negative,
  // _zero, delete_layer_version_exc_layerversion_invalid_version).
  it.each([
    ['GET', '-1'],
    ['GET', '0'],
    ['DELETE', '-1'],
  ])('%s a layer version %s: "Layer Version Cannot be less than 1"', async (method, version) => {
    expect(await call(method, `/2018-10-31/layers/my-layer/versions/${version}`)).toEqual({
      status: 400,
      type: 'InvalidParameterValueException',
      body: { Type: 'User', message: 'Layer Version Cannot be less than 1' },
    });
  });

  // AWS: test_lambda_api.snapshot.json, TestLambdaLayer::test_layer_exceptions (list_layers_exc_compatibleruntime_invalid).
  it('refuses ListLayers CompatibleRuntime=runtimedoesnotexist', async () => {
    expect(await call('GET', '/2018-10-31/layers?CompatibleRuntime=runtimedoesnotexist')).toEqual(
      validation(
        "1 validation error detected: Value 'runtimedoesnotexist' at 'compatibleRuntime' failed to satisfy constraint: Member must satisfy enum value set: [" +
          'ruby3.5, ruby2.6, dotnetcore1.0, python3.7, nodejs8.10, nasa, ruby2.7, python2.7-greengrass, dotnetcore2.0, python3.8, java21, dotnet6, dotnetcore2.1, python3.9, java11, nodejs6.10, provided, dotnetcore3.1, dotnet8, java25, java17, nodejs, nodejs4.3, java8.al2, go1.x, dotnet10, nodejs20.x, go1.9, ' +
          'byol, nodejs10.x, provided.al2023, nodejs22.x, python3.10, java8, nodejs12.x, python3.11, nodejs24.x, nodejs8.x, python3.12, nodejs14.x, nodejs8.9, nodejs26.x, python3.13, python3.14, nodejs16.x, python3.15, provided.al2, nodejs4.3-edge, nodejs18.x, ruby3.2, python3.4, ruby3.3, ruby3.4, ruby2.5, python3.6, python2.7]',
      ),
    );
  });

  // AWS: test_lambda_api.snapshot.json, TestLambdaLayer::test_layer_exceptions (list_layers_exc_compatiblearchitecture_invalid).
  it('refuses ListLayers CompatibleArchitecture=archdoesnotexist', async () => {
    expect(await call('GET', '/2018-10-31/layers?CompatibleArchitecture=archdoesnotexist')).toEqual(
      validation(
        "1 validation error detected: Value 'archdoesnotexist' at 'compatibleArchitecture' failed to satisfy constraint: Member must satisfy enum value set: [x86_64, arm64]",
      ),
    );
  });
});

describe('the model', () => {
  it('has the input shape of every operation lambkin routes (regenerate it with tools/extract-lambda-model.ts)', () => {
    expect(OPERATIONS.filter((operation) => !(operation in LAMBDA_MODEL.operations))).toEqual([]);
  });
});

describe('operations lambkin does not serve', () => {
  // Every operation of lambkin's model is served now (PublishVersion, the example here before, too), so no path
  // reaches the 501 through the router: the answer it would give is checked where it is made.
  it('names the operation and says lambkin does not support it yet (501), where AWS would serve it', () => {
    const answer = unknownOperation('POST', '/2015-03-31/functions/some-fn/versions');
    expect({ status: answer.status, type: answer.type, message: answer.message }).toEqual({
      status: 501,
      type: 'UnsupportedOperationException',
      message: 'lambkin does not support the PublishVersion operation yet (POST /2015-03-31/functions/some-fn/versions).',
    });
  });

  it('answers a path that is no operation of the Lambda API with UnknownOperationException (404)', async () => {
    expect(await call('GET', '/2099-01-01/nothing-here')).toEqual({
      status: 404,
      type: 'UnknownOperationException',
      body: { Type: 'User', message: 'Unknown operation: GET /2099-01-01/nothing-here' },
    });
  });
});
