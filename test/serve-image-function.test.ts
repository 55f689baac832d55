// Image functions under lambkin serve on the real engine, as Lambda answers for them: the ImageUri resolved to the
// image's digest at CreateFunction (CodeSha256, CodeSize 0, Code.ResolvedImageUri `<repository>@sha256:<digest>`), for
// an image built here (its image ID) and for one pushed to a registry (the manifest digest the registry holds), and an
// image the engine does not have refused at once.
// Source: LocalStack's AWS-validated recordings, test_lambda_api.snapshot.json, TestLambdaImages::test_lambda_image_crud.
import { CreateFunctionCommand, GetFunctionCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { pushImage } from '../src/packaging/push.ts';
import { buildImage, removeBuiltImages } from './support/containers.ts';
import { requireDocker } from './support/docker.ts';
import { createActiveFunction, invokeJson, ROLE } from './support/lambda-fixtures.ts';
import { DockerLambdaServices } from './support/lambda-service.ts';
import { failure } from './support/local-service.ts';
import { requireRegistry, startRegistry, type TestRegistry } from './support/registry.ts';

const docked = await requireDocker();
const registryBinary = docked && (await requireRegistry());

const IMAGE = `lambkin-test/image-fn:${process.pid}`;
// A marker of this run makes the image (and its ID) this file's own.
const MARKER = `image-fn-${process.pid}-${Date.now()}`;
const DOCKERFILE = `FROM lambkin/nodejs:24
LABEL lambkin.test.marker=${MARKER}
COPY index.mjs /var/task/
CMD ["index.handler"]
`;
const HANDLER = `export const handler = async () => ({ marker: ${JSON.stringify(MARKER)} });\n`;

async function imageId(name: string): Promise<string> {
  return (await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', name])).stdout.trim();
}

describe.skipIf(!docked)('an image function under lambkin serve', () => {
  const services = new DockerLambdaServices();
  let lambda: LambdaClient;

  beforeAll(async () => {
    await Promise.all([buildImage(IMAGE, { Dockerfile: DOCKERFILE, 'index.mjs': HANDLER }), services.backend.prepare()]);
    ({ lambda } = await services.start());
  }, 600_000);

  afterAll(async () => {
    await services.close();
    await removeBuiltImages();
  });

  it("built here: CodeSha256 is the image ID's digest, from the Pending answer on, and it runs", async ({ expect }) => {
    const digest = (await imageId(IMAGE)).replace(/^sha256:/, '');
    const created = await createActiveFunction(lambda, { FunctionName: 'built', Role: ROLE, PackageType: 'Image', Code: { ImageUri: IMAGE } });
    expect(created).toMatchObject({ State: 'Pending', CodeSha256: digest, CodeSize: 0 });
    const got = await lambda.send(new GetFunctionCommand({ FunctionName: 'built' }));
    expect(got.Code).toEqual({ RepositoryType: 'ECR', ImageUri: IMAGE, ResolvedImageUri: `lambkin-test/image-fn@sha256:${digest}` });
    expect(got.Configuration).toMatchObject({ State: 'Active', CodeSha256: digest, CodeSize: 0 });
    const invoked = await invokeJson(lambda, 'built', {});
    expect(invoked.body).toEqual({ marker: MARKER });
  });

  it('refuses an image the engine does not have, and a name it cannot read, at once', async ({ expect }) => {
    const missing = await failure(
      lambda.send(new CreateFunctionCommand({ FunctionName: 'missing', Role: ROLE, PackageType: 'Image', Code: { ImageUri: `${IMAGE}-gone` } })),
    );
    expect(missing.name).toBe('InvalidParameterValueException');
    expect(missing.$metadata.httpStatusCode).toBe(400);
    expect(missing.message).toBe(`Source image ${IMAGE}-gone does not exist. Provide a valid source image.`);
    const invalid = await failure(
      lambda.send(new CreateFunctionCommand({ FunctionName: 'invalid', Role: ROLE, PackageType: 'Image', Code: { ImageUri: 'Not-Lower:case' } })),
    );
    expect(invalid.name).toBe('InvalidParameterValueException');
    expect(invalid.message).toBe('Source image Not-Lower:case is not valid. Provide a valid source image.');
  });

  describe.skipIf(!registryBinary)('pushed to a registry', () => {
    let registry: TestRegistry;
    let pushed: string;

    beforeAll(async () => {
      registry = await startRegistry();
      pushed = `${registry.address}/lambkin-test/image-fn:v1`;
    }, 120_000);

    afterAll(async () => {
      await execa('docker', ['rmi', '-f', pushed], { reject: false });
      await registry?.close();
    });

    it("CodeSha256 is the manifest digest the registry holds, for the repository named; the local name keeps the image ID's", async ({ expect }) => {
      const { digest } = await pushImage({ image: IMAGE, repository: pushed, auth: { username: registry.username, password: registry.password } });
      const manifest = digest.replace(/^sha256:/, '');
      const id = (await imageId(IMAGE)).replace(/^sha256:/, '');
      expect(manifest).not.toBe(id);

      await createActiveFunction(lambda, { FunctionName: 'pushed', Role: ROLE, PackageType: 'Image', Code: { ImageUri: pushed } });
      const got = await lambda.send(new GetFunctionCommand({ FunctionName: 'pushed' }));
      expect(got.Code).toEqual({ RepositoryType: 'ECR', ImageUri: pushed, ResolvedImageUri: `${registry.address}/lambkin-test/image-fn@${digest}` });
      expect(got.Configuration).toMatchObject({ CodeSha256: manifest, CodeSize: 0 });

      // The same image by its local name: the registry's digest belongs to another repository.
      await createActiveFunction(lambda, { FunctionName: 'local-name', Role: ROLE, PackageType: 'Image', Code: { ImageUri: IMAGE } });
      const local = await lambda.send(new GetFunctionCommand({ FunctionName: 'local-name' }));
      expect(local.Code?.ResolvedImageUri).toBe(`lambkin-test/image-fn@sha256:${id}`);
    });
  });
});
