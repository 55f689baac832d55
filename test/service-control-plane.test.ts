// The control plane of `lambkin serve` (CreateFunction, GetFunction, ListFunctions, Update*, DeleteFunction)
// through the real @aws-sdk/client-lambda: shapes as AWS returns them, errors as the SDK's typed exceptions,
// and functions that survive a restart.
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  DeleteLayerVersionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  GetLayerVersionByArnCommand,
  GetLayerVersionCommand,
  type LambdaClient,
  ListFunctionsCommand,
  ListLayersCommand,
  ListLayerVersionsCommand,
  PublishLayerVersionCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  type CreateFunctionCommandInput,
  type PublishLayerVersionCommandInput,
} from '@aws-sdk/client-lambda';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LambdaApiServer, SqliteFunctionStore } from '../src/service/index.ts';
import { failure, makeDataDir, removeDataDir, startLocalService, type LocalService, noInvoker as noInvokerFor } from './support/local-service.ts';
import { makeZip } from '../tools/zip.ts';
import { createActiveFunction, ROLE, waitUntilActive, waitUntilUpdated } from './support/lambda-fixtures.ts';

const ARN_PREFIX = 'arn:aws:lambda:us-east-1:123456789012:function:';
const LAST_MODIFIED = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const noInvoker = noInvokerFor('control-plane tests');

let dataDir: string;
let store: SqliteFunctionStore;
let server: LambdaApiServer;
let lambda: LambdaClient;
let service: LocalService | undefined;

async function startService(options: { maxUnzippedBytes?: number } = {}): Promise<void> {
  service = await startLocalService({ dataDir, invoker: noInvoker, store: options });
  ({ store, server, lambda } = service);
}

async function stopService(): Promise<void> {
  await service?.stop();
}

beforeEach(async () => {
  dataDir = await makeDataDir('lambkin-service-');
  await startService();
});

afterEach(async () => {
  await stopService();
  await removeDataDir(dataDir);
});

const handlerZip = (body = 'export const handler = async () => "hi";') =>
  makeZip([
    { name: 'index.mjs', content: body },
    { name: 'lib/', content: undefined },
    { name: 'lib/util.mjs', content: 'export const x = 1;\n', store: true },
    { name: 'bin/run.sh', content: '#!/bin/sh\necho run\n', mode: 0o755 },
    { name: 'link.mjs', content: 'lib/util.mjs', symlink: true },
  ]);

const zipFunction = (name: string, extra: Partial<CreateFunctionCommandInput> = {}): CreateFunctionCommandInput => ({
  FunctionName: name,
  Role: ROLE,
  Runtime: 'nodejs24.x',
  Handler: 'index.handler',
  Code: { ZipFile: handlerZip() },
  ...extra,
});

