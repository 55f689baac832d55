// CreateAlias, GetAlias, UpdateAlias, DeleteAlias and ListAliases through the real @aws-sdk/client-lambda, over
// versions published with PublishVersion: AliasConfiguration as AWS shapes it, AWS's statuses and words for every
// refusal (test_lambda_api.snapshot.json: TestLambdaAlias, TestLambdaRevisions), paging, and aliases that survive a
// restart.
import {
  CreateAliasCommand,
  type CreateAliasCommandInput,
  DeleteAliasCommand,
  DeleteFunctionCommand,
  GetAliasCommand,
  GetFunctionCommand,
  ListAliasesCommand,
  type ListAliasesCommandInput,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import { makeZip } from '../tools/zip.ts';
import { createNodeFunction, waitUntilUpdated } from './support/lambda-fixtures.ts';
import { failure, noInvoker, useLocalService } from './support/local-service.ts';

const ARN_PREFIX = 'arn:aws:lambda:us-east-1:123456789012:function:';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PRECONDITION_FAILED =
  'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id';
const invoker = noInvoker('alias tests');

const local = useLocalService('lambkin-aliases-', () => ({ invoker }));

const zip = () => makeZip([{ name: 'index.mjs', content: 'export const handler = async () => process.env.STAGE;' }]);

/** A function with versions 1 (STAGE=staging) and 2 (STAGE=prod), published as a user would. */
async function functionWithTwoVersions(name: string): Promise<void> {
  await createNodeFunction(local.lambda, name, zip(), { Environment: { Variables: { STAGE: 'staging' } } });
  expect((await local.lambda.send(new PublishVersionCommand({ FunctionName: name }))).Version).toBe('1');
  await local.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Environment: { Variables: { STAGE: 'prod' } } }));
  await waitUntilUpdated(local.lambda, name);
  expect((await local.lambda.send(new PublishVersionCommand({ FunctionName: name }))).Version).toBe('2');
}

const createAlias = (input: Omit<CreateAliasCommandInput, 'FunctionName'>, functionName = 'fn') =>
  local.lambda.send(new CreateAliasCommand({ FunctionName: functionName, ...input }));
const getAlias = (name: string, functionName = 'fn') => local.lambda.send(new GetAliasCommand({ FunctionName: functionName, Name: name }));
/** What an AliasConfiguration answer holds, without the SDK's $metadata. */
const configuration = <T extends { $metadata?: unknown }>({ $metadata: _metadata, ...rest }: T) => rest;

/** Every alias ListAliases gives, following NextMarker, and how many pages it took. */
async function allAliases(input: Omit<ListAliasesCommandInput, 'FunctionName'> = {}) {
  const names: string[] = [];
  let pages = 0;
  let marker: string | undefined;
  do {
    const page = await local.lambda.send(new ListAliasesCommand({ FunctionName: 'fn', ...input, Marker: marker }));
    pages += 1;
    names.push(...(page.Aliases ?? []).map((alias) => alias.Name!));
    marker = page.NextMarker;
  } while (marker);
  return { names, pages };
}

