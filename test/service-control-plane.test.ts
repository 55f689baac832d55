// The control plane of `lambkin serve` (CreateFunction, GetFunction, ListFunctions, Update*, DeleteFunction)
// through the real @aws-sdk/client-lambda: shapes as AWS returns them, errors as the SDK's typed exceptions,
// and functions that survive a restart.
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  LambdaClient,
  ListFunctionsCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  type CreateFunctionCommandInput,
} from '@aws-sdk/client-lambda';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LambdaApiServer, SqliteFunctionStore, type FunctionInvoker } from '../src/service/index.ts';
import { makeZip } from './support/zip.ts';

const ROLE = 'arn:aws:iam::123456789012:role/lambda-role';
const ARN_PREFIX = 'arn:aws:lambda:us-east-1:123456789012:function:';
const LAST_MODIFIED = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The control plane never invokes: an invoker that says so if it is ever reached. */
const noInvoker: FunctionInvoker = {
  invoke: async () => {
    throw new Error('no invoker in control-plane tests');
  },
};

let dataDir: string;
let store: SqliteFunctionStore;
let server: LambdaApiServer;
let lambda: LambdaClient;

async function startService(options: { maxUnzippedBytes?: number } = {}): Promise<void> {
  store = new SqliteFunctionStore(dataDir, options);
  server = new LambdaApiServer({ store, invoker: noInvoker });
  const endpoint = await server.listen();
  lambda = new LambdaClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
}

async function stopService(): Promise<void> {
  lambda?.destroy();
  await server?.close();
  store?.close();
}

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'lambkin-service-'));
  await startService();
});

afterEach(async () => {
  await stopService();
  await rm(dataDir, { recursive: true, force: true });
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

/** The SDK's error for a call that must fail. */
async function failure(promise: Promise<unknown>): Promise<Error & { $metadata: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { $metadata: { httpStatusCode?: number } };
  }
  throw new Error('Expected the call to fail');
}

describe('CreateFunction (Zip)', () => {
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
      Environment: { Variables: {} },
      PackageType: 'Zip',
      State: 'Active',
      LastUpdateStatus: 'Successful',
      Architectures: ['x86_64'],
      EphemeralStorage: { Size: 512 },
      LoggingConfig: { LogFormat: 'Text', LogGroup: '/aws/lambda/hello' },
    });
    expect(created.LastModified).toMatch(LAST_MODIFIED);
    expect(created.RevisionId).toMatch(UUID);

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
    ['Timeout 0', { Timeout: 0 }, /greater than or equal to 1/],
    ['Timeout 901', { Timeout: 901 }, /less than or equal to 900/],
    ['MemorySize 127', { MemorySize: 127 }, /greater than or equal to 128/],
    ['MemorySize 10241', { MemorySize: 10_241 }, /less than or equal to 10240/],
    ['environment variables over 4 KB', { Environment: { Variables: { BIG: 'x'.repeat(4_100) } } }, /exceeded the 4KB limit/],
    ['a reserved environment variable', { Environment: { Variables: { AWS_REGION: 'eu-west-1' } } }, /reserved keys.*AWS_REGION/],
    ['a zip with a file where a folder must go', { Code: { ZipFile: makeZip([{ name: 'a', content: 'x' }, { name: 'a/b', content: 'y' }]) } }, /Could not unzip/],
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
      lambda.send(new CreateFunctionCommand(zipFunction('slip', { Code: { ZipFile: makeZip([{ name: 'ok.js', content: 'x' }, { name: '../../slipped.js', content: 'x' }]) } }))),
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
      lambda.send(
        new CreateFunctionCommand({ FunctionName: 'img', Role: ROLE, PackageType: 'Image', Handler: 'x.y', Code: { ImageUri: 'my-fn:latest' } }),
      ),
    );
    expect(error.name).toBe('InvalidParameterValueException');
  });
});

