// The environment pool behind `lambkin serve`, end to end: the real @aws-sdk/client-lambda against
// LambdaApiServer, invoking through the DockerInvoker, with real containers. Each handler answers with an id
// drawn once per process (and its container's short id), so a test sees which
// environment served it. Every container carries the test labels, and afterAll removes what a failing test left.
import { InvokeCommand, UpdateFunctionConfigurationCommand, DeleteFunctionCommand, type CreateFunctionCommandInput } from '@aws-sdk/client-lambda';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { FUNCTION_LABEL, OWNER_LABEL, type EnvironmentPoolOptions } from '../src/environments/index.ts';
import { buildImage, containerExists, removeBuiltImages } from './support/containers.ts';
import { requireDocker } from './support/docker.ts';
import { DockerLambdaServices, type LambdaService } from './support/lambda-service.ts';
import { makeZip } from '../tools/zip.ts';
import { createActiveFunction, createNodeFunction, invokeJson, ROLE, waitUntilUpdated } from './support/lambda-fixtures.ts';

const docked = await requireDocker();

const IMAGE = 'lambkin-test/pool-image';
// CPU is proportional to memory: 1024 MB keeps cold starts from being starved when tests run side by side.
const MEMORY_SIZE = 1024;
/** A container the pool let go is removed within a second when quiet; a loaded engine has taken over 10 s. */
const REMOVED_WITHIN_MS = 15_000;

const HANDLER = `
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

// The environment's own container, by the id in its cgroup path (its hostname is its network sandbox's).
const containerId = /\\/docker\\/([0-9a-f]{12})/.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1];

const processId = randomUUID();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const handler = async (event, context) => {
  const self = { processId, containerId, logStreamName: context.logStreamName };
  switch (event.case) {
    case 'sleep':
      await sleep(event.ms);
      return self;
    case 'log':
      console.log('log line ' + event.marker);
      return self;
    case 'exit':
      process.exit(3);
    case 'hog': {
      // Filled, so every page is really resident and counts against the memory limit.
      const blocks = [];
      for (let i = 0; i < event.mb; i++) blocks.push(Buffer.alloc(1024 * 1024, 1));
      return { ...self, held: blocks.length };
    }
    default:
      return { ...self, greeting: process.env.GREETING ?? null };
  }
};
`;

interface Answer {
  processId: string;
  containerId: string;
  logStreamName: string;
  greeting?: string | null;
}

const docker = new Dockerode();
const services = new DockerLambdaServices();
/** A LambdaApiServer over its own pool (with these keep-alive and lifetime settings), and an SDK client for it. */
const startService = (pool: EnvironmentPoolOptions = {}) => services.start({ pool });

const ZIP = makeZip([{ name: 'index.mjs', content: HANDLER }]);

/** The tests' function: ZIP's handler with MEMORY_SIZE, unless `extra` says otherwise. */
function createZipFunction(service: LambdaService, name: string, extra: Partial<CreateFunctionCommandInput> = {}) {
  return createNodeFunction(service.lambda, name, ZIP, { MemorySize: MEMORY_SIZE, ...extra });
}

/** Every invoke here asks for the log tail: the tests read START, END and REPORT. */
const invoke = (service: LambdaService, name: string, event: object = {}) => invokeJson<Answer>(service.lambda, name, event, { tail: true });