describe('aliases', () => {
  it('creates an alias as AWS shapes it: 201, Description "" by default, RoutingConfig only when it routes', async () => {
    await functionWithTwoVersions('fn');
    const routed = await createAlias({
      Name: 'live',
      FunctionVersion: '1',
      Description: 'custom-alias',
      RoutingConfig: { AdditionalVersionWeights: { '2': 0.2 } },
    });
    expect(routed.$metadata.httpStatusCode).toBe(201);
    expect(configuration(routed)).toEqual({
      AliasArn: `${ARN_PREFIX}fn:live`,
      Name: 'live',
      FunctionVersion: '1',
      Description: 'custom-alias',
      RoutingConfig: { AdditionalVersionWeights: { '2': 0.2 } },
      RevisionId: expect.stringMatching(UUID),
    });
    const got = await getAlias('live');
    expect(got.$metadata.httpStatusCode).toBe(200);
    expect(configuration(got)).toEqual(configuration(routed));

    const plain = await createAlias({ Name: 'plain', FunctionVersion: '1' });
    expect(configuration(plain)).toEqual({
      AliasArn: `${ARN_PREFIX}fn:plain`,
      Name: 'plain',
      FunctionVersion: '1',
      Description: '',
      RevisionId: expect.stringMatching(UUID),
    });
    // An empty routing map routes nothing, and shows none.
    const empty = await createAlias({ Name: 'empty-routing', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: {} } });
    expect(empty.RoutingConfig).toBeUndefined();
    expect(Object.keys(configuration(empty))).not.toContain('RoutingConfig');
    // $LATEST alone is a version an alias may name; a name like a date is an alias name.
    expect((await createAlias({ Name: 'custom-latest', FunctionVersion: '$LATEST' })).FunctionVersion).toBe('$LATEST');
    expect((await createAlias({ Name: '2024-01-02', FunctionVersion: '2' })).AliasArn).toBe(`${ARN_PREFIX}fn:2024-01-02`);
    expect(new Set([routed.RevisionId, plain.RevisionId, empty.RevisionId]).size).toBe(3);
  });

  it('leaves the RevisionId of $LATEST and of the version alone when an alias is created (TestLambdaRevisions)', async () => {
    await functionWithTwoVersions('fn');
    const latestBefore = await local.lambda.send(new GetFunctionCommand({ FunctionName: 'fn' }));
    const versionBefore = await local.lambda.send(new GetFunctionCommand({ FunctionName: 'fn', Qualifier: '1' }));
    const alias = await createAlias({ Name: 'live', FunctionVersion: '1' });
    expect(alias.RevisionId).not.toBe(versionBefore.Configuration?.RevisionId);
    expect((await local.lambda.send(new GetFunctionCommand({ FunctionName: 'fn' }))).Configuration?.RevisionId).toBe(latestBefore.Configuration?.RevisionId);
    expect((await local.lambda.send(new GetFunctionCommand({ FunctionName: 'fn', Qualifier: '1' }))).Configuration?.RevisionId).toBe(
      versionBefore.Configuration?.RevisionId,
    );
  });

  it('lists aliases by name a page at a time, and only those of a version when asked', async () => {
    await functionWithTwoVersions('fn');
    await createAlias({ Name: 'c', FunctionVersion: '1' });
    await createAlias({ Name: 'a', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } } });
    await createAlias({ Name: 'd', FunctionVersion: '2' });
    await createAlias({ Name: 'b', FunctionVersion: '1' });

    const full = await local.lambda.send(new ListAliasesCommand({ FunctionName: 'fn' }));
    expect(full.NextMarker).toBeUndefined();
    expect(full.Aliases?.map((alias) => alias.Name)).toEqual(['a', 'b', 'c', 'd']);
    expect(full.Aliases?.[0]).toEqual(configuration(await getAlias('a')));
    expect(full.Aliases?.[1]).not.toHaveProperty('RoutingConfig');

    expect(await allAliases({ MaxItems: 1 })).toEqual({ names: ['a', 'b', 'c', 'd'], pages: 4 });
    expect(await allAliases({ MaxItems: 3 })).toEqual({ names: ['a', 'b', 'c', 'd'], pages: 2 });
    expect(await allAliases({ FunctionVersion: '1', MaxItems: 2 })).toEqual({ names: ['a', 'b', 'c'], pages: 2 });
    expect(await allAliases({ FunctionVersion: '2' })).toEqual({ names: ['d'], pages: 1 });
    // The only match comes after a page's worth of others.
    expect(await allAliases({ FunctionVersion: '2', MaxItems: 1 })).toEqual({ names: ['d'], pages: 1 });
    expect(await allAliases({ FunctionVersion: '$LATEST' })).toEqual({ names: [], pages: 1 });
  });

  it('updates an alias: every update a new RevisionId, a stale RevisionId refused with 412, RoutingConfig {} clears routing', async () => {
    await functionWithTwoVersions('fn');
    const created = await createAlias({ Name: 'live', FunctionVersion: '1', Description: 'first', RoutingConfig: { AdditionalVersionWeights: { '2': 0.2 } } });

    // An update that changes nothing still moves the RevisionId on.
    const unchanged = await local.lambda.send(new UpdateAliasCommand({ FunctionName: 'fn', Name: 'live' }));
    expect(unchanged.$metadata.httpStatusCode).toBe(200);
    expect(unchanged.RevisionId).toMatch(UUID);
    expect(unchanged.RevisionId).not.toBe(created.RevisionId);
    expect({ ...configuration(unchanged), RevisionId: created.RevisionId }).toEqual(configuration(created));

    const stale = await failure(
      local.lambda.send(new UpdateAliasCommand({ FunctionName: 'fn', Name: 'live', Description: 'x', RevisionId: created.RevisionId })),
    );
    expect(stale.name).toBe('PreconditionFailedException');
    expect(stale.$metadata.httpStatusCode).toBe(412);
    expect(stale.message).toBe(PRECONDITION_FAILED);
    expect((await getAlias('live')).Description).toBe('first');

    const described = await local.lambda.send(
      new UpdateAliasCommand({ FunctionName: 'fn', Name: 'live', Description: 'something changed', RevisionId: unchanged.RevisionId }),
    );
    expect(described.Description).toBe('something changed');
    expect(described.RoutingConfig).toEqual({ AdditionalVersionWeights: { '2': 0.2 } });

    const cleared = await local.lambda.send(new UpdateAliasCommand({ FunctionName: 'fn', Name: 'live', RoutingConfig: { AdditionalVersionWeights: {} } }));
    expect(Object.keys(configuration(cleared))).not.toContain('RoutingConfig');
    expect(configuration(await getAlias('live'))).toEqual(configuration(cleared));

    await local.lambda.send(new UpdateAliasCommand({ FunctionName: 'fn', Name: 'live', RoutingConfig: { AdditionalVersionWeights: { '2': 0.7 } } }));
    expect((await getAlias('live')).RoutingConfig).toEqual({ AdditionalVersionWeights: { '2': 0.7 } });
    await local.lambda.send(new UpdateAliasCommand({ FunctionName: 'fn', Name: 'live', RoutingConfig: {} }));
    expect((await getAlias('live')).RoutingConfig).toBeUndefined();

    const moved = await local.lambda.send(new UpdateAliasCommand({ FunctionName: 'fn', Name: 'live', FunctionVersion: '2' }));
    expect(moved.FunctionVersion).toBe('2');
    expect((await getAlias('live')).FunctionVersion).toBe('2');
  });

  it('refuses updates Lambda refuses: a missing version, routing to the version pointed to, routing from $LATEST', async () => {
    await functionWithTwoVersions('fn');
    await createAlias({ Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } } });
    const missing = await failure(local.lambda.send(new UpdateAliasCommand({ FunctionName: 'fn', Name: 'live', FunctionVersion: '10' })));
    expect(missing.name).toBe('ResourceNotFoundException');
    expect(missing.message).toBe(`Function not found: ${ARN_PREFIX}fn:10`);
    // Routing kept as it was would now route to the version the alias points to.
    const same = await failure(local.lambda.send(new UpdateAliasCommand({ FunctionName: 'fn', Name: 'live', FunctionVersion: '2' })));
    expect(same.name).toBe('InvalidParameterValueException');
    expect(same.message).toBe('Invalid function version 2. Function version 2 is already included in routing configuration.');
    const latest = await failure(local.lambda.send(new UpdateAliasCommand({ FunctionName: 'fn', Name: 'live', FunctionVersion: '$LATEST' })));
    expect(latest.message).toBe('$LATEST is not supported for an alias pointing to more than 1 version');
    expect(configuration(await getAlias('live'))).toMatchObject({ FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } } });
  });

  it('deletes an alias with 204, and answers 204 for one that does not exist', async () => {
    await functionWithTwoVersions('fn');
    await createAlias({ Name: 'live', FunctionVersion: '1' });
    const deleted = await local.lambda.send(new DeleteAliasCommand({ FunctionName: 'fn', Name: 'live' }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    expect((await local.lambda.send(new ListAliasesCommand({ FunctionName: 'fn' }))).Aliases).toEqual([]);
    const again = await local.lambda.send(new DeleteAliasCommand({ FunctionName: 'fn', Name: 'live' }));
    expect(again.$metadata.httpStatusCode).toBe(204);
    // The name is free again.
    expect((await createAlias({ Name: 'live', FunctionVersion: '2' })).FunctionVersion).toBe('2');
  });

  it('keeps aliases across a restart, and drops them with their function', async () => {
    await functionWithTwoVersions('fn');
    const created = await createAlias({ Name: 'live', FunctionVersion: '1', Description: 'kept', RoutingConfig: { AdditionalVersionWeights: { '2': 0.25 } } });
    await local.restart();
    expect(configuration(await getAlias('live'))).toEqual(configuration(created));
    expect((await allAliases()).names).toEqual(['live']);

    await local.lambda.send(new DeleteFunctionCommand({ FunctionName: 'fn' }));
    await functionWithTwoVersions('fn');
    const gone = await failure(getAlias('live'));
    expect(gone.message).toBe(`Cannot find alias arn: ${ARN_PREFIX}fn:live`);
  });
});

