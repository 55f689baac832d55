// Create/Get/Update/Delete/ListFunctionUrlConfigs through the real @aws-sdk/client-lambda: FunctionUrlConfig as AWS
// shapes it (a URL reachable on serve's own port), AWS's statuses and words for every refusal
// (test_lambda_api.snapshot.json, TestLambdaUrl), paging, configs that go with their function or alias, and configs
// that survive a restart.
import {
  CreateAliasCommand,
  CreateFunctionUrlConfigCommand,
  type CreateFunctionUrlConfigCommandInput,
  DeleteAliasCommand,
  DeleteFunctionCommand,
  DeleteFunctionUrlConfigCommand,
  GetFunctionUrlConfigCommand,
  ListFunctionUrlConfigsCommand,
  PublishVersionCommand,
  UpdateFunctionUrlConfigCommand,
} from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import { makeZip } from '../tools/zip.ts';
import { createNodeFunction } from './support/lambda-fixtures.ts';
import { failure, noInvoker, useLocalService } from './support/local-service.ts';

const ARN_PREFIX = 'arn:aws:lambda:us-east-1:123456789012:function:';
const ISO_MS_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const QUALIFIER_RULE = 'Member must satisfy regular expression pattern: ((?!^\\d+$)^[0-9a-zA-Z-_]+$)';
const FUNCTION_MISSING = 'Function does not exist';
const RESOURCE_MISSING = 'The resource you requested does not exist.';
const invoker = noInvoker('function URL config tests');

const local = useLocalService('lambkin-urls-', () => ({ invoker }));

const zip = () => makeZip([{ name: 'index.mjs', content: 'export const handler = async () => "ok";' }]);

/** A function `fn` with version 1 and an alias `live` on it, as the AWS recordings set up. */
async function functionWithAlias(): Promise<void> {
  await createNodeFunction(local.lambda, 'fn', zip());
  await local.lambda.send(new PublishVersionCommand({ FunctionName: 'fn' }));
  await local.lambda.send(new CreateAliasCommand({ FunctionName: 'fn', Name: 'live', FunctionVersion: '1' }));
}

const create = (input: Partial<CreateFunctionUrlConfigCommandInput> = {}) =>
  local.lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'fn', AuthType: 'NONE', ...input }));
const get = (FunctionName = 'fn', Qualifier?: string) => local.lambda.send(new GetFunctionUrlConfigCommand({ FunctionName, Qualifier }));
const body = <T extends { $metadata?: unknown }>({ $metadata: _metadata, ...rest }: T) => rest;

/** The url id a FunctionUrl names, after checking the URL is serve's own port under `localhost`. */
function urlIdOf(functionUrl: string | undefined): string {
  const { port } = new URL(local.service.endpoint);
  const match = new RegExp(`^http://([0-9a-z]{32})\\.lambda-url\\.us-east-1\\.localhost:${port}/$`).exec(functionUrl ?? '');
  expect(match, functionUrl).not.toBeNull();
  return match![1]!;
}