describe.skipIf(!docked).concurrent('EnvironmentPool through the Lambda API', () => {
  let service: LambdaService;

  beforeAll(async () => {
    const [started] = await Promise.all([
      startService(),
      buildImage(IMAGE, { Dockerfile: 'FROM lambkin/nodejs:24\nCOPY index.mjs ${LAMBDA_TASK_ROOT}/\nCMD ["index.handler"]\n', 'index.mjs': HANDLER }),
      services.backend.prepare(),
    ]);
    service = started;
  }, 240_000);

  afterAll(async () => {
    await services.close();
    await removeBuiltImages();
  });

  it('reuses a warm environment; Init Duration only on its first invoke; logs filed under its stream', async ({ expect }) => {
    await createZipFunction(service, 'warm');
    let started = performance.now();
    const cold = await invoke(service, 'warm', { case: 'log', marker: 'first' });
    const coldMs = performance.now() - started;
    started = performance.now();
    const warm = await invoke(service, 'warm', { case: 'log', marker: 'second' });
    const warmMs = performance.now() - started;
    // Without the log tail nothing waits for trailing output: the warm path as most callers see it.
    const untailed: number[] = [];
    for (let i = 0; i < 5; i++) {
      started = performance.now();
      await service.lambda.send(new InvokeCommand({ FunctionName: 'warm', Payload: Buffer.from('{}') }));
      untailed.push(performance.now() - started);
    }
    const fastest = Math.min(...untailed);
    console.log(`through the SDK: cold ${coldMs.toFixed(0)} ms, warm with log tail ${warmMs.toFixed(0)} ms, warm without ${fastest.toFixed(0)} ms (best of 5)`);

    expect(warm.body.processId).toBe(cold.body.processId);
    expect(service.pool.count('warm')).toEqual({ busy: 0, idle: 1 });
    const requestId = (log: string) => /^START RequestId: (\S+) Version: \$LATEST$/m.exec(log)?.[1];
    expect(cold.log).toMatch(/^START RequestId: [0-9a-f-]{36} Version: \$LATEST\n/m);
    expect(cold.log).toContain('log line first');
    expect(cold.log).toContain(`END RequestId: ${requestId(cold.log)}\n`);
    expect(cold.log).toMatch(
      /REPORT RequestId: \S+\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 1024 MB\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d\d ms\t\n$/,
    );
    expect(warm.log).toContain('log line second');
    expect(warm.log).not.toContain('log line first');
    expect(warm.log).toMatch(/REPORT RequestId: \S+\tDuration: [^\n]*Max Memory Used: \d+ MB\t\n$/);
    expect(warm.log).not.toContain('Init Duration');
    expect(Number(/Max Memory Used: (\d+) MB/.exec(warm.log)?.[1])).toBeLessThan(MEMORY_SIZE);

    // Both invokes filed under the one stream the runtime itself was told about.
    expect(cold.body.logStreamName).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(service.logSink.streams('warm')).toEqual([cold.body.logStreamName]);
    const messages = service.logSink.events('warm', cold.body.logStreamName).map((event) => event.message);
    expect(messages.filter((line) => line.startsWith('START RequestId:'))).toHaveLength(7);
    expect(messages.filter((line) => line.startsWith('REPORT RequestId:'))).toHaveLength(7);
    expect(messages.some((line) => line.includes('log line second'))).toBe(true);
  });

  it('gives parallel invokes parallel environments, then keeps them all warm', async ({ expect }) => {
    await createZipFunction(service, 'parallel');
    const answers = await Promise.all([1, 2, 3].map(() => invoke(service, 'parallel', { case: 'sleep', ms: 1_000 })));
    expect(new Set(answers.map(({ body }) => body.processId)).size).toBe(3);
    expect(service.pool.count('parallel')).toEqual({ busy: 0, idle: 3 });
    const again = await invoke(service, 'parallel');
    expect(answers.map(({ body }) => body.processId)).toContain(again.body.processId);
  });

  it('stops an idle environment after its keep-alive: the next invoke is cold again', async ({ expect }) => {
    const shortKeepAlive = await startService({ keepAliveMs: 500 });
    await createZipFunction(shortKeepAlive, 'idle');
    const first = await invoke(shortKeepAlive, 'idle');
    await expect.poll(() => containerExists(first.body.containerId), { timeout: REMOVED_WITHIN_MS }).toBe(false);
    expect(shortKeepAlive.pool.count('idle')).toEqual({ busy: 0, idle: 0 });
    const second = await invoke(shortKeepAlive, 'idle');
    expect(second.body.processId).not.toBe(first.body.processId);
    expect(second.log).toContain('Init Duration');
  });

  it('stops an environment past its maximum lifetime, busy or not', async ({ expect }) => {
    // Room for a cold start on a busy machine inside the lifetime, and an invoke that outlasts it.
    const shortLived = await startService({ maxLifetimeMs: 3_000 });
    await createZipFunction(shortLived, 'lifetime', { Timeout: 10 });
    const first = await invoke(shortLived, 'lifetime');
    // Busy when its lifetime ends: it finishes the invoke, then it is stopped.
    const busy = await invoke(shortLived, 'lifetime', { case: 'sleep', ms: 3_500 });
    expect(busy.body.processId).toBe(first.body.processId);
    await expect.poll(() => containerExists(first.body.containerId), { timeout: REMOVED_WITHIN_MS }).toBe(false);
    const next = await invoke(shortLived, 'lifetime');
    expect(next.body.processId).not.toBe(first.body.processId);
  });

  it('starts a new environment after UpdateFunctionConfiguration, and stops the old one', async ({ expect }) => {
    await createZipFunction(service, 'updated', { Environment: { Variables: { GREETING: 'hello' } } });
    const before = await invoke(service, 'updated');
    expect(before.body.greeting).toBe('hello');
    await service.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'updated', Environment: { Variables: { GREETING: 'bye' } } }));
    await waitUntilUpdated(service.lambda, 'updated');
    const after = await invoke(service, 'updated');
    expect(after.body.greeting).toBe('bye');
    expect(after.body.processId).not.toBe(before.body.processId);
    await expect.poll(() => containerExists(before.body.containerId), { timeout: REMOVED_WITHIN_MS }).toBe(false);
    expect(service.pool.count('updated')).toEqual({ busy: 0, idle: 1 });
  });

  it("stops an updated function's idle environment at the update, and a deleted function's at the delete", async ({ expect }) => {
    await createZipFunction(service, 'retired', { Environment: { Variables: { GREETING: 'hello' } } });
    const updated = await invoke(service, 'retired');
    await service.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'retired', Timeout: 5 }));
    await waitUntilUpdated(service.lambda, 'retired');
    // No invoke in between: the update itself retires the stale environment.
    await expect.poll(() => containerExists(updated.body.containerId), { timeout: REMOVED_WITHIN_MS }).toBe(false);

    const fresh = await invoke(service, 'retired');
    await service.lambda.send(new DeleteFunctionCommand({ FunctionName: 'retired' }));
    await expect.poll(() => containerExists(fresh.body.containerId), { timeout: REMOVED_WITHIN_MS }).toBe(false);
  });

  it('answers a timeout with Sandbox.Timedout and serves the next invoke from a fresh environment', async ({ expect }) => {
    // 2 s: room for the quick invokes on a busy machine (a 0.58 vCPU share), none for the 5 s sleep.
    await createZipFunction(service, 'slow', { Timeout: 2 });
    const first = await invoke(service, 'slow');
    const timedOut = await invoke(service, 'slow', { case: 'sleep', ms: 5_000 });
    expect(timedOut.FunctionError).toBe('Unhandled');
    expect(timedOut.body).toMatchObject({ errorType: 'Sandbox.Timedout', errorMessage: expect.stringMatching(/Task timed out after 2\.00 seconds/) });
    const next = await invoke(service, 'slow');
    expect(next.FunctionError).toBeUndefined();
    expect(next.body.processId).not.toBe(first.body.processId);
    await expect.poll(() => containerExists(first.body.containerId), { timeout: REMOVED_WITHIN_MS }).toBe(false);
  });

  it('recovers from a runtime that exits: Runtime.ExitError, then a fresh environment', async ({ expect }) => {
    await createZipFunction(service, 'crashing');
    const first = await invoke(service, 'crashing');
    const crashed = await invoke(service, 'crashing', { case: 'exit' });
    expect(crashed.FunctionError).toBe('Unhandled');
    expect(crashed.body).toMatchObject({ errorType: 'Runtime.ExitError', errorMessage: expect.stringContaining('exit status 3') });
    const next = await invoke(service, 'crashing');
    expect(next.FunctionError).toBeUndefined();
    expect(next.body.processId).not.toBe(first.body.processId);
  });

  it('answers an out-of-memory kill with Runtime.ExitError (signal: killed), then serves from a fresh environment', async ({ expect }) => {
    await createZipFunction(service, 'hungry', { MemorySize: 512, Timeout: 30 });
    const first = await invoke(service, 'hungry');
    const killed = await invoke(service, 'hungry', { case: 'hog', mb: 900 });
    expect(killed.FunctionError).toBe('Unhandled');
    expect(killed.body).toMatchObject({ errorType: 'Runtime.ExitError', errorMessage: expect.stringContaining('signal: killed') });
    const next = await invoke(service, 'hungry', { case: 'hog', mb: 16 });
    expect(next.FunctionError).toBeUndefined();
    expect(next.body.processId).not.toBe(first.body.processId);
  });

  it('runs an image function (PackageType Image) and keeps it warm', async ({ expect }) => {
    await createActiveFunction(service.lambda, {
      FunctionName: 'from-image',
      Role: ROLE,
      PackageType: 'Image',
      MemorySize: MEMORY_SIZE,
      Code: { ImageUri: IMAGE },
    });
    const first = await invoke(service, 'from-image', { case: 'log', marker: 'image' });
    expect(first.FunctionError).toBeUndefined();
    expect(first.log).toContain('log line image');
    expect(first.log).toContain('Init Duration');
    const second = await invoke(service, 'from-image');
    expect(second.body.processId).toBe(first.body.processId);
  });
});

