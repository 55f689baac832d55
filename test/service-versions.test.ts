// Published versions through the real @aws-sdk/client-lambda: PublishVersion, ListVersionsByFunction, Publish on
// CreateFunction and UpdateFunctionCode, and GetFunction/GetFunctionConfiguration/DeleteFunction with a Qualifier,
// with AWS's answers and messages (test_lambda_api.snapshot.json: TestLambdaVersions, TestLambdaRevisions,
// TestLambdaFunction).
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetAccountSettingsCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  ListFunctionsCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeZip } from '../tools/zip.ts';
import { createActiveFunction, invokeJson, ROLE, waitUntilActive, waitUntilUpdated } from './support/lambda-fixtures.ts';
import { failure, useLocalService } from './support/local-service.ts';
import { ProcessInvoker } from './support/process-invoker.ts';

const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const REVISION_MESSAGE = 'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id';

const handlerSaying = (word: string) => makeZip([{ name: 'index.mjs', content: `export const handler = async () => ({ says: '${word}' });\n` }]);

const manyFiles = makeZip([
  { name: 'index.mjs', content: "export const handler = async () => 'many';\n" },
  ...Array.from({ length: 400 }, (_, i) => ({ name: `node_modules/m${i}/index.js`, content: `module.exports = ${i};\n` })),
]);

let invoker: ProcessInvoker;
// A fresh invoker per test, kept across a restart, and closed once the service has stopped (registered before the
// service's own hooks: after-hooks run in reverse).
beforeEach(() => {
  invoker = new ProcessInvoker();
});
afterEach(() => invoker.close());
const local = useLocalService('lambkin-versions-', () => ({ invoker }));

const create = (name: string, word = 'one', extra: object = {}) =>
  createActiveFunction(local.lambda, {
    FunctionName: name,
    Role: ROLE,
    Runtime: 'nodejs24.x',
    Handler: 'index.handler',
    Code: { ZipFile: handlerSaying(word) },
    ...extra,
  });
const publish = (name: string, extra: object = {}) => local.lambda.send(new PublishVersionCommand({ FunctionName: name, ...extra }));
const latestOf = async (name: string) => (await local.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name })))!;
const versionsOf = async (name: string) => (await local.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: name }))).Versions!.map((v) => v.Version);

async function updateCode(name: string, word: string, extra: object = {}) {
  const answer = await local.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: handlerSaying(word), ...extra }));
  await waitUntilUpdated(local.lambda, name);
  return answer;
}