describe('function URL configs', () => {
  it('creates, reads, updates, lists and deletes a config as AWS answers', async () => {
    await createNodeFunction(local.lambda, 'fn', zip());
    const created = await create();
    expect(created.$metadata.httpStatusCode).toBe(201);
    // AWS's url_creation: no LastModifiedTime, and no InvokeMode when none was asked for.
    expect(Object.keys(body(created)).sort()).toEqual(['AuthType', 'CreationTime', 'FunctionArn', 'FunctionUrl']);
    expect(created.FunctionArn).toBe(`${ARN_PREFIX}fn`);
    expect(created.AuthType).toBe('NONE');
    expect(created.CreationTime).toMatch(ISO_MS_Z);
    const urlId = urlIdOf(created.FunctionUrl);

    const duplicate = await failure(create());
    expect(duplicate.name).toBe('ResourceConflictException');
    expect(duplicate.$metadata.httpStatusCode).toBe(409);
    expect(duplicate.message).toBe(
      `Failed to create function url config for [functionArn = ${ARN_PREFIX}fn]. Error message:  FunctionUrlConfig exists for this Lambda function`,
    );

    const read = await get();
    expect(read.$metadata.httpStatusCode).toBe(200);
    expect(body(read)).toEqual({
      AuthType: 'NONE',
      CreationTime: created.CreationTime,
      FunctionArn: `${ARN_PREFIX}fn`,
      FunctionUrl: created.FunctionUrl,
      InvokeMode: 'BUFFERED',
      LastModifiedTime: created.CreationTime,
    });

    const cors = { AllowOrigins: ['https://example.com'], AllowMethods: ['GET', 'POST'], AllowHeaders: ['x-custom'], MaxAge: 300, AllowCredentials: true };
    const updated = await local.lambda.send(new UpdateFunctionUrlConfigCommand({ FunctionName: 'fn', AuthType: 'AWS_IAM', Cors: cors }));
    expect(updated.$metadata.httpStatusCode).toBe(200);
    expect(updated.AuthType).toBe('AWS_IAM');
    expect(updated.Cors).toEqual(cors);
    expect(updated.FunctionUrl).toBe(created.FunctionUrl);
    expect(updated.CreationTime).toBe(created.CreationTime);
    expect(updated.LastModifiedTime).toMatch(ISO_MS_Z);
    expect(updated.LastModifiedTime! >= created.CreationTime!).toBe(true);

    // Members an update leaves out are kept.
    const streamed = await local.lambda.send(new UpdateFunctionUrlConfigCommand({ FunctionName: 'fn', InvokeMode: 'RESPONSE_STREAM' }));
    expect(streamed).toMatchObject({ AuthType: 'AWS_IAM', Cors: cors, InvokeMode: 'RESPONSE_STREAM' });
    expect(await get()).toMatchObject({ AuthType: 'AWS_IAM', Cors: cors, InvokeMode: 'RESPONSE_STREAM' });
    expect(await local.service.store.functionUrls.byUrlId(urlId)).toMatchObject({ functionName: 'fn', authType: 'AWS_IAM', invokeMode: 'RESPONSE_STREAM' });

    const deleted = await local.lambda.send(new DeleteFunctionUrlConfigCommand({ FunctionName: 'fn' }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    const gone = await failure(get());
    expect(gone.name).toBe('ResourceNotFoundException');
    expect(gone.$metadata.httpStatusCode).toBe(404);
    expect(gone.message).toBe(RESOURCE_MISSING);
    expect(await local.service.store.functionUrls.byUrlId(urlId)).toBeUndefined();
  });

  it('gives an alias its own config, each with its own 32-character url id, and lists them in pages', async () => {
    await functionWithAlias();
    const listEmpty = await local.lambda.send(new ListFunctionUrlConfigsCommand({ FunctionName: 'fn' }));
    expect(listEmpty.FunctionUrlConfigs).toEqual([]);
    expect(listEmpty.NextMarker).toBeUndefined();

    const unqualified = await create({ InvokeMode: 'RESPONSE_STREAM' });
    expect(unqualified.InvokeMode).toBe('RESPONSE_STREAM');
    const alias = await create({ FunctionName: 'fn:live', Qualifier: 'live' });
    expect(alias.FunctionArn).toBe(`${ARN_PREFIX}fn:live`);
    const viaQuery = await get('fn', 'live');
    expect(viaQuery.FunctionUrl).toBe(alias.FunctionUrl);
    expect(urlIdOf(alias.FunctionUrl)).not.toBe(urlIdOf(unqualified.FunctionUrl));

    const all = await local.lambda.send(new ListFunctionUrlConfigsCommand({ FunctionName: 'fn' }));
    expect(all.FunctionUrlConfigs?.map((config) => config.FunctionArn).sort()).toEqual([`${ARN_PREFIX}fn`, `${ARN_PREFIX}fn:live`]);
    expect(all.FunctionUrlConfigs?.every((config) => config.LastModifiedTime && config.InvokeMode)).toBe(true);

    const first = await local.lambda.send(new ListFunctionUrlConfigsCommand({ FunctionName: 'fn', MaxItems: 1 }));
    expect(first.FunctionUrlConfigs).toHaveLength(1);
    expect(first.NextMarker).toBeTruthy();
    const second = await local.lambda.send(new ListFunctionUrlConfigsCommand({ FunctionName: 'fn', MaxItems: 1, Marker: first.NextMarker }));
    expect(second.FunctionUrlConfigs).toHaveLength(1);
    expect(second.NextMarker).toBeUndefined();
    expect(second.FunctionUrlConfigs![0]!.FunctionUrl).not.toBe(first.FunctionUrlConfigs![0]!.FunctionUrl);

    const notFound = await failure(local.lambda.send(new ListFunctionUrlConfigsCommand({ FunctionName: 'nope' })));
    expect([notFound.name, notFound.$metadata.httpStatusCode, notFound.message]).toEqual(['ResourceNotFoundException', 404, FUNCTION_MISSING]);
    const tooMany = await failure(local.lambda.send(new ListFunctionUrlConfigsCommand({ FunctionName: 'fn', MaxItems: 51 })));
    expect([tooMany.name, tooMany.$metadata.httpStatusCode]).toEqual(['ValidationException', 400]);

    // Deleting $LATEST's config leaves the alias's (test_url_config_deletion_without_qualifier).
    await local.lambda.send(new DeleteFunctionUrlConfigCommand({ FunctionName: 'fn' }));
    expect((await get('fn', 'live')).FunctionUrl).toBe(alias.FunctionUrl);
  });

  it("refuses what AWS refuses, in AWS's words, for every operation", async () => {
    await functionWithAlias();
    const otherArn = `${ARN_PREFIX}doesnotexist`;
    type Case = { args: { FunctionName: string; Qualifier?: string }; type: string; status: number; message?: string };
    const qualifierRefused = (value: string): Omit<Case, 'args'> => ({
      type: 'ValidationException',
      status: 400,
      message: `1 validation error detected: Value '${value}' at 'qualifier' failed to satisfy constraint: ${QUALIFIER_RULE}`,
    });
    // notFound: the message each operation gives a missing function or alias (AWS's differ by operation).
    const cases = (notFound: string): Case[] => [
      { args: { FunctionName: 'doesnotexist' }, type: 'ResourceNotFoundException', status: 404, message: notFound },
      { args: { FunctionName: otherArn }, type: 'ResourceNotFoundException', status: 404, message: notFound },
      { args: { FunctionName: 'doesnotexist', Qualifier: '1' }, ...qualifierRefused('1') },
      { args: { FunctionName: 'fn', Qualifier: '1' }, ...qualifierRefused('1') },
      { args: { FunctionName: 'fn', Qualifier: '2' }, ...qualifierRefused('2') },
      { args: { FunctionName: 'fn', Qualifier: '$LATEST' }, ...qualifierRefused('$LATEST') },
      // A version in the name breaks the FunctionName pattern of these operations.
      { args: { FunctionName: 'fn:1' }, type: 'ValidationException', status: 400 },
      { args: { FunctionName: 'fn', Qualifier: 'v1' }, type: 'ResourceNotFoundException', status: 404, message: notFound },
      {
        args: { FunctionName: 'fn:live-doesnotmatch', Qualifier: 'live' },
        type: 'InvalidParameterValueException',
        status: 400,
        message: 'The derived qualifier from the function name does not match the specified qualifier.',
      },
    ];
    const missingConfig: Case = { args: { FunctionName: 'fn' }, type: 'ResourceNotFoundException', status: 404, message: RESOURCE_MISSING };
    const operations: [string, (args: Case['args']) => Promise<unknown>, Case[]][] = [
      ['create', (args) => local.lambda.send(new CreateFunctionUrlConfigCommand({ ...args, AuthType: 'NONE' })), cases(FUNCTION_MISSING)],
      ['get', (args) => local.lambda.send(new GetFunctionUrlConfigCommand(args)), [...cases(RESOURCE_MISSING), missingConfig]],
      ['delete', (args) => local.lambda.send(new DeleteFunctionUrlConfigCommand(args)), [...cases(RESOURCE_MISSING), missingConfig]],
      [
        'update',
        (args) => local.lambda.send(new UpdateFunctionUrlConfigCommand({ ...args, AuthType: 'AWS_IAM' })),
        [...cases(FUNCTION_MISSING), missingConfig],
      ],
    ];
    for (const [operation, call, expected] of operations) {
      for (const { args, type, status, message } of expected) {
        const error = await failure(call(args));
        expect([operation, args, error.name, error.$metadata.httpStatusCode]).toEqual([operation, args, type, status]);
        if (message !== undefined) expect([operation, args, error.message]).toEqual([operation, args, message]);
      }
    }
  });

  it('validates AuthType, InvokeMode and Cors as the model does', async () => {
    await createNodeFunction(local.lambda, 'fn', zip());
    const send = (input: Record<string, unknown>) =>
      failure(local.lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'fn', ...input } as unknown as CreateFunctionUrlConfigCommandInput)));
    const noAuth = await send({});
    expect([noAuth.name, noAuth.$metadata.httpStatusCode]).toEqual(['ValidationException', 400]);
    const badAuth = await send({ AuthType: 'OPEN' });
    expect([badAuth.name, badAuth.$metadata.httpStatusCode]).toEqual(['ValidationException', 400]);
    expect(badAuth.message).toContain("Value 'OPEN' at 'authType' failed to satisfy constraint: Member must satisfy enum value set");
    const badMode = await send({ AuthType: 'NONE', InvokeMode: 'FAST' });
    expect([badMode.name, badMode.$metadata.httpStatusCode]).toEqual(['ValidationException', 400]);
    expect(badMode.message).toContain("Value 'FAST' at 'invokeMode'");
    const badMaxAge = await send({ AuthType: 'NONE', Cors: { MaxAge: 86401 } });
    expect([badMaxAge.name, badMaxAge.$metadata.httpStatusCode]).toEqual(['ValidationException', 400]);
    const tooManyMethods = await send({ AuthType: 'NONE', Cors: { AllowMethods: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'] } });
    expect([tooManyMethods.name, tooManyMethods.$metadata.httpStatusCode]).toEqual(['ValidationException', 400]);
    // None of the refused ones was kept.
    expect((await local.lambda.send(new ListFunctionUrlConfigsCommand({ FunctionName: 'fn' }))).FunctionUrlConfigs).toEqual([]);
  });

  it('keeps configs across a restart (the same url id, on the new port), and drops them with their alias and function', async () => {
    await functionWithAlias();
    const unqualified = await create();
    const alias = await create({ Qualifier: 'live', AuthType: 'AWS_IAM' });
    const urlId = urlIdOf(unqualified.FunctionUrl);
    const aliasUrlId = urlIdOf(alias.FunctionUrl);

    await local.restart();
    const after = await get();
    expect(urlIdOf(after.FunctionUrl)).toBe(urlId);
    expect(after.CreationTime).toBe(unqualified.CreationTime);
    expect((await get('fn', 'live')).AuthType).toBe('AWS_IAM');

    await local.lambda.send(new DeleteAliasCommand({ FunctionName: 'fn', Name: 'live' }));
    expect(await local.service.store.functionUrls.byUrlId(aliasUrlId)).toBeUndefined();
    expect(await local.service.store.functionUrls.byUrlId(urlId)).toBeDefined();
    // A new alias of the same name starts without a URL.
    await local.lambda.send(new CreateAliasCommand({ FunctionName: 'fn', Name: 'live', FunctionVersion: '1' }));
    expect((await failure(get('fn', 'live'))).message).toBe(RESOURCE_MISSING);

    await local.lambda.send(new DeleteFunctionCommand({ FunctionName: 'fn' }));
    expect(await local.service.store.functionUrls.byUrlId(urlId)).toBeUndefined();
    // A function made again under the name has no config either.
    await createNodeFunction(local.lambda, 'fn', zip());
    expect((await local.lambda.send(new ListFunctionUrlConfigsCommand({ FunctionName: 'fn' }))).FunctionUrlConfigs).toEqual([]);
  });
});