describe('GetFunction and GetFunctionConfiguration', () => {
  beforeEach(async () => {
    await lambda.send(new CreateFunctionCommand(zipFunction('named', { Tags: { team: 'lambkin' } })));
  });

  it.each(['named', 'named:$LATEST', '123456789012:function:named', `${ARN_PREFIX}named`, `${ARN_PREFIX}named:$LATEST`])(
    'finds the function as %s',
    async (FunctionName) => {
      const got = await lambda.send(new GetFunctionCommand({ FunctionName }));
      expect(got.Configuration?.FunctionArn).toBe(`${ARN_PREFIX}named`);
      expect(got.Code?.RepositoryType).toBe('S3');
      expect(got.Code?.Location).toMatch(/\.zip$/);
      expect(got.Tags).toEqual({ team: 'lambkin' });
      const configuration = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName }));
      expect(configuration.FunctionName).toBe('named');
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
    const created = await lambda.send(new CreateFunctionCommand(zipFunction('changing')));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const zip = handlerZip('export const handler = async () => "v2";');
    const updated = await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'changing', ZipFile: zip }));
    expect(updated.CodeSha256).toBe(createHash('sha256').update(zip).digest('base64'));
    expect(updated.CodeSize).toBe(zip.length);
    expect(updated.RevisionId).not.toBe(created.RevisionId);
    expect(updated.LastModified! > created.LastModified!).toBe(true);

    const dryRun = await lambda.send(
      new UpdateFunctionCodeCommand({ FunctionName: 'changing', ZipFile: handlerZip('export const handler = async () => "v3";'), DryRun: true }),
    );
    expect(dryRun.CodeSha256).not.toBe(updated.CodeSha256);
    const current = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'changing' }));
    expect(current).toMatchObject({ CodeSha256: updated.CodeSha256, RevisionId: updated.RevisionId });
  });

  it('changes memory, timeout, environment and handler, and refuses a stale RevisionId', async () => {
    const created = await lambda.send(new CreateFunctionCommand(zipFunction('tuned', { Environment: { Variables: { A: '1' } } })));
    const updated = await lambda.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: 'tuned',
        MemorySize: 512,
        Timeout: 60,
        Environment: { Variables: { B: '2' } },
        Handler: 'other.handler',
        RevisionId: created.RevisionId,
      }),
    );
    expect(updated).toMatchObject({ MemorySize: 512, Timeout: 60, Environment: { Variables: { B: '2' } }, Handler: 'other.handler' });
    expect(updated.RevisionId).not.toBe(created.RevisionId);
    const got = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'tuned' }));
    expect(got).toMatchObject({ MemorySize: 512, RevisionId: updated.RevisionId });

    const stale = await failure(lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'tuned', Timeout: 5, RevisionId: created.RevisionId })));
    expect(stale.name).toBe('PreconditionFailedException');
    const invalid = await failure(lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'tuned', MemorySize: 64 })));
    expect(invalid.name).toBe('InvalidParameterValueException');
  });

  it('updates an Image function\'s ImageConfig', async () => {
    await lambda.send(
      new CreateFunctionCommand({ FunctionName: 'img-fn', Role: ROLE, PackageType: 'Image', Code: { ImageUri: 'my-fn:1' } }),
    );
    const updated = await lambda.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: 'img-fn', ImageConfig: { Command: ['other.handler'] } }),
    );
    expect(updated.ImageConfigResponse?.ImageConfig).toEqual({ Command: ['other.handler'] });
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
    const created = await lambda.send(new CreateFunctionCommand(zipFunction('durable', { MemorySize: 256 })));
    await stopService();
    await startService();
    const got = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'durable' }));
    expect(got).toMatchObject({ MemorySize: 256, RevisionId: created.RevisionId, CodeSha256: created.CodeSha256 });
    const listed = await lambda.send(new ListFunctionsCommand({}));
    expect(listed.Functions!.map((fn) => fn.FunctionName)).toEqual(['durable']);
  });
});

describe('the wire', () => {
  it('answers an unknown route with UnknownOperationException (404)', async () => {
    const response = await fetch(`${server.url}/2099-01-01/nothing-here`);
    expect(response.status).toBe(404);
    expect(response.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    expect(await response.json()).toMatchObject({ Type: 'User', message: expect.stringContaining('/2099-01-01/nothing-here') });
  });

  it('answers a body that is not JSON with InvalidRequestContentException (400)', async () => {
    const response = await fetch(`${server.url}/2015-03-31/functions`, { method: 'POST', body: '{not json' });
    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe('InvalidRequestContentException');
    expect(((await response.json()) as { message: string }).message).toMatch(/^Could not parse request body into json: /);
  });
});
