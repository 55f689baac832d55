// An Image function whose runtime is AWS's own Node.js runtime client (aws-lambda-ric 4.x, built on demand by
// tools/aws-lambda-ric.ts for the project's Node 24 on Debian bookworm, the Node and glibc of
// lambkin/nodejs:24), run by the service behind `lambkin serve` (LambdaApiServer over a DockerInvoker, one
// container per environment) and invoked through the real @aws-sdk/client-lambda. The image never touches
// lambkin's runtime or entrypoint: its ENTRYPOINT is the ric's bin, so this is our Runtime API server talking to
// AWS's client across a container boundary, as Lambda's own would.
//
// aws-lambda-ric 4.x takes the handler from _HANDLER only (the argument is ignored). An Image function has no
// Handler, so the service sets no _HANDLER; the Dockerfile's ENV provides it, as an image built for AWS does.
// Containers and the image carry the test labels; afterAll removes them, also when a test fails.
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { installAwsLambdaRic } from '../tools/aws-lambda-ric.ts';
import { buildImage, removeBuiltImages } from './support/containers.ts';
import { requireDocker } from './support/docker.ts';
import { DockerLambdaServices } from './support/lambda-service.ts';
import { createActiveFunction, invokeJson, ROLE } from './support/lambda-fixtures.ts';

const docked = await requireDocker();

const IMAGE = 'lambkin-test/ric-image';
const FUNCTION = 'ric-image';
const MEMORY_SIZE = 1024;

const HANDLER = `
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

const processId = randomUUID();

export const handler = async (event, context) => {
  if (event.fail) {
    const error = new Error('asked to fail: ' + event.fail);
    error.name = 'RicTestError';
    throw error;
  }
  console.log('ric handler saw ' + JSON.stringify(event));
  return {
    echo: event,
    processId,
    hostname: hostname(),
    requestId: context.awsRequestId,
    functionName: context.functionName,
    runtime: 'aws-lambda-ric',
  };
};
`;

// COPY sources in the build context: the install's whole node_modules (the ric and what it was installed with).
const DOCKERFILE = `FROM lambkin/nodejs:24
COPY ric-node-modules /opt/ric/node_modules
COPY index.mjs /var/task/
ENV _HANDLER=index.handler
WORKDIR /var/task
ENTRYPOINT ["node", "/opt/ric/node_modules/aws-lambda-ric/index.mjs"]
CMD ["index.handler"]
`;

interface Answer {
  echo: unknown;
  processId: string;
  hostname: string;
  requestId: string;
  functionName: string;
  runtime: string;
}

describe.skipIf(!docked)('an image running aws-lambda-ric, served by lambkin', () => {
  const services = new DockerLambdaServices();
  let lambda: LambdaClient;

  beforeAll(async () => {
    const install = await installAwsLambdaRic();
    await Promise.all([
      buildImage(IMAGE, {
        Dockerfile: DOCKERFILE,
        'index.mjs': HANDLER,
        // packageDir is <install>/node_modules/aws-lambda-ric: copy its parent, node_modules.
        'ric-node-modules': { copyFrom: dirname(install.packageDir) },
      }),
      services.backend.prepare(),
    ]);
    ({ lambda } = await services.start());
    await createActiveFunction(lambda, { FunctionName: FUNCTION, Role: ROLE, PackageType: 'Image', MemorySize: MEMORY_SIZE, Code: { ImageUri: IMAGE } });
  }, 600_000);

  afterAll(async () => {
    await services.close();
    await removeBuiltImages();
  });

  const invoke = (event: object) => invokeJson(lambda, FUNCTION, event, { tail: true });

  it('answers with the handler result, reports a thrown error as a function error, and reuses the warm environment', async ({ expect }) => {
    const first = await invoke({ name: 'first' });
    expect(first.StatusCode).toBe(200);
    expect(first.FunctionError).toBeUndefined();
    const answer = first.body as unknown as Answer;
    expect(answer).toMatchObject({ echo: { name: 'first' }, functionName: FUNCTION, runtime: 'aws-lambda-ric' });
    expect(answer.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.log).toContain('ric handler saw {"name":"first"}');
    expect(first.log).toContain('Init Duration');

    const failed = await invoke({ fail: 'on purpose' });
    expect(failed.StatusCode).toBe(200);
    expect(failed.FunctionError).toBe('Unhandled');
    expect(failed.body).toMatchObject({ errorType: 'RicTestError', errorMessage: 'asked to fail: on purpose' });
    expect(failed.body.trace).toEqual(expect.any(Array));

    // A handled error leaves the runtime alive: the same process (and container) serves the next invoke, warm.
    const warm = await invoke({ name: 'second' });
    expect(warm.FunctionError).toBeUndefined();
    const warmAnswer = warm.body as unknown as Answer;
    expect(warmAnswer.echo).toEqual({ name: 'second' });
    expect(warmAnswer.processId).toBe(answer.processId);
    expect(warmAnswer.hostname).toBe(answer.hostname);
    expect(warmAnswer.requestId).not.toBe(answer.requestId);
    expect(warm.log).not.toContain('Init Duration');
  }, 60_000);
});
