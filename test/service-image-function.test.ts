// Image functions as Lambda answers for them, through the service's real path (LambdaApiServer, DockerInvoker over an
// EnvironmentPool) with the fake backend as the engine and its image store: the ImageUri is resolved to a digest in
// CreateFunction's (and UpdateFunctionCode's) own answer, GetFunction's Code names the repository at that digest,
// and an image the engine does not have is refused at once.
// Source: LocalStack's AWS-validated recordings, test_lambda_api.snapshot.json, TestLambdaImages::test_lambda_image_crud
// (create-image-response, get-function-code-response, update-function-code-response, ...-after-update).
import {
  CreateFunctionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  ListFunctionsCommand,
  UpdateFunctionCodeCommand,
  type CreateFunctionCommandInput,
} from '@aws-sdk/client-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolvedImage } from '../src/environments/image-facts.ts';
import { EnvironmentPool } from '../src/environments/pool.ts';
import { DockerInvoker } from '../src/service/docker-invoker.ts';
import { FakeBackend } from './support/fake-backend.ts';
import { ROLE, waitUntilActive, waitUntilUpdated } from './support/lambda-fixtures.ts';
import { failure, makeDataDir, removeDataDir, startLocalService, type LocalService } from './support/local-service.ts';

const hex = (char: string) => char.repeat(64);
/** An image built on this machine and never pushed: an ID, no RepoDigests. */
const BUILT = { id: `sha256:${hex('a')}`, repoDigests: [] };
/** An image pulled from a registry: its manifest digest there (and another repository's, which is not the one named). */
const PULLED = { id: `sha256:${hex('b')}`, repoDigests: [`other/repo@sha256:${hex('d')}`, `127.0.0.1:5000/fn@sha256:${hex('c')}`] };

let dataDir: string;
let backend: FakeBackend;
let invoker: DockerInvoker;
let service: LocalService;

beforeEach(async () => {
  dataDir = await makeDataDir('lambkin-image-fn-');
  backend = new FakeBackend().addImage('my-fn:latest', BUILT).addImage('127.0.0.1:5000/fn:v1', PULLED);
  invoker = new DockerInvoker({ pool: new EnvironmentPool(backend), images: backend });
  service = await startLocalService({ dataDir, invoker });
});

afterEach(async () => {
  await service?.stop();
  await invoker?.close();
  await removeDataDir(dataDir);
});

const imageFunction = (name: string, imageUri: string): CreateFunctionCommandInput => ({
  FunctionName: name,
  Role: ROLE,
  PackageType: 'Image',
  Code: { ImageUri: imageUri },
});