describe('PublishVersion', () => {
  it('publishes $LATEST as version 1, 2, ... with qualified ARNs, its own RevisionId, and a new RevisionId for $LATEST', async () => {
    await create('fn', 'one', { Description: 'the function' });
    const before = await latestOf('fn');
    const v1 = await publish('fn');
    expect(v1.$metadata.httpStatusCode).toBe(201);
    expect(v1).toMatchObject({
      FunctionName: 'fn',
      FunctionArn: `${ARN}fn:1`,
      Version: '1',
      State: 'Active',
      LastUpdateStatus: 'Successful',
      Description: 'the function',
      CodeSha256: before.CodeSha256,
    });
    expect(v1.RevisionId).toMatch(UUID);
    const after = await latestOf('fn');
    expect(after.RevisionId).not.toBe(before.RevisionId);
    expect(v1.RevisionId).not.toBe(after.RevisionId);
    expect(after).toMatchObject({ FunctionArn: `${ARN}fn`, Version: '$LATEST' });

    await updateCode('fn', 'two');
    const v2 = await publish('fn', { Description: 'second' });
    expect(v2).toMatchObject({ FunctionArn: `${ARN}fn:2`, Version: '2', Description: 'second' });
    expect(v2.CodeSha256).not.toBe(v1.CodeSha256);
  });

  it('returns the last version, still 201, when nothing changed since it was published', async () => {
    await create('fn');
    const v1 = await publish('fn');
    const again = await publish('fn');
    expect(again.$metadata.httpStatusCode).toBe(201);
    expect(again).toMatchObject({ Version: '1', FunctionArn: `${ARN}fn:1`, RevisionId: v1.RevisionId });
    expect(await versionsOf('fn')).toEqual(['$LATEST', '1']);
    // A change to the configuration alone is something to publish.
    await local.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'fn', Timeout: 9 }));
    await waitUntilUpdated(local.lambda, 'fn');
    expect((await publish('fn')).Version).toBe('2');
  });

  it("refuses a CodeSha256 other than $LATEST's (400) and an old RevisionId (412) in AWS's words", async () => {
    await create('fn');
    const latest = await latestOf('fn');
    const sha = await failure(publish('fn', { CodeSha256: 'somenonexistentsha256' }));
    expect(sha.name).toBe('InvalidParameterValueException');
    expect(sha.$metadata.httpStatusCode).toBe(400);
    expect(sha.message).toBe(
      `CodeSHA256 (somenonexistentsha256) is different from current CodeSHA256 in $LATEST (${latest.CodeSha256}). Please try again with the CodeSHA256 in $LATEST.`,
    );
    const revision = await failure(publish('fn', { RevisionId: 'wrong' }));
    expect(revision.name).toBe('PreconditionFailedException');
    expect(revision.$metadata.httpStatusCode).toBe(412);
    expect(revision.message).toBe(REVISION_MESSAGE);
    expect(await versionsOf('fn')).toEqual(['$LATEST']);
    const ok = await publish('fn', { RevisionId: latest.RevisionId, CodeSha256: latest.CodeSha256 });
    expect(ok.Version).toBe('1');
  });

  it('is refused with 409 while the function is Pending or being updated', async () => {
    await local.lambda.send(
      new CreateFunctionCommand({ FunctionName: 'fn', Role: ROLE, Runtime: 'nodejs24.x', Handler: 'index.handler', Code: { ZipFile: handlerSaying('one') } }),
    );
    const pending = await failure(publish('fn'));
    expect(pending.name).toBe('ResourceConflictException');
    expect(pending.message).toBe('The operation cannot be performed at this time. The function is currently in the following state: Pending');
    await waitUntilActive(local.lambda, 'fn');
    // Many files take a moment to flush to disk: the update is still in progress when the publish comes.
    await local.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'fn', ZipFile: manyFiles }));
    const updating = await failure(publish('fn'));
    expect(updating.$metadata.httpStatusCode).toBe(409);
    expect(updating.message).toBe(`The operation cannot be performed at this time. An update is in progress for resource: ${ARN}fn`);
  });

  it('answers two publishes sent at once with the same new version', async () => {
    await create('fn');
    const [a, b] = await Promise.all([publish('fn'), publish('fn')]);
    expect([a.Version, b.Version]).toEqual(['1', '1']);
    expect(a.RevisionId).toBe(b.RevisionId);
    expect(await versionsOf('fn')).toEqual(['$LATEST', '1']);
  });

  it('never reuses a number, even after the highest version is deleted', async () => {
    await create('fn', 'one');
    await publish('fn');
    await updateCode('fn', 'two');
    await publish('fn');
    await local.lambda.send(new DeleteFunctionCommand({ FunctionName: 'fn', Qualifier: '2' }));
    expect(await versionsOf('fn')).toEqual(['$LATEST', '1']);
    await updateCode('fn', 'three');
    expect((await publish('fn')).Version).toBe('3');
  });
});

describe('ListVersionsByFunction', () => {
  it('lists $LATEST first with its qualified ARN, then the versions ascending, a page at a time', async () => {
    await create('fn', 'w0');
    for (let i = 1; i <= 3; i++) {
      await publish('fn');
      await updateCode('fn', `w${i}`);
    }
    const all = await local.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'fn' }));
    expect(all.Versions!.map((v) => v.FunctionArn)).toEqual([`${ARN}fn:$LATEST`, `${ARN}fn:1`, `${ARN}fn:2`, `${ARN}fn:3`]);
    expect(all.NextMarker).toBeUndefined();
    // Listed as AWS lists them: without State or LastUpdateStatus.
    expect(all.Versions![1]!.State).toBeUndefined();

    const seen: string[] = [];
    let Marker: string | undefined;
    do {
      const page = await local.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'fn', MaxItems: 3, Marker }));
      expect(page.Versions!.length).toBeLessThanOrEqual(3);
      seen.push(...page.Versions!.map((v) => v.Version!));
      Marker = page.NextMarker;
    } while (Marker);
    expect(seen).toEqual(['$LATEST', '1', '2', '3']);
  });

  it('answers at most 50 versions a page', async () => {
    await create('fn', 'w0');
    for (let i = 1; i <= 50; i++) {
      await publish('fn');
      await local.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'fn', Timeout: 3 + i }));
      await waitUntilUpdated(local.lambda, 'fn');
    }
    const first = await local.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'fn', MaxItems: 100 }));
    expect(first.Versions).toHaveLength(50);
    const rest = await local.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'fn', Marker: first.NextMarker }));
    expect(rest.Versions!.map((v) => v.Version)).toEqual(['50']);
  });

  it('names a missing function in a 404', async () => {
    const error = await failure(local.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'nope' })));
    expect(error.name).toBe('ResourceNotFoundException');
    expect(error.message).toBe(`Function not found: ${ARN}nope`);
  });
});