describe('CreateFunction (Zip)', () => {
  // AWS: test_lambda_api.snapshot.json, TestLambdaFunction::test_lambda_code_location_zipfile
  // (create-response-zip-file: no Environment when none was given, State Pending with its reason, no LastUpdateStatus)
  // and test_function_lifecycle (get_function_response: Active, Successful, another RevisionId).
  it('answers a FunctionConfiguration as AWS does, with the zip stored by content and extracted', async () => {
    const zip = handlerZip();
    const created = await lambda.send(new CreateFunctionCommand(zipFunction('hello', { Code: { ZipFile: zip }, Description: 'says hi' })));
    expect(created.$metadata.httpStatusCode).toBe(201);
    const sha256 = createHash('sha256').update(zip).digest();
    expect(created).toMatchObject({
      FunctionName: 'hello',
      FunctionArn: `${ARN_PREFIX}hello`,
      Runtime: 'nodejs24.x',
      Role: ROLE,
      Handler: 'index.handler',
      CodeSize: zip.length,
      CodeSha256: sha256.toString('base64'),
      Description: 'says hi',
      Timeout: 3,
      MemorySize: 128,
      Version: '$LATEST',
      PackageType: 'Zip',
      State: 'Pending',
      StateReason: 'The function is being created.',
      StateReasonCode: 'Creating',
      Architectures: ['x86_64'],
      EphemeralStorage: { Size: 512 },
      LoggingConfig: { LogFormat: 'Text', LogGroup: '/aws/lambda/hello' },
      RuntimeVersionConfig: { RuntimeVersionArn: expect.stringMatching(/^arn:aws:lambda:us-east-1::runtime:[0-9a-f]{64}$/) },
    });
    expect(created).not.toHaveProperty('Environment');
    expect(created).not.toHaveProperty('LastUpdateStatus');
    expect(created.LastModified).toMatch(LAST_MODIFIED);
    expect(created.RevisionId).toMatch(UUID);

    await waitUntilActive(lambda, 'hello');
    const active = (await lambda.send(new GetFunctionCommand({ FunctionName: 'hello' }))).Configuration!;
    expect(active).toMatchObject({ State: 'Active', LastUpdateStatus: 'Successful', RuntimeVersionConfig: created.RuntimeVersionConfig });
    expect(active).not.toHaveProperty('StateReason');
    expect(active).not.toHaveProperty('StateReasonCode');
    expect(active).not.toHaveProperty('LastUpdateStatusReason');
    expect(active.RevisionId).toMatch(UUID);
    expect(active.RevisionId).not.toBe(created.RevisionId);
    expect(active.LastModified).toBe(created.LastModified);

    const hex = sha256.toString('hex');
    const taskRoot = join(dataDir, 'code', hex);
    expect(await readFile(join(dataDir, 'code', `${hex}.zip`))).toEqual(zip);
    expect(await readFile(join(taskRoot, 'index.mjs'), 'utf8')).toContain('export const handler');
    expect(await readFile(join(taskRoot, 'lib', 'util.mjs'), 'utf8')).toBe('export const x = 1;\n');
    expect(statSync(join(taskRoot, 'bin', 'run.sh')).mode & 0o777).toBe(0o755);
    expect(await readlink(join(taskRoot, 'link.mjs'))).toBe('lib/util.mjs');
  });

  it('stores the same zip once for two functions', async () => {
    const a = await lambda.send(new CreateFunctionCommand(zipFunction('same-a')));
    const b = await lambda.send(new CreateFunctionCommand(zipFunction('same-b')));
    expect(a.CodeSha256).toBe(b.CodeSha256);
  });

  it('refuses a taken name with ResourceConflictException (409)', async () => {
    await lambda.send(new CreateFunctionCommand(zipFunction('taken')));
    const error = await failure(lambda.send(new CreateFunctionCommand(zipFunction('taken'))));
    expect(error.name).toBe('ResourceConflictException');
    expect(error.$metadata.httpStatusCode).toBe(409);
    expect(error.message).toBe('Function already exist: taken');
  });

  it.each([
    ['an unknown runtime', { Runtime: 'cobol85.x' as never }, /runtime/],
    ['a zip function without Handler', { Handler: undefined }, /Runtime and Handler are mandatory/],
    ['Timeout 901', { Timeout: 901 }, /less than or equal to 900/],
    ['MemorySize 10241', { MemorySize: 10_241 }, /less than or equal to 10240/],
    ['environment variables over 4 KB', { Environment: { Variables: { BIG: 'x'.repeat(4_100) } } }, /exceeded the 4KB limit/],
    ['a reserved environment variable', { Environment: { Variables: { AWS_REGION: 'eu-west-1' } } }, /reserved keys.*AWS_REGION/],
    [
      'a zip with a file where a folder must go',
      {
        Code: {
          ZipFile: makeZip([
            { name: 'a', content: 'x' },
            { name: 'a/b', content: 'y' },
          ]),
        },
      },
      /Could not unzip/,
    ],
    ['a zip that is not a zip', { Code: { ZipFile: Buffer.from('not a zip at all') } }, /Could not unzip/],
    ['a zip whose entry escapes the package', { Code: { ZipFile: makeZip([{ name: '../escape.js', content: 'x' }]) } }, /Could not unzip/],
    [
      'a zip whose symlink escapes the package',
      { Code: { ZipFile: makeZip([{ name: 'evil', content: '../../etc/passwd', symlink: true }]) } },
      /outside the package/,
    ],
  ])('refuses %s with InvalidParameterValueException', async (_what, extra, message) => {
    const error = await failure(lambda.send(new CreateFunctionCommand(zipFunction('invalid', extra))));
    expect(error.name).toBe('InvalidParameterValueException');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.message).toMatch(message);
    const notThere = await failure(lambda.send(new GetFunctionCommand({ FunctionName: 'invalid' })));
    expect(notThere.name).toBe('ResourceNotFoundException');
    // A refused package leaves no half-extracted staging folder behind.
    const codeDir = join(dataDir, 'code');
    expect(existsSync(codeDir) ? readdirSync(codeDir).filter((name) => name.startsWith('.staging')) : []).toEqual([]);
  });

  it('refuses a link placed through another link, which could lead it out of the package', async () => {
    const zip = makeZip([
      { name: 'here', content: '.', symlink: true },
      { name: 'up', content: 'here/..', symlink: true },
      { name: 'up/escaped', content: 'anything', symlink: true },
    ]);
    const error = await failure(lambda.send(new CreateFunctionCommand(zipFunction('chain', { Code: { ZipFile: zip } }))));
    expect(error.name).toBe('InvalidParameterValueException');
    expect(error.message).toMatch(/lies inside a link/);
    for (const outside of [join(dataDir, 'code', 'escaped'), join(dataDir, 'escaped')]) expect(existsSync(outside)).toBe(false);
  });

  it('keeps links within the package, in folders the zip does not list (node_modules/.bin)', async () => {
    const zip = makeZip([
      { name: 'index.mjs', content: 'export const handler = async () => 1;' },
      { name: 'node_modules/tool/cli.js', content: '#!/usr/bin/env node\n', mode: 0o755 },
      { name: 'node_modules/.bin/tool', content: '../tool/cli.js', symlink: true },
    ]);
    const created = await lambda.send(new CreateFunctionCommand(zipFunction('with-bin', { Code: { ZipFile: zip } })));
    const taskRoot = join(dataDir, 'code', Buffer.from(created.CodeSha256!, 'base64').toString('hex'));
    expect(await readlink(join(taskRoot, 'node_modules', '.bin', 'tool'))).toBe('../tool/cli.js');
    expect(await readFile(join(taskRoot, 'node_modules', '.bin', 'tool'), 'utf8')).toBe('#!/usr/bin/env node\n');
  });

  it('leaves nothing of a refused zip-slip package outside the code folder', async () => {
    await failure(
      lambda.send(
        new CreateFunctionCommand(
          zipFunction('slip', {
            Code: {
              ZipFile: makeZip([
                { name: 'ok.js', content: 'x' },
                { name: '../../slipped.js', content: 'x' },
              ]),
            },
          }),
        ),
      ),
    );
    expect(existsSync(join(dataDir, 'slipped.js'))).toBe(false);
    expect(existsSync(join(dataDir, '..', 'slipped.js'))).toBe(false);
  });

  it('refuses a package that unzips past the limit', async () => {
    await stopService();
    await startService({ maxUnzippedBytes: 1_000 });
    const zip = makeZip([{ name: 'big.txt', content: 'a'.repeat(1_001) }]);
    const error = await failure(lambda.send(new CreateFunctionCommand(zipFunction('too-big', { Code: { ZipFile: zip } }))));
    expect(error.name).toBe('InvalidParameterValueException');
    expect(error.message).toBe('Unzipped size must be smaller than 1000 bytes');
  });
});

