// Provisioned concurrency per published version or alias, through the real @aws-sdk/client-lambda against an
// in-process service over a data dir: AWS's refusals (test_lambda_api.snapshot.json, TestLambdaProvisionedConcurrency),
// which versions the invoker is asked to provision (an alias's follow it), the configs surviving a restart, and a data
// dir from before versions (a config on $LATEST) reported at start. The invoker records what it is asked to
// provision, by pool key, and reports each key READY with all it asked for.
import {
  DeleteFunctionCommand,
  CreateAliasCommand,
  DeleteAliasCommand,
  DeleteProvisionedConcurrencyConfigCommand,
  GetProvisionedConcurrencyConfigCommand,
  ListProvisionedConcurrencyConfigsCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  PutProvisionedConcurrencyConfigCommand,
  UpdateAliasCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import { environmentKey } from '../src/invocation/environment-key.ts';
import { LambdaApiServer, SqliteFunctionStore, type FunctionInvoker } from '../src/service/index.ts';
import type { ServiceStatus } from '../src/service/status.ts';
import { makeZip } from '../tools/zip.ts';
import { createActiveFunction, ROLE, waitUntilUpdated } from './support/lambda-fixtures.ts';
import { failure, noInvoker, useLocalService } from './support/local-service.ts';

const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:';

/** Pool key → environments the service asked for. */
let provisioned: Map<string, number>;

function recordingInvoker(): FunctionInvoker {
  return {
    ...noInvoker('provisioned-concurrency tests'),
    provision(fn, requested) {
      if (requested === 0) provisioned.delete(environmentKey(fn));
      else provisioned.set(environmentKey(fn), requested);
    },
    provisionedStatus(key) {
      const n = provisioned.get(key);
      return n === undefined ? undefined : { requested: n, allocated: n, available: n, status: 'READY' };
    },
  };
}

const local = useLocalService('lambkin-pc-versions-', () => {
  provisioned = new Map();
  return { invoker: recordingInvoker() };
});

/** A function with `versions` published versions (each after a change, so each is new). */
async function functionWithVersions(name: string, versions: number): Promise<void> {
  await createActiveFunction(local.lambda, {
    FunctionName: name,
    Role: ROLE,
    Runtime: 'nodejs24.x',
    Handler: 'index.handler',
    Code: { ZipFile: makeZip([{ name: 'index.mjs', content: 'export const handler = async () => "hi";' }]) },
  });
  for (let v = 1; v <= versions; v++) {
    if (v > 1) {
      await local.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Description: `v${v}` }));
      await waitUntilUpdated(local.lambda, name);
    }
    await local.lambda.send(new PublishVersionCommand({ FunctionName: name }));
  }
}

const put = (FunctionName: string, Qualifier: string | undefined, n: number) =>
  local.lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName, Qualifier, ProvisionedConcurrentExecutions: n }));
const get = (FunctionName: string, Qualifier: string | undefined) => local.lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName, Qualifier }));
const del = (FunctionName: string, Qualifier: string | undefined) =>
  local.lambda.send(new DeleteProvisionedConcurrencyConfigCommand({ FunctionName, Qualifier }));
const list = async (FunctionName: string) =>
  (await local.lambda.send(new ListProvisionedConcurrencyConfigsCommand({ FunctionName }))).ProvisionedConcurrencyConfigs;

async function expectRefusal(call: Promise<unknown>, name: string, status: number, message: string): Promise<void> {
  const error = await failure(call);
  expect({ name: error.name, status: error.$metadata.httpStatusCode, message: error.message }).toEqual({ name, status, message });
}

describe('which qualifiers take a config', () => {
  // test_provisioned_concurrency_exceptions: put_provisioned_latest, get_provisioned_latest, delete_provisioned_latest.
  it("refuses $LATEST and a missing qualifier in AWS's words", async () => {
    await functionWithVersions('pc', 1);
    await expectRefusal(
      put('pc', '$LATEST', 1),
      'InvalidParameterValueException',
      400,
      'Provisioned Concurrency Configs cannot be applied to unpublished function versions.',
    );
    await expectRefusal(get('pc', '$LATEST'), 'InvalidParameterValueException', 400, 'The function resource provided must be an alias or a published version.');
    await expectRefusal(del('pc', '$LATEST'), 'InvalidParameterValueException', 400, 'The function resource provided must be an alias or a published version.');
    // No qualifier at all: the API model requires one, and says so before the operation is reached.
    for (const call of [() => put('pc', undefined, 1), () => get('pc', undefined), () => del('pc', undefined)]) {
      await expectRefusal(
        call(),
        'ValidationException',
        400,
        "1 validation error detected: Value null at 'qualifier' failed to satisfy constraint: Member must not be null",
      );
    }
    // An alias of $LATEST would provision $LATEST.
    await local.lambda.send(new CreateAliasCommand({ FunctionName: 'pc', Name: 'edge', FunctionVersion: '$LATEST' }));
    await expectRefusal(
      put('pc', 'edge', 1),
      'InvalidParameterValueException',
      400,
      'Provisioned Concurrency Configs cannot be applied to unpublished function versions.',
    );
    await expectRefusal(put('pc', '2', 1), 'ResourceNotFoundException', 404, `Function not found: ${ARN}pc:2`);
    await expectRefusal(put('pc', 'nothere', 1), 'ResourceNotFoundException', 404, `Cannot find alias arn: ${ARN}pc:nothere`);
    await expectRefusal(get('pc', '1'), 'ProvisionedConcurrencyConfigNotFoundException', 404, 'No Provisioned Concurrency Config found for this function');
    // delete_provisioned_config_doesnotexist: 204.
    expect((await del('pc', '1')).$metadata.httpStatusCode).toBe(204);
    expect(provisioned.size).toBe(0);
  });
});