describe('Publish on CreateFunction and UpdateFunctionCode', () => {
  it("CreateFunction answers $LATEST's configuration, Pending, with Version 1; version 1 exists", async () => {
    const created = await local.lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'fn',
        Role: ROLE,
        Runtime: 'nodejs24.x',
        Handler: 'index.handler',
        Code: { ZipFile: handlerSaying('one') },
        Publish: true,
      }),
    );
    expect(created).toMatchObject({ FunctionArn: `${ARN}fn`, Version: '1', State: 'Pending' });
    await waitUntilActive(local.lambda, 'fn');
    const v1 = await local.lambda.send(new GetFunctionCommand({ FunctionName: 'fn', Qualifier: '1' }));
    expect(v1.Configuration).toMatchObject({ FunctionArn: `${ARN}fn:1`, Version: '1', State: 'Active', CodeSha256: created.CodeSha256 });
    // Publishing again with nothing changed answers version 1 (test_publish_version_on_create).
    expect((await publish('fn')).Version).toBe('1');
    expect((await invokeJson(local.lambda, 'fn', {}, { input: { Qualifier: '1' } })).body).toEqual({ says: 'one' });
  });

  it('UpdateFunctionCode answers the new version, Pending; $LATEST is being updated', async () => {
    await create('fn', 'one');
    const updated = await local.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'fn', ZipFile: handlerSaying('two'), Publish: true }));
    expect(updated).toMatchObject({ FunctionArn: `${ARN}fn:1`, Version: '1', State: 'Pending' });
    expect(updated.LastUpdateStatus).toBeUndefined();
    const latest = await latestOf('fn');
    expect(latest.CodeSha256).toBe(updated.CodeSha256);
    expect(latest.RevisionId).not.toBe(updated.RevisionId);
    await waitUntilUpdated(local.lambda, 'fn');
    expect(await versionsOf('fn')).toEqual(['$LATEST', '1']);
  });
});

describe('GetFunction and GetFunctionConfiguration with a Qualifier', () => {
  it('answers a version, $LATEST and an alias as AWS does, and 404s an unknown version', async () => {
    await create('fn', 'one', { Tags: { team: 'a' } });
    await local.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'fn', ReservedConcurrentExecutions: 5 }));
    const v1 = await publish('fn');
    await local.lambda.send(new CreateAliasCommand({ FunctionName: 'fn', Name: 'live', FunctionVersion: '1' }));

    const version = await local.lambda.send(new GetFunctionCommand({ FunctionName: 'fn', Qualifier: '1' }));
    expect(version.Configuration).toMatchObject({ FunctionArn: `${ARN}fn:1`, Version: '1', RevisionId: v1.RevisionId });
    // Function-wide settings are the function's, whichever version is read.
    expect(version.Tags).toEqual({ team: 'a' });
    expect(version.Concurrency).toEqual({ ReservedConcurrentExecutions: 5 });

    const byName = await local.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'fn:1' }));
    expect(byName).toMatchObject({ FunctionArn: `${ARN}fn:1`, Version: '1' });
    const latest = await local.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'fn', Qualifier: '$LATEST' }));
    expect(latest).toMatchObject({ FunctionArn: `${ARN}fn:$LATEST`, Version: '$LATEST' });
    const alias = await local.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'fn', Qualifier: 'live' }));
    expect(alias).toMatchObject({ FunctionArn: `${ARN}fn:live`, Version: '1' });

    for (const Qualifier of ['1221', 'nosuchalias']) {
      const missing = await failure(local.lambda.send(new GetFunctionCommand({ FunctionName: 'fn', Qualifier })));
      expect(missing.name).toBe('ResourceNotFoundException');
      expect(missing.message).toBe(`Function not found: ${ARN}fn:${Qualifier}`);
    }
  });

  it("keeps a version's configuration and code frozen while $LATEST changes", async () => {
    await create('fn', 'one', { Environment: { Variables: { COLOUR: 'red' } } });
    const v1 = await publish('fn');
    await local.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'fn', Timeout: 30, Environment: { Variables: { COLOUR: 'blue' } } }));
    await waitUntilUpdated(local.lambda, 'fn');
    await updateCode('fn', 'two');
    const frozen = await local.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'fn', Qualifier: '1' }));
    expect(frozen).toMatchObject({ Timeout: 3, Environment: { Variables: { COLOUR: 'red' } }, CodeSha256: v1.CodeSha256, RevisionId: v1.RevisionId });
    expect(await latestOf('fn')).toMatchObject({ Timeout: 30, Environment: { Variables: { COLOUR: 'blue' } } });
  });
});