describe('CreateFunction (Image)', () => {
  it('registers a local image with its ImageConfig', async () => {
    const created = await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'from-image',
        Role: ROLE,
        PackageType: 'Image',
        Code: { ImageUri: 'my-fn:latest' },
        ImageConfig: { EntryPoint: ['/lambda-entrypoint.sh'], Command: ['app.handler'], WorkingDirectory: '/var/task' },
        Timeout: 30,
        MemorySize: 1024,
      }),
    );
    expect(created).toMatchObject({
      FunctionName: 'from-image',
      PackageType: 'Image',
      Timeout: 30,
      MemorySize: 1024,
      ImageConfigResponse: {
        ImageConfig: { EntryPoint: ['/lambda-entrypoint.sh'], Command: ['app.handler'], WorkingDirectory: '/var/task' },
      },
    });
    expect(created.Runtime).toBeUndefined();
    expect(created.Handler).toBeUndefined();
    const got = await lambda.send(new GetFunctionCommand({ FunctionName: 'from-image' }));
    expect(got.Code).toMatchObject({ RepositoryType: 'ECR', ImageUri: 'my-fn:latest' });
  });

  it('refuses Runtime or Handler on an Image function', async () => {
    const error = await failure(
      lambda.send(new CreateFunctionCommand({ FunctionName: 'img', Role: ROLE, PackageType: 'Image', Handler: 'x.y', Code: { ImageUri: 'my-fn:latest' } })),
    );
    expect(error.name).toBe('InvalidParameterValueException');
  });
});