describe.skipIf(!docked)('EnvironmentPool.close()', () => {
  it('stops every environment, idle and busy, and leaves no container', async ({ expect }) => {
    const ownServices = new DockerLambdaServices({ reapOnStart: false });
    const { lambda, pool } = await ownServices.start();
    try {
      await createActiveFunction(lambda, {
        FunctionName: 'closing',
        Role: ROLE,
        Runtime: 'nodejs24.x',
        Handler: 'index.handler',
        MemorySize: MEMORY_SIZE,
        Code: { ZipFile: ZIP },
      });
      const payload = (event: object) => Buffer.from(JSON.stringify(event));
      // One invoke still running when the pool closes, and one environment idle beside it.
      const inFlight = lambda.send(new InvokeCommand({ FunctionName: 'closing', Payload: payload({ case: 'sleep', ms: 10_000 }) })).catch(() => undefined);
      await expect.poll(() => pool.count('closing').busy, { timeout: 10_000 }).toBe(1);
      await lambda.send(new InvokeCommand({ FunctionName: 'closing', Payload: payload({}) }));
      expect(pool.count('closing')).toEqual({ busy: 1, idle: 1 });
      // The environments' containers (their network sandboxes carry the owner label too, and go with them).
      const owned = () => docker.listContainers({ all: true, filters: { label: [`${OWNER_LABEL}=${ownServices.backend.owner.id}`, FUNCTION_LABEL] } });
      expect(await owned()).toHaveLength(2);

      await pool.close();
      expect(await owned()).toHaveLength(0);
      await inFlight;
    } finally {
      await ownServices.close();
    }
  });
});