describe('DeleteFunction with a Qualifier', () => {
  it('deletes one version, ignores an unknown one, and refuses $LATEST and an alias in AWS words', async () => {
    await create('fn');
    await publish('fn');
    await local.lambda.send(new CreateAliasCommand({ FunctionName: 'fn', Name: 'live', FunctionVersion: '$LATEST' }));

    const latest = await failure(local.lambda.send(new DeleteFunctionCommand({ FunctionName: 'fn', Qualifier: '$LATEST' })));
    expect(latest.name).toBe('InvalidParameterValueException');
    expect(latest.message).toBe('$LATEST version cannot be deleted without deleting the function.');
    const alias = await failure(local.lambda.send(new DeleteFunctionCommand({ FunctionName: 'fn', Qualifier: 'live' })));
    expect(alias.$metadata.httpStatusCode).toBe(400);
    expect(alias.message).toBe('Deletion of aliases is not currently supported.');

    const unknown = await local.lambda.send(new DeleteFunctionCommand({ FunctionName: 'fn', Qualifier: '1233' }));
    expect(unknown.$metadata.httpStatusCode).toBe(204);
    const deleted = await local.lambda.send(new DeleteFunctionCommand({ FunctionName: 'fn:1' }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    expect(await versionsOf('fn')).toEqual(['$LATEST']);
    const gone = await failure(local.lambda.send(new GetFunctionCommand({ FunctionName: 'fn', Qualifier: '1' })));
    expect(gone.message).toBe(`Function not found: ${ARN}fn:1`);

    const missingFunction = await failure(local.lambda.send(new DeleteFunctionCommand({ FunctionName: 'nope', Qualifier: '1' })));
    expect(missingFunction.message).toBe(`Function not found: ${ARN}nope`);
  });

  it('refuses to delete a version an alias points to, as its version or its additional one', async () => {
    await create('fn', 'one');
    await publish('fn');
    await updateCode('fn', 'two');
    await publish('fn');
    await updateCode('fn', 'three');
    await publish('fn');
    await local.lambda.send(
      new CreateAliasCommand({ FunctionName: 'fn', Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.1 } } }),
    );
    for (const Qualifier of ['1', '2']) {
      const refused = await failure(local.lambda.send(new DeleteFunctionCommand({ FunctionName: 'fn', Qualifier })));
      expect(refused.name).toBe('ResourceConflictException');
      expect(refused.$metadata.httpStatusCode).toBe(409);
      expect(refused.message).toBe('Unable to delete version because the following aliases reference it: [live]');
    }
    await local.lambda.send(new DeleteFunctionCommand({ FunctionName: 'fn', Qualifier: '3' }));
    expect(await versionsOf('fn')).toEqual(['$LATEST', '1', '2']);
  });

  it('deleting the function deletes its versions', async () => {
    await create('fn');
    await publish('fn');
    await local.lambda.send(new DeleteFunctionCommand({ FunctionName: 'fn' }));
    await create('fn');
    expect(await versionsOf('fn')).toEqual(['$LATEST']);
    expect((await publish('fn')).Version).toBe('1');
  });
});