describe('GetFunction and GetFunctionConfiguration', () => {
  beforeEach(async () => {
    await createActiveFunction(lambda, zipFunction('named', { Tags: { team: 'lambkin' } }));
  });

  it.each(['named', 'named:$LATEST', '123456789012:function:named', `${ARN_PREFIX}named`, `${ARN_PREFIX}named:$LATEST`])(
    'finds the function as %s',
    async (FunctionName) => {
      const got = await lambda.send(new GetFunctionCommand({ FunctionName }));
      // AWS answers with the qualified ARN when the request names $LATEST (test_lambda_api.snapshot.json,
      // TestLambdaVersions::test_publish_version_on_create, get_function_latest_result).
      expect(got.Configuration?.FunctionArn).toBe(FunctionName.endsWith(':$LATEST') ? `${ARN_PREFIX}named:$LATEST` : `${ARN_PREFIX}named`);
      expect(got.Code?.RepositoryType).toBe('S3');
      expect(got.Code?.Location).toMatch(/\.zip$/);
      expect(got.Tags).toEqual({ team: 'lambkin' });
      const configuration = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName }));
      expect(configuration.FunctionName).toBe('named');
      expect(configuration.FunctionArn).toBe(got.Configuration?.FunctionArn);
      expect(configuration.RevisionId).toBe(got.Configuration?.RevisionId);
    },
  );

  it('answers an unknown function with ResourceNotFoundException (404) naming its ARN', async () => {
    const error = await failure(lambda.send(new GetFunctionCommand({ FunctionName: 'nobody' })));
    expect(error.name).toBe('ResourceNotFoundException');
    expect(error.$metadata.httpStatusCode).toBe(404);
    expect(error.message).toBe(`Function not found: ${ARN_PREFIX}nobody`);
  });

  it('has no versions yet: a numbered qualifier is not found', async () => {
    const error = await failure(lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'named', Qualifier: '1' })));
    expect(error.name).toBe('ResourceNotFoundException');
    expect(error.message).toBe(`Function not found: ${ARN_PREFIX}named:1`);
  });
});

describe('ListFunctions', () => {
  // AWS: test_lambda_api.snapshot.json, TestLambdaFunction::test_list_functions (list_default, list_all): no State,
  // LastUpdateStatus or RuntimeVersionConfig in the list; FunctionVersion=ALL lists $LATEST with its qualified ARN.
  // Environment shows as given, {Variables: {}} included (the recorded functions were created with it).
  it('lists each function without the fields AWS leaves out there, qualified with FunctionVersion=ALL', async () => {
    await createActiveFunction(lambda, zipFunction('listed', { Environment: { Variables: {} } }));
    const [listed] = (await lambda.send(new ListFunctionsCommand({}))).Functions!;
    expect(listed).toMatchObject({ FunctionName: 'listed', FunctionArn: `${ARN_PREFIX}listed`, Version: '$LATEST', Environment: { Variables: {} } });
    for (const field of ['State', 'StateReason', 'LastUpdateStatus', 'RuntimeVersionConfig']) expect(listed).not.toHaveProperty(field);
    const [all] = (await lambda.send(new ListFunctionsCommand({ FunctionVersion: 'ALL' }))).Functions!;
    expect(all).toMatchObject({ FunctionName: 'listed', FunctionArn: `${ARN_PREFIX}listed:$LATEST`, Version: '$LATEST' });
  });

  it('pages through every function in name order with Marker and MaxItems', async () => {
    const names = ['fn-e', 'fn-a', 'fn-d', 'fn-b', 'fn-c'];
    for (const name of names) await lambda.send(new CreateFunctionCommand(zipFunction(name)));
    const seen: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = await lambda.send(new ListFunctionsCommand({ MaxItems: 2, Marker: marker }));
      pages += 1;
      expect(page.Functions!.length).toBeLessThanOrEqual(2);
      seen.push(...page.Functions!.map((fn) => fn.FunctionName!));
      marker = page.NextMarker;
    } while (marker);
    expect(pages).toBe(3);
    expect(seen).toEqual([...names].sort());
  });

  it('answers an empty list when there are no functions', async () => {
    const page = await lambda.send(new ListFunctionsCommand({}));
    expect(page.Functions).toEqual([]);
    expect(page.NextMarker).toBeUndefined();
  });
});