describe('a version and its alias', () => {
  // test_lambda_provisioned_lifecycle, step by step.
  it('cannot both have a config; an alias config follows the alias and goes with it', async () => {
    await functionWithVersions('life', 2);
    await local.lambda.send(new CreateAliasCommand({ FunctionName: 'life', Name: 'live', FunctionVersion: '1' }));

    const onVersion = await put('life', '1', 1);
    expect(onVersion.$metadata.httpStatusCode).toBe(202);
    expect(onVersion.RequestedProvisionedConcurrentExecutions).toBe(1);
    expect(provisioned).toEqual(new Map([['life:1', 1]]));
    await expectRefusal(
      put('life', 'live', 1),
      'ResourceConflictException',
      409,
      "Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version",
    );
    expect((await del('life', '1')).$metadata.httpStatusCode).toBe(204);
    await expectRefusal(get('life', '1'), 'ProvisionedConcurrencyConfigNotFoundException', 404, 'No Provisioned Concurrency Config found for this function');
    expect(provisioned.size).toBe(0);

    expect((await put('life', 'live', 1)).$metadata.httpStatusCode).toBe(202);
    await expectRefusal(put('life', '1', 1), 'ResourceConflictException', 409, 'Version is pointed by a Provisioned Concurrency alias');
    expect(provisioned).toEqual(new Map([['life:1', 1]]));
    expect(await get('life', 'live')).toMatchObject({
      RequestedProvisionedConcurrentExecutions: 1,
      AllocatedProvisionedConcurrentExecutions: 1,
      Status: 'READY',
    });

    // The alias moves to version 2: its environments do too.
    await local.lambda.send(new UpdateAliasCommand({ FunctionName: 'life', Name: 'live', FunctionVersion: '2' }));
    expect(provisioned).toEqual(new Map([['life:2', 1]]));
    expect(await list('life')).toMatchObject([{ FunctionArn: `${ARN}life:live`, RequestedProvisionedConcurrentExecutions: 1 }]);

    // Weighted routing: the environments are split by the weight.
    await put('life', 'live', 4);
    await local.lambda.send(
      new UpdateAliasCommand({ FunctionName: 'life', Name: 'live', FunctionVersion: '2', RoutingConfig: { AdditionalVersionWeights: { '1': 0.25 } } }),
    );
    expect(provisioned).toEqual(
      new Map([
        ['life:2', 3],
        ['life:1', 1],
      ]),
    );

    // delete_alias_result, get_provisioned_alias_postaliasdelete, list_response_postdeletes.
    await local.lambda.send(new DeleteAliasCommand({ FunctionName: 'life', Name: 'live' }));
    await expectRefusal(get('life', 'live'), 'ResourceNotFoundException', 404, `Cannot find alias arn: ${ARN}life:live`);
    expect(await list('life')).toEqual([]);
    expect(provisioned.size).toBe(0);
  });
});