describe("a version's code in the data dir", () => {
  const codeDirs = () =>
    existsSync(join(local.dataDir, 'code'))
      ? readdirSync(join(local.dataDir, 'code'))
          .filter((name) => /^[0-9a-f]{64}$/.test(name))
          .sort()
      : [];
  const hexOf = (sha256: string) => Buffer.from(sha256, 'base64').toString('hex');

  it("is kept while a version names it after $LATEST's code changed, and removed once the version is deleted", async () => {
    const created = await create('fn', 'one');
    await publish('fn');
    const updated = await updateCode('fn', 'two');
    await local.service.store.collected();
    const [one, two] = [hexOf(created.CodeSha256!), hexOf(updated.CodeSha256!)];
    expect(codeDirs()).toEqual([one, two].sort());
    // The version runs it until it is deleted.
    expect((await invokeJson(local.lambda, 'fn', {}, { input: { Qualifier: '1' } })).body).toEqual({ says: 'one' });
    await local.lambda.send(new DeleteFunctionCommand({ FunctionName: 'fn', Qualifier: '1' }));
    await eventually(() => codeDirs().length === 1);
    expect(codeDirs()).toEqual([two]);
  });

  it("goes with the function: every version's code is removed", async () => {
    await create('fn', 'one');
    await publish('fn');
    await updateCode('fn', 'two');
    await publish('fn');
    await updateCode('fn', 'three');
    expect(codeDirs()).toHaveLength(3);
    await local.lambda.send(new DeleteFunctionCommand({ FunctionName: 'fn' }));
    await eventually(() => codeDirs().length === 0);
  });
});

async function eventually(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > giveUpAt) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('GetAccountSettings', () => {
  it("counts each published version's code in TotalCodeSize, as AWS does", async () => {
    const created = await create('fn');
    const total = async () => (await local.lambda.send(new GetAccountSettingsCommand({}))).AccountUsage!.TotalCodeSize!;
    const before = await total();
    // The same zip again, published: one more copy counted (test_account_settings_total_code_size).
    await local.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'fn', ZipFile: handlerSaying('one'), Publish: true }));
    expect(await total()).toBe(before + created.CodeSize!);
    await waitUntilUpdated(local.lambda, 'fn');
    await local.lambda.send(new DeleteFunctionCommand({ FunctionName: 'fn', Qualifier: '1' }));
    expect(await total()).toBe(before);
  });
});

describe('ListFunctions', () => {
  it('lists every version of each function with FunctionVersion=ALL, $LATEST alone without', async () => {
    await create('a');
    await publish('a');
    await create('b');
    const all = await local.lambda.send(new ListFunctionsCommand({ FunctionVersion: 'ALL' }));
    expect(all.Functions!.map((f) => f.FunctionArn)).toEqual([`${ARN}a:$LATEST`, `${ARN}a:1`, `${ARN}b:$LATEST`]);
    const plain = await local.lambda.send(new ListFunctionsCommand({}));
    expect(plain.Functions!.map((f) => f.FunctionArn)).toEqual([`${ARN}a`, `${ARN}b`]);
  });
});

describe('versions and $LATEST-only operations', () => {
  it('updates name $LATEST only: a version in the FunctionName is not found', async () => {
    await create('fn');
    await publish('fn');
    const error = await failure(local.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'fn:1', Timeout: 5 })));
    expect(error.name).toBe('ResourceNotFoundException');
    expect(error.message).toBe(`Function not found: ${ARN}fn:1`);
  });
});

describe('a restart', () => {
  it('keeps versions, their numbering and frozen configuration', async () => {
    await create('fn', 'one');
    const v1 = await publish('fn');
    await updateCode('fn', 'two');
    await publish('fn');
    await local.lambda.send(new DeleteFunctionCommand({ FunctionName: 'fn', Qualifier: '2' }));
    await local.restart();
    const version = await local.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'fn', Qualifier: '1' }));
    expect(version).toMatchObject({ Version: '1', RevisionId: v1.RevisionId, CodeSha256: v1.CodeSha256 });
    expect(await versionsOf('fn')).toEqual(['$LATEST', '1']);
    await updateCode('fn', 'three');
    expect((await publish('fn')).Version).toBe('3');
    expect((await invokeJson(local.lambda, 'fn', {}, { input: { Qualifier: '1' } })).body).toEqual({ says: 'one' });
  });
});

describe('invoking a version', () => {
  it("runs the version's own code after $LATEST's code changed", async () => {
    await create('fn', 'one');
    await publish('fn');
    await updateCode('fn', 'two');
    expect((await invokeJson(local.lambda, 'fn', {}, { input: { Qualifier: '1' } })).body).toEqual({ says: 'one' });
    expect((await invokeJson(local.lambda, 'fn')).body).toEqual({ says: 'two' });
    const byArn = await invokeJson(local.lambda, `${ARN}fn:1`);
    expect(byArn.body).toEqual({ says: 'one' });
    expect(byArn.ExecutedVersion).toBe('1');
  });
});