describe('DeleteFunction', () => {
  it('removes the function (204); a second delete is not found', async () => {
    await lambda.send(new CreateFunctionCommand(zipFunction('doomed')));
    const deleted = await lambda.send(new DeleteFunctionCommand({ FunctionName: 'doomed' }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    expect((await failure(lambda.send(new GetFunctionCommand({ FunctionName: 'doomed' })))).name).toBe('ResourceNotFoundException');
    expect((await failure(lambda.send(new DeleteFunctionCommand({ FunctionName: 'doomed' })))).name).toBe('ResourceNotFoundException');
  });
});

describe('UpdateFunctionCode and UpdateFunctionConfiguration', () => {
  it('replaces the code, with a new CodeSha256, RevisionId and LastModified', async () => {
    const created = await createActiveFunction(lambda, zipFunction('changing'));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const zip = handlerZip('export const handler = async () => "v2";');
    const updated = await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'changing', ZipFile: zip }));
    expect(updated.CodeSha256).toBe(createHash('sha256').update(zip).digest('base64'));
    expect(updated.CodeSize).toBe(zip.length);
    expect(updated.RevisionId).not.toBe(created.RevisionId);
    expect(updated.LastModified! > created.LastModified!).toBe(true);
    await waitUntilUpdated(lambda, 'changing');
    const done = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'changing' }));

    const dryRun = await lambda.send(
      new UpdateFunctionCodeCommand({ FunctionName: 'changing', ZipFile: handlerZip('export const handler = async () => "v3";'), DryRun: true }),
    );
    expect(dryRun.CodeSha256).not.toBe(updated.CodeSha256);
    const current = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'changing' }));
    expect(current).toMatchObject({ CodeSha256: updated.CodeSha256, RevisionId: done.RevisionId, LastUpdateStatus: 'Successful' });
  });

  it('changes memory, timeout, environment and handler, and refuses a stale RevisionId', async () => {
    await createActiveFunction(lambda, zipFunction('tuned', { Environment: { Variables: { VAR_A: '1' } } }));
    const created = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'tuned' }));
    const updated = await lambda.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: 'tuned',
        MemorySize: 512,
        Timeout: 60,
        Environment: { Variables: { VAR_B: '2' } },
        Handler: 'other.handler',
        RevisionId: created.RevisionId,
      }),
    );
    expect(updated).toMatchObject({ MemorySize: 512, Timeout: 60, Environment: { Variables: { VAR_B: '2' } }, Handler: 'other.handler' });
    expect(updated.RevisionId).not.toBe(created.RevisionId);
    await waitUntilUpdated(lambda, 'tuned');
    const got = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'tuned' }));
    expect(got).toMatchObject({ MemorySize: 512, LastUpdateStatus: 'Successful' });
    // The update's answer is a revision of its own: the update's completion mints another.
    expect(got.RevisionId).not.toBe(updated.RevisionId);

    const stale = await failure(lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'tuned', Timeout: 5, RevisionId: created.RevisionId })));
    expect(stale.name).toBe('PreconditionFailedException');
    // Below the API model's minimum: a ValidationException (the form: test_lambda_api.snapshot.json,
    // TestLambdaProvisionedConcurrency::test_provisioned_concurrency_exceptions, put_provisioned_invalid_param_0).
    const invalid = await failure(lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'tuned', MemorySize: 64 })));
    expect([invalid.name, invalid.message]).toEqual([
      'ValidationException',
      "1 validation error detected: Value '64' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128",
    ]);
  });

  it("updates an Image function's ImageConfig", async () => {
    await createActiveFunction(lambda, { FunctionName: 'img-fn', Role: ROLE, PackageType: 'Image', Code: { ImageUri: 'my-fn:1' } });
    const updated = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'img-fn', ImageConfig: { Command: ['other.handler'] } }));
    expect(updated.ImageConfigResponse?.ImageConfig).toEqual({ Command: ['other.handler'] });
    // An image function has no runtime: no RuntimeVersionConfig either.
    expect(updated).not.toHaveProperty('RuntimeVersionConfig');
    await waitUntilUpdated(lambda, 'img-fn');
    const code = await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'img-fn', ImageUri: 'my-fn:2' }));
    expect(code.PackageType).toBe('Image');
    expect((await lambda.send(new GetFunctionCommand({ FunctionName: 'img-fn' }))).Code?.ImageUri).toBe('my-fn:2');
  });

  it('answers an update of an unknown function with ResourceNotFoundException', async () => {
    const error = await failure(lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'ghost', Timeout: 10 })));
    expect(error.name).toBe('ResourceNotFoundException');
  });
});