describe('alias requests Lambda refuses', () => {
  it('refuses routing configurations as AWS does (test_notfound_and_invalid_routingconfigs)', async () => {
    await functionWithTwoVersions('fn');
    const refusal = async (input: Omit<CreateAliasCommandInput, 'FunctionName' | 'Name'>) => failure(createAlias({ Name: 'custom', ...input }));

    const tooMany = await refusal({ FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '1': 0.8, '2': 0.2 } } });
    expect([tooMany.name, tooMany.$metadata.httpStatusCode, tooMany.message]).toEqual([
      'InvalidParameterValueException',
      400,
      'Number of items in AdditionalVersionWeights cannot be greater than 1',
    ]);

    const weightRule =
      'Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]';
    const tooHigh = await refusal({ FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 2 } } });
    expect([tooHigh.name, tooHigh.$metadata.httpStatusCode]).toEqual(['ValidationException', 400]);
    expect(tooHigh.message).toBe(
      `1 validation error detected: Value '{2=2.0}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: ${weightRule}`,
    );
    const subZero = await refusal({ FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': -1 } } });
    expect(subZero.message).toBe(
      `1 validation error detected: Value '{2=-1.0}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: ${weightRule}`,
    );

    const sameVersion = await refusal({ FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '1': 0.5 } } });
    expect([sameVersion.name, sameVersion.message]).toEqual([
      'InvalidParameterValueException',
      'Invalid function version 1. Function version 1 is already included in routing configuration.',
    ]);

    const noTarget = await refusal({ FunctionVersion: '10', RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } } });
    expect([noTarget.name, noTarget.$metadata.httpStatusCode, noTarget.message]).toEqual([
      'ResourceNotFoundException',
      404,
      `Function not found: ${ARN_PREFIX}fn:10`,
    ]);
    const noRouted = await refusal({ FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '10': 0.5 } } });
    expect([noRouted.name, noRouted.message]).toEqual(['ResourceNotFoundException', `Function not found: ${ARN_PREFIX}fn:10`]);

    const fromLatest = await refusal({ FunctionVersion: '$LATEST', RoutingConfig: { AdditionalVersionWeights: { '1': 0.5 } } });
    expect([fromLatest.name, fromLatest.message]).toEqual([
      'InvalidParameterValueException',
      '$LATEST is not supported for an alias pointing to more than 1 version',
    ]);
    const toLatest = await refusal({ FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { $LATEST: 0.5 } } });
    expect(toLatest.name).toBe('ValidationException');
    expect(toLatest.message).toBe(
      "1 validation error detected: Value '{$LATEST=0.5}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+]",
    );
    // None of them made the alias.
    expect((await allAliases()).names).toEqual([]);
  });

  it('refuses a second alias of a name with 409, an alias name of digits only, and an alias pointing to an alias', async () => {
    await functionWithTwoVersions('fn');
    await createAlias({ Name: 'custom', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } } });
    const duplicate = await failure(createAlias({ Name: 'custom', FunctionVersion: '2' }));
    expect([duplicate.name, duplicate.$metadata.httpStatusCode, duplicate.message]).toEqual([
      'ResourceConflictException',
      409,
      `Alias already exists: ${ARN_PREFIX}fn:custom`,
    ]);
    expect((await getAlias('custom')).FunctionVersion).toBe('1');

    const digits = await failure(createAlias({ Name: '2024', FunctionVersion: '1' }));
    expect(digits.name).toBe('ValidationException');
    expect(digits.message).toBe(
      "1 validation error detected: Value '2024' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
    );

    const toAlias = await failure(createAlias({ Name: 'chained', FunctionVersion: 'custom' }));
    expect(toAlias.name).toBe('ValidationException');
    expect(toAlias.message).toMatch(
      /^1 validation error detected: Value 'custom' at 'functionVersion' failed to satisfy constraint: Member must satisfy regular expression pattern: /,
    );
  });

  it('answers a missing alias in each operation’s own words', async () => {
    await functionWithTwoVersions('fn');
    const get = await failure(getAlias('non-existent'));
    expect([get.name, get.$metadata.httpStatusCode, get.message]).toEqual([
      'ResourceNotFoundException',
      404,
      `Cannot find alias arn: ${ARN_PREFIX}fn:non-existent`,
    ]);
    const update = await failure(local.lambda.send(new UpdateAliasCommand({ FunctionName: 'fn', Name: 'non-existent' })));
    expect([update.name, update.$metadata.httpStatusCode, update.message]).toEqual([
      'ResourceNotFoundException',
      404,
      `Alias not found: ${ARN_PREFIX}fn:non-existent`,
    ]);
  });

  it('answers a missing function with 404: CreateAlias names the version asked for, the others the function', async () => {
    const create = await failure(
      createAlias({ Name: 'custom', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } } }, 'fn-unknown'),
    );
    expect([create.name, create.$metadata.httpStatusCode, create.message]).toEqual([
      'ResourceNotFoundException',
      404,
      `Function not found: ${ARN_PREFIX}fn-unknown:1`,
    ]);
    for (const call of [
      () => getAlias('live', 'fn-unknown'),
      () => local.lambda.send(new UpdateAliasCommand({ FunctionName: 'fn-unknown', Name: 'live' })),
      () => local.lambda.send(new DeleteAliasCommand({ FunctionName: 'fn-unknown', Name: 'live' })),
      () => local.lambda.send(new ListAliasesCommand({ FunctionName: 'fn-unknown' })),
    ]) {
      const error = await failure(call());
      expect([error.name, error.$metadata.httpStatusCode, error.message]).toEqual([
        'ResourceNotFoundException',
        404,
        `Function not found: ${ARN_PREFIX}fn-unknown`,
      ]);
    }
  });
});