describe('limits and listing', () => {
  it('counts every config against the reserved concurrency, and lists each with its qualified ARN', async () => {
    await functionWithVersions('sum', 3);
    await local.lambda.send(new CreateAliasCommand({ FunctionName: 'sum', Name: 'live', FunctionVersion: '3' }));
    await local.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'sum', ReservedConcurrentExecutions: 4 }));
    await put('sum', '1', 2);
    await put('sum', 'live', 1);
    await expectRefusal(
      put('sum', '2', 2),
      'InvalidParameterValueException',
      400,
      'Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function [4].',
    );
    // A config replaced counts with its new number only.
    expect((await put('sum', '1', 3)).RequestedProvisionedConcurrentExecutions).toBe(3);
    await expectRefusal(
      local.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'sum', ReservedConcurrentExecutions: 3 })),
      'InvalidParameterValueException',
      400,
      "ReservedConcurrentExecutions 3 should not be lower than function's total provisioned concurrency [4].",
    );
    const configs = await list('sum');
    expect(configs?.map((c) => [c.FunctionArn, c.RequestedProvisionedConcurrentExecutions, c.Status])).toEqual([
      [`${ARN}sum:1`, 3, 'READY'],
      [`${ARN}sum:live`, 1, 'READY'],
    ]);
    expect(provisioned).toEqual(
      new Map([
        ['sum:1', 3],
        ['sum:3', 1],
      ]),
    );

    // lambkin status: a row per provisioned version, under its pool key, naming the alias that provisions it.
    const status = (await (await fetch(`${local.service.endpoint}/lambkin/status`)).json()) as ServiceStatus;
    const rows = Object.fromEntries(status.functions.map((fn) => [fn.name, fn]));
    expect(rows.sum).toMatchObject({ reservedConcurrency: 4, provisionedConcurrency: null, deleted: false });
    expect(rows['sum:1']).toMatchObject({ provisionedConcurrency: { requested: 3 }, deleted: false });
    expect(rows['sum:3']).toMatchObject({ provisionedConcurrency: { requested: 1 }, provisionedByAliases: ['live'], deleted: false });
  });

  it("goes with its version: DeleteFunction with the version's Qualifier removes the config and its environments", async () => {
    await functionWithVersions('pruned', 2);
    await put('pruned', '1', 2);
    await put('pruned', '2', 1);
    await local.lambda.send(new DeleteFunctionCommand({ FunctionName: 'pruned', Qualifier: '1' }));
    expect((await list('pruned'))?.map((c) => c.FunctionArn)).toEqual([`${ARN}pruned:2`]);
    expect(provisioned).toEqual(new Map([['pruned:2', 1]]));
  });

  it('is no change to the function: publishing after a config answers the same version, which carries no config', async () => {
    await functionWithVersions('same', 1);
    await put('same', '1', 1);
    const again = await local.lambda.send(new PublishVersionCommand({ FunctionName: 'same' }));
    expect(again.Version).toBe('1');
    expect((await local.service.store.getVersion('same', 1))?.provisionedConcurrencyConfigs).toBeUndefined();
  });

  it('survives a restart: every config is provisioned again', async () => {
    await functionWithVersions('kept', 2);
    await local.lambda.send(new CreateAliasCommand({ FunctionName: 'kept', Name: 'live', FunctionVersion: '2' }));
    await put('kept', '1', 2);
    await put('kept', 'live', 1);
    await local.restart();
    expect(provisioned).toEqual(
      new Map([
        ['kept:1', 2],
        ['kept:2', 1],
      ]),
    );
    expect((await get('kept', '1')).RequestedProvisionedConcurrentExecutions).toBe(2);
    expect((await list('kept'))?.map((c) => c.FunctionArn)).toEqual([`${ARN}kept:1`, `${ARN}kept:live`]);
  });
});

describe('a data dir from before versions', () => {
  it('reports a config on $LATEST once at start, with how to restore it, and removes it', async () => {
    await functionWithVersions('legacy', 0);
    await local.service.stop();
    const store = new SqliteFunctionStore(local.dataDir);
    const fn = (await store.get('legacy'))!;
    await store.update({ ...fn, provisionedConcurrency: { requested: 3, lastModified: fn.lastModified } });
    store.close();

    const startWithWarnings = async () => {
      const warnings: string[] = [];
      const reopened = new SqliteFunctionStore(local.dataDir);
      provisioned = new Map();
      const server = new LambdaApiServer({ store: reopened, invoker: recordingInvoker(), onWarning: (message) => warnings.push(message) });
      await server.listen();
      const stored = await reopened.get('legacy');
      await server.close();
      reopened.close();
      return { warnings, stored };
    };
    const first = await startWithWarnings();
    expect(first.warnings).toHaveLength(1);
    expect(first.warnings[0]).toContain('function legacy: its provisioned concurrency (3) was configured on $LATEST');
    expect(first.warnings[0]).toContain('Lambda allows provisioned concurrency only on a published version or an alias');
    expect(first.warnings[0]).toContain('aws lambda publish-version --function-name legacy');
    expect(first.warnings[0]).toContain('put-provisioned-concurrency-config --function-name legacy');
    expect(first.warnings[0]).toContain('--provisioned-concurrent-executions 3');
    expect(first.stored?.provisionedConcurrency).toBeUndefined();
    expect(provisioned.size).toBe(0);
    // Said once: the next start has nothing to report.
    expect((await startWithWarnings()).warnings).toEqual([]);
    await local.restart();
    expect(await list('legacy')).toEqual([]);
  });
});