describe('persistence', () => {
  it('keeps functions across a restart on the same data dir', async () => {
    await createActiveFunction(lambda, zipFunction('durable', { MemorySize: 256 }));
    const created = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'durable' }));
    await stopService();
    await startService();
    const got = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'durable' }));
    expect(got).toMatchObject({ MemorySize: 256, RevisionId: created.RevisionId, CodeSha256: created.CodeSha256 });
    const listed = await lambda.send(new ListFunctionsCommand({}));
    expect(listed.Functions!.map((fn) => fn.FunctionName)).toEqual(['durable']);
  });
});

describe('the wire', () => {
  it('answers a body that is not JSON with InvalidRequestContentException (400)', async () => {
    const response = await fetch(`${server.url}/2015-03-31/functions`, { method: 'POST', body: '{not json' });
    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe('InvalidRequestContentException');
    expect(((await response.json()) as { message: string }).message).toMatch(/^Could not parse request body into json: /);
  });
});

describe('layers', () => {
  const LAYER = 'arn:aws:lambda:us-east-1:123456789012:layer:';
  const layerZip = (files: Record<string, string>) => makeZip(Object.entries(files).map(([name, content]) => ({ name, content })));
  const publish = (name: string, zip: Buffer, extra: Partial<PublishLayerVersionCommandInput> = {}) =>
    lambda.send(new PublishLayerVersionCommand({ LayerName: name, Content: { ZipFile: zip }, ...extra }));
  const storedFunction = async (name: string) => (await store.get(name))!;

  it('publishes versions numbered from 1 per layer, never reusing a deleted number', async () => {
    const zip = layerZip({ 'nodejs/node_modules/a/index.js': 'module.exports = 1;' });
    const first = await publish('tools', zip, { CompatibleRuntimes: ['nodejs24.x'], Description: 'the tools' });
    expect(first).toMatchObject({
      LayerArn: `${LAYER}tools`,
      LayerVersionArn: `${LAYER}tools:1`,
      Version: 1,
      Description: 'the tools',
      CompatibleRuntimes: ['nodejs24.x'],
      Content: { CodeSha256: createHash('sha256').update(zip).digest('base64'), CodeSize: zip.length, Location: expect.stringMatching(/^file:\/\//) },
    });
    expect(first.CreatedDate).toMatch(LAST_MODIFIED);
    expect(first.$metadata.httpStatusCode).toBe(201);
    expect((await publish('other', zip)).Version).toBe(1);
    expect((await publish('tools', zip)).Version).toBe(2);

    await lambda.send(new DeleteLayerVersionCommand({ LayerName: 'tools', VersionNumber: 2 }));
    expect((await publish('tools', zip)).Version).toBe(3);
    // Deleting what is not there is no error, as in Lambda.
    await lambda.send(new DeleteLayerVersionCommand({ LayerName: 'tools', VersionNumber: 2 }));

    const got = await lambda.send(new GetLayerVersionCommand({ LayerName: 'tools', VersionNumber: 1 }));
    expect(got).toMatchObject({ LayerVersionArn: `${LAYER}tools:1`, Description: 'the tools' });
    const byArn = await lambda.send(new GetLayerVersionByArnCommand({ Arn: `${LAYER}tools:3` }));
    expect(byArn.Version).toBe(3);
    const missing = await failure(lambda.send(new GetLayerVersionCommand({ LayerName: 'tools', VersionNumber: 2 })));
    expect(missing.name).toBe('ResourceNotFoundException');

    const versions = await lambda.send(new ListLayerVersionsCommand({ LayerName: 'tools' }));
    expect(versions.LayerVersions!.map((version) => version.Version)).toEqual([3, 1]);
    const paged = await lambda.send(new ListLayerVersionsCommand({ LayerName: 'tools', MaxItems: 1 }));
    expect(paged.LayerVersions!.map((version) => version.Version)).toEqual([3]);
    const rest = await lambda.send(new ListLayerVersionsCommand({ LayerName: 'tools', MaxItems: 1, Marker: paged.NextMarker }));
    expect(rest.LayerVersions!.map((version) => version.Version)).toEqual([1]);
    expect(rest.NextMarker).toBeUndefined();
    const filtered = await lambda.send(new ListLayerVersionsCommand({ LayerName: 'tools', CompatibleRuntime: 'nodejs24.x' }));
    expect(filtered.LayerVersions!.map((version) => version.Version)).toEqual([1]);

    const layers = await lambda.send(new ListLayersCommand({}));
    expect(layers.Layers!.map((layer) => [layer.LayerName, layer.LatestMatchingVersion?.Version])).toEqual([
      ['other', 1],
      ['tools', 3],
    ]);

    // The numbering survives a restart.
    await stopService();
    await startService();
    expect((await publish('tools', zip)).Version).toBe(4);
  });

  it("reports a function's Layers, merges them in order into its /opt folder, and keeps them after the layer version is deleted", async () => {
    const first = await publish('one', layerZip({ 'shared.txt': 'one', 'only-one.txt': 'one', 'bin/tool': 'one' }));
    const second = await publish('two', layerZip({ 'shared.txt': 'two', 'bin/other': 'two' }));
    const created = await createActiveFunction(lambda, zipFunction('layered', { Layers: [first.LayerVersionArn!, second.LayerVersionArn!] }));
    const expected = [
      { Arn: first.LayerVersionArn, CodeSize: first.Content!.CodeSize },
      { Arn: second.LayerVersionArn, CodeSize: second.Content!.CodeSize },
    ];
    expect(created.Layers).toEqual(expected);
    expect((await lambda.send(new GetFunctionCommand({ FunctionName: 'layered' }))).Configuration!.Layers).toEqual(expected);
    expect((await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'layered' }))).Layers).toEqual(expected);

    const opt = (await storedFunction('layered')).layerDirectory!;
    expect(await readFile(join(opt, 'shared.txt'), 'utf8')).toBe('two');
    expect(await readFile(join(opt, 'only-one.txt'), 'utf8')).toBe('one');
    expect(readdirSync(join(opt, 'bin')).sort()).toEqual(['other', 'tool']);

    // Lambda keeps a deleted version's content for the functions that use it.
    await lambda.send(new DeleteLayerVersionCommand({ LayerName: 'one', VersionNumber: 1 }));
    expect(await readFile(join(opt, 'only-one.txt'), 'utf8')).toBe('one');
    expect((await lambda.send(new GetFunctionCommand({ FunctionName: 'layered' }))).Configuration!.Layers).toEqual(expected);

    // A deleted version cannot be newly referenced.
    const gone = await failure(
      lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'layered', Layers: [second.LayerVersionArn!, `${LAYER}one:1`] })),
    );
    expect(gone.message).toBe(`Layer version ${LAYER}one:1 does not exist.`);

    // Another list is another folder.
    const swapped = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'layered', Layers: [second.LayerVersionArn!] }));
    expect(swapped.Layers).toEqual([expected[1]]);
    expect(swapped.RevisionId).not.toBe(created.RevisionId);
    const secondOnly = (await storedFunction('layered')).layerDirectory!;
    expect(secondOnly).not.toBe(opt);
    expect(existsSync(join(secondOnly, 'only-one.txt'))).toBe(false);
    await waitUntilUpdated(lambda, 'layered');

    const cleared = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'layered', Layers: [] }));
    expect(cleared.Layers).toBeUndefined();
    expect((await storedFunction('layered')).layerDirectory).toBeUndefined();
  });

  it('unpacks a later layer over an earlier one in the order given', async () => {
    const a = await publish('a', layerZip({ 'file.txt': 'a' }));
    const b = await publish('b', layerZip({ 'file.txt': 'b' }));
    await lambda.send(new CreateFunctionCommand(zipFunction('ab', { Layers: [a.LayerVersionArn!, b.LayerVersionArn!] })));
    await lambda.send(new CreateFunctionCommand(zipFunction('ba', { Layers: [b.LayerVersionArn!, a.LayerVersionArn!] })));
    expect(await readFile(join((await storedFunction('ab')).layerDirectory!, 'file.txt'), 'utf8')).toBe('b');
    expect(await readFile(join((await storedFunction('ba')).layerDirectory!, 'file.txt'), 'utf8')).toBe('a');
  });

  it('refuses an unknown layer version, a malformed ARN, more than 5 layers, two versions of one layer, and Layers on an Image function', async () => {
    const unknown = `${LAYER}nowhere:1`;
    const missing = await failure(lambda.send(new CreateFunctionCommand(zipFunction('f', { Layers: [unknown] }))));
    expect(missing.name).toBe('InvalidParameterValueException');
    expect(missing.message).toBe(`Layer version ${unknown} does not exist.`);
    // Another account's layer of the same name and number is not this service's.
    const zip = layerZip({ 'x.txt': 'x' });
    await publish('mine', zip);
    const foreign = 'arn:aws:lambda:us-east-1:999999999999:layer:mine:1';
    expect((await failure(lambda.send(new CreateFunctionCommand(zipFunction('f', { Layers: [foreign] }))))).message).toBe(
      `Layer version ${foreign} does not exist.`,
    );

    const malformed = await failure(lambda.send(new CreateFunctionCommand(zipFunction('f', { Layers: [`${LAYER}mine`] }))));
    expect(malformed.name).toBe('ValidationException');
    expect(malformed.message).toContain("at 'layers' failed to satisfy constraint");

    const six = await Promise.all([1, 2, 3, 4, 5, 6].map(async (n) => (await publish(`l${n}`, zip)).LayerVersionArn!));
    // AWS: test_lambda_api.snapshot.json, TestLambdaLayer::test_layer_function_quota_exception (create_function_with_six_layers).
    const tooMany = await failure(lambda.send(new CreateFunctionCommand(zipFunction('f', { Layers: six }))));
    expect([tooMany.name, tooMany.message]).toEqual(['InvalidParameterValueException', 'Cannot reference more than 5 layers.']);
    await lambda.send(new CreateFunctionCommand(zipFunction('five', { Layers: six.slice(0, 5) })));

    await publish('mine', zip);
    const twice = await failure(lambda.send(new CreateFunctionCommand(zipFunction('f', { Layers: [`${LAYER}mine:1`, `${LAYER}mine:2`] }))));
    // AWS: test_lambda_api.snapshot.json, TestLambdaLayer::test_layer_function_exceptions (two_layer_versions_single_function_exc).
    expect(twice.name).toBe('InvalidParameterValueException');
    expect(twice.message).toBe(
      `Two different versions of the same layer are not allowed to be referenced in the same function. ${LAYER}mine:1 and ${LAYER}mine:2 are versions of the same layer.`,
    );

    const image = await failure(
      lambda.send(
        new CreateFunctionCommand({
          FunctionName: 'img',
          Role: ROLE,
          PackageType: 'Image',
          Code: { ImageUri: 'lambkin/nodejs:24' },
          Layers: [`${LAYER}mine:1`],
        }),
      ),
    );
    expect(image.name).toBe('InvalidParameterValueException');
    expect(await store.get('f')).toBeUndefined();
  });

  it('refuses function code and layers over the unzipped limit together (limit lowered to 1,000 bytes by a store option)', async () => {
    await stopService();
    await startService({ maxUnzippedBytes: 1_000 });
    const layer = await publish('big', layerZip({ 'big.txt': 'a'.repeat(600) }));
    const code = makeZip([{ name: 'index.mjs', content: 'b'.repeat(500) }]);
    // Each fits alone.
    await createActiveFunction(lambda, zipFunction('alone', { Code: { ZipFile: code } }));

    const error = await failure(lambda.send(new CreateFunctionCommand(zipFunction('together', { Code: { ZipFile: code }, Layers: [layer.LayerVersionArn!] }))));
    expect(error.name).toBe('InvalidParameterValueException');
    expect(error.message).toBe('Function code combined with layers exceeds the maximum allowed size of 1000 bytes. The actual size is 1100 bytes.');
    expect(await store.get('together')).toBeUndefined();

    const update = await failure(lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'alone', Layers: [layer.LayerVersionArn!] })));
    expect(update.message).toBe('Function code combined with layers exceeds the maximum allowed size of 1000 bytes. The actual size is 1100 bytes.');
    expect((await storedFunction('alone')).layers).toBeUndefined();

    // A function with the layer cannot take code that would put it over either.
    await createActiveFunction(
      lambda,
      zipFunction('small', { Code: { ZipFile: makeZip([{ name: 'index.mjs', content: 'x' }]) }, Layers: [layer.LayerVersionArn!] }),
    );
    const codeUpdate = await failure(lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'small', ZipFile: code })));
    expect(codeUpdate.message).toBe('Function code combined with layers exceeds the maximum allowed size of 1000 bytes. The actual size is 1100 bytes.');
  });
});