describe('an image function', () => {
  it("answers CodeSha256 as the image's digest from CreateFunction on, and GetFunction's Code names the repository at it", async () => {
    const { lambda } = service;
    const created = await lambda.send(new CreateFunctionCommand(imageFunction('built', 'my-fn:latest')));
    // The Pending answer already carries the digest (create-image-response), and no code size.
    expect(created).toMatchObject({ State: 'Pending', PackageType: 'Image', CodeSha256: hex('a'), CodeSize: 0 });
    expect(created).not.toHaveProperty('ImageConfigResponse');
    await waitUntilActive(lambda, 'built');

    const got = await lambda.send(new GetFunctionCommand({ FunctionName: 'built' }));
    // A locally built image has no registry digest: its image ID is the digest.
    expect(got.Code).toEqual({ RepositoryType: 'ECR', ImageUri: 'my-fn:latest', ResolvedImageUri: `my-fn@sha256:${hex('a')}` });
    expect(got.Configuration).toMatchObject({ State: 'Active', LastUpdateStatus: 'Successful', CodeSha256: hex('a'), CodeSize: 0 });
    expect(await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'built' }))).toMatchObject({ CodeSha256: hex('a'), CodeSize: 0 });

    await lambda.send(new CreateFunctionCommand(imageFunction('pulled', '127.0.0.1:5000/fn:v1')));
    await waitUntilActive(lambda, 'pulled');
    const pulled = await lambda.send(new GetFunctionCommand({ FunctionName: 'pulled' }));
    // The RepoDigest of the repository named, not another's, and not the image ID.
    expect(pulled.Code).toEqual({ RepositoryType: 'ECR', ImageUri: '127.0.0.1:5000/fn:v1', ResolvedImageUri: `127.0.0.1:5000/fn@sha256:${hex('c')}` });
    expect(pulled.Configuration?.CodeSha256).toBe(hex('c'));

    const listed = await lambda.send(new ListFunctionsCommand({}));
    expect(listed.Functions?.map((fn) => [fn.FunctionName, fn.CodeSha256, fn.CodeSize])).toEqual([
      ['built', hex('a'), 0],
      ['pulled', hex('c'), 0],
    ]);
  });

  it('keeps the digest resolved at create when the tag later names another image, and takes the new one at UpdateFunctionCode', async () => {
    const { lambda } = service;
    await lambda.send(new CreateFunctionCommand(imageFunction('moving', 'my-fn:latest')));
    await waitUntilActive(lambda, 'moving');
    backend.addImage('my-fn:latest', { id: `sha256:${hex('e')}`, repoDigests: [] }); // rebuilt under the same tag
    expect((await lambda.send(new GetFunctionCommand({ FunctionName: 'moving' }))).Code?.ResolvedImageUri).toBe(`my-fn@sha256:${hex('a')}`);

    const updated = await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'moving', ImageUri: '127.0.0.1:5000/fn:v1' }));
    // update-function-code-response: InProgress, with the new image's digest already.
    expect(updated).toMatchObject({ LastUpdateStatus: 'InProgress', CodeSha256: hex('c'), CodeSize: 0 });
    await waitUntilUpdated(lambda, 'moving');
    const got = await lambda.send(new GetFunctionCommand({ FunctionName: 'moving' }));
    expect(got.Code).toEqual({ RepositoryType: 'ECR', ImageUri: '127.0.0.1:5000/fn:v1', ResolvedImageUri: `127.0.0.1:5000/fn@sha256:${hex('c')}` });
    expect(got.Configuration).toMatchObject({ LastUpdateStatus: 'Successful', CodeSha256: hex('c') });
  });

  it('is refused at once when the engine has no such image, in CreateFunction and in UpdateFunctionCode', async () => {
    const { lambda } = service;
    const error = await failure(lambda.send(new CreateFunctionCommand(imageFunction('missing', 'not-here:latest'))));
    expect(error.name).toBe('InvalidParameterValueException');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.message).toBe('Source image not-here:latest does not exist. Provide a valid source image.');
    expect((await failure(lambda.send(new GetFunctionCommand({ FunctionName: 'missing' })))).name).toBe('ResourceNotFoundException');

    await lambda.send(new CreateFunctionCommand(imageFunction('kept', 'my-fn:latest')));
    await waitUntilActive(lambda, 'kept');
    const before = await lambda.send(new GetFunctionCommand({ FunctionName: 'kept' }));
    const updateError = await failure(lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'kept', ImageUri: 'not-here:2' })));
    expect(updateError.name).toBe('InvalidParameterValueException');
    expect(updateError.message).toBe('Source image not-here:2 does not exist. Provide a valid source image.');
    const after = await lambda.send(new GetFunctionCommand({ FunctionName: 'kept' }));
    expect(after.Code).toEqual(before.Code);
    expect(after.Configuration?.RevisionId).toBe(before.Configuration?.RevisionId);
  });
});

describe('the repository an ImageUri names', () => {
  const digestOf = (repository: string) => `${repository}@sha256:${hex('f')}`;
  it.each([
    // [ImageUri, RepoDigests, ResolvedImageUri]
    ['localhost:5000/fn', [digestOf('localhost:5000/fn')], `localhost:5000/fn@sha256:${hex('f')}`],
    ['localhost:5000/fn:v2', [digestOf('localhost:5000/fn')], `localhost:5000/fn@sha256:${hex('f')}`],
    [`localhost:5000/fn@sha256:${hex('f')}`, [digestOf('localhost:5000/fn')], `localhost:5000/fn@sha256:${hex('f')}`],
    // Docker Hub's images: the engine writes their RepoDigests without docker.io/library/.
    ['docker.io/library/alpine:3', [digestOf('alpine')], `docker.io/library/alpine@sha256:${hex('f')}`],
    ['alpine', [digestOf('alpine')], `alpine@sha256:${hex('f')}`],
    // Another repository's digest is not this one's: the image ID then.
    ['localhost:5000/other:v1', [digestOf('localhost:5000/fn')], `localhost:5000/other@sha256:${hex('a')}`],
  ])('%s with RepoDigests %j resolves to %s', (imageUri, repoDigests, expected) => {
    expect(resolvedImage(imageUri, { id: `sha256:${hex('a')}`, repoDigests }).resolvedImageUri).toBe(expected);
  });
});
