// Versions and aliases on the invoke path under lambkin serve, with real containers and the real SDK: a published
// version keeps running its own frozen code and configuration after $LATEST changes, in environments of its own; the
// caller learns the version that ran (X-Amz-Executed-Version, the START line), the function sees it
// (AWS_LAMBDA_FUNCTION_VERSION, context.functionVersion, a qualified invokedFunctionArn); provisioned concurrency on an
// alias answers its first invoke warm; and all of it outlives a restart.
import {
  CreateAliasCommand,
  DeleteFunctionCommand,
  GetProvisionedConcurrencyConfigCommand,
  PublishVersionCommand,
  PutProvisionedConcurrencyConfigCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeZip } from '../tools/zip.ts';
import { requireDocker } from './support/docker.ts';
import { createNodeFunction, invokeJson, waitUntilUpdated } from './support/lambda-fixtures.ts';
import { DockerLambdaServices, type LambdaService } from './support/lambda-service.ts';

const docked = await requireDocker();

/** A handler that says which code it is (`CODE`), and what the environment tells it of its version. */
const handlerSaying = (code: string) =>
  makeZip([
    {
      name: 'index.mjs',
      content: `
import { hostname } from 'node:os';
export const handler = async (event, context) => ({
  code: ${JSON.stringify(code)},
  greeting: process.env.GREETING ?? null,
  envVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
  functionVersion: context.functionVersion,
  invokedFunctionArn: context.invokedFunctionArn,
  host: hostname(),
});
`,
    },
  ]);

type Said = { code: string; greeting: string | null; envVersion: string; functionVersion: string; invokedFunctionArn: string; host: string };

const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:versioned';
const services = new DockerLambdaServices();
let service: LambdaService;

beforeAll(async () => {
  if (!docked) return;
  await services.backend.prepare();
  service = await services.start();
}, 60_000);
afterAll(() => services.close(), 60_000);

describe.skipIf(!docked)('versions and aliases on the invoke path (lambkin serve)', () => {
  it('a published version keeps running its own code and configuration after $LATEST changes, in its own environments', async () => {
    const { lambda } = service;
    await createNodeFunction(lambda, 'versioned', handlerSaying('one'), { Environment: { Variables: { GREETING: 'hello' } } });
    const published = await lambda.send(new PublishVersionCommand({ FunctionName: 'versioned' }));
    expect(published.Version).toBe('1');

    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'versioned', ZipFile: handlerSaying('two') }));
    await waitUntilUpdated(lambda, 'versioned');
    await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'versioned', Environment: { Variables: { GREETING: 'bonjour' } } }));
    await waitUntilUpdated(lambda, 'versioned');

    const latest = await invokeJson<Said>(lambda, 'versioned', {}, { tail: true });
    expect(latest.ExecutedVersion).toBe('$LATEST');
    expect(latest.body).toMatchObject({ code: 'two', greeting: 'bonjour', envVersion: '$LATEST', functionVersion: '$LATEST', invokedFunctionArn: ARN });
    expect(latest.log).toMatch(/START RequestId: \S+ Version: \$LATEST/);

    const one = await invokeJson<Said>(lambda, 'versioned', {}, { tail: true, input: { Qualifier: '1' } });
    expect(one.ExecutedVersion).toBe('1');
    expect(one.body).toMatchObject({ code: 'one', greeting: 'hello', envVersion: '1', functionVersion: '1', invokedFunctionArn: `${ARN}:1` });
    expect(one.log).toMatch(new RegExp(`START RequestId: ${one.$metadata.requestId} Version: 1\\n`));
    // Each version has environments of its own: the two answers came from two containers.
    expect(one.body.host).not.toBe(latest.body.host);

    // The qualifier written into the name is the same as ?Qualifier=.
    const byName = await invokeJson<Said>(lambda, 'versioned:1');
    expect(byName.body.code).toBe('one');
    expect(byName.body.host).toBe(one.body.host);
  });

  it('an alias runs the version it points to and reports it; the function sees the alias in its invoked ARN', async () => {
    const { lambda } = service;
    await lambda.send(new CreateAliasCommand({ FunctionName: 'versioned', Name: 'live', FunctionVersion: '1' }));
    const viaAlias = await invokeJson<Said>(lambda, 'versioned', {}, { tail: true, input: { Qualifier: 'live' } });
    expect(viaAlias.ExecutedVersion).toBe('1');
    expect(viaAlias.body).toMatchObject({ code: 'one', functionVersion: '1', invokedFunctionArn: `${ARN}:live` });
    expect(viaAlias.log).toMatch(/START RequestId: \S+ Version: 1\n/);
  });

  it('provisioned concurrency on an alias answers the first invoke through it warm', async () => {
    const { lambda } = service;
    await createNodeFunction(lambda, 'provisioned', handlerSaying('p'));
    const { Version } = await lambda.send(new PublishVersionCommand({ FunctionName: 'provisioned' }));
    await lambda.send(new CreateAliasCommand({ FunctionName: 'provisioned', Name: 'prod', FunctionVersion: Version! }));
    await lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'provisioned', Qualifier: 'prod', ProvisionedConcurrentExecutions: 1 }));
    const until = Date.now() + 60_000;
    for (;;) {
      const config = await lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'provisioned', Qualifier: 'prod' }));
      if (config.Status === 'READY') break;
      if (Date.now() > until) throw new Error(`provisioned concurrency still ${config.Status} after 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const first = await invokeJson<Said>(lambda, 'provisioned', {}, { tail: true, input: { Qualifier: 'prod' } });
    expect(first.ExecutedVersion).toBe(Version);
    // A cold start's REPORT carries Init Duration; a provisioned environment's init was done before the invoke.
    expect(first.log).toMatch(/REPORT RequestId:/);
    expect(first.log).not.toMatch(/Init Duration/);
    expect(first.body.envVersion).toBe(Version);
  }, 90_000);

  it('versions and aliases outlive a restart, and run their own code after it', async () => {
    await service.close();
    service = await services.start({ dataDir: service.dataDir });
    const { lambda } = service;
    const one = await invokeJson<Said>(lambda, 'versioned', {}, { input: { Qualifier: 'live' } });
    expect(one.ExecutedVersion).toBe('1');
    expect(one.body).toMatchObject({ code: 'one', greeting: 'hello' });
    const latest = await invokeJson<Said>(lambda, 'versioned');
    expect(latest.body).toMatchObject({ code: 'two', greeting: 'bonjour' });
    await lambda.send(new DeleteFunctionCommand({ FunctionName: 'versioned' }));
  }, 60_000);
});
