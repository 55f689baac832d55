// Execution environments as real Docker containers (src/environments): the host serves each environment's
// Runtime API itself, the container's bootstrap talks to it directly. Tests run concurrently: each starts its
// own environments and kills them when it finishes; every container carries this file's owner labels and the
// test labels, so afterAll removes whatever a failing test left.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { DockerBackend, LambdaEnvironmentError, Reaper, type Environment, type EnvironmentSpec, type OutputLine } from '../src/environments/index.ts';
import { OWNER_HOST_LABEL, OWNER_LABEL, OWNER_PID_LABEL } from '../src/environments/labels.ts';
import type { InvokeOutcome } from '../src/runtime-api/types.ts';
import { buildImage, containerExists, removeAllContainers, removeBuiltImages, TEST_LABEL } from './support/containers.ts';
import { requireDocker } from './support/docker.ts';
import { repoRoot } from './support/emulator-process.ts';

const docked = await requireDocker();

const nodeCode = join(repoRoot, 'test', 'fixtures', 'environments', 'node');
const shellCode = join(repoRoot, 'test', 'fixtures', 'shell-runtime');
const stubbornCode = join(repoRoot, 'test', 'fixtures', 'environments', 'stubborn');
const IMAGE = 'lambkin-test/environments-node';
// The same labels test/support/containers.ts puts on its containers, so its cleanup finds ours too.
const testLabels = { [TEST_LABEL.split('=')[0]!]: '1', 'lambkin.test.owner': String(process.pid) };

const docker = new Dockerode();
const backend = new DockerBackend({ labels: testLabels });
// A short shutdown grace, to see SIGKILL follow a SIGTERM the runtime ignores without waiting Lambda's 2 s.
const impatientBackend = new DockerBackend({ labels: testLabels, stopGraceMs: 300, reapOnStart: false });

/** A spec with fast defaults: 1 vCPU (1769 MB), a generous timeout. */
function spec(overrides: Partial<EnvironmentSpec>): EnvironmentSpec {
  return { functionName: `env-test-${randomUUID().slice(0, 8)}`, image: IMAGE, memorySizeMb: 1769, timeoutSeconds: 10, ...overrides };
}

/** Starts an environment that is killed (and so removed) when the test finishes, pass or fail. */
async function start(context: TestContext, options: Partial<EnvironmentSpec>, from = backend): Promise<Environment> {
  const environment = await from.start(spec(options));
  context.onTestFinished(async () => {
    await environment.kill();
    await environment.exited;
  });
  return environment;
}

const payload = (event: object) => JSON.stringify(event);
const bodyOf = (outcome: InvokeOutcome) => {
  if (outcome.kind !== 'success') throw new Error(`expected success, got ${JSON.stringify(outcome)}`);
  return JSON.parse(outcome.body.toString('utf8'));
};

describe.skipIf(!docked).concurrent('Docker execution environments', () => {
  beforeAll(async () => {
    await Promise.all([
      buildImage(IMAGE, {
        Dockerfile: 'FROM lambkin/nodejs:24\nCOPY index.js init-error.js package.json ${LAMBDA_TASK_ROOT}/\nCMD ["index.handler"]\n',
        'index.js': { copyFrom: join(nodeCode, 'index.js') },
        'init-error.js': { copyFrom: join(nodeCode, 'init-error.js') },
        'package.json': { copyFrom: join(nodeCode, 'package.json') },
      }),
      backend.prepare(),
    ]);
  }, 240_000);
  afterAll(async () => {
    await Promise.all([backend.close(), impatientBackend.close()]);
    await removeAllContainers();
    await removeBuiltImages();
  });

  it("initialises an image function and answers with Lambda's environment", async (context) => {
    const lines: OutputLine[] = [];
    const started = performance.now();
    const environment = await start(context, {
      identity: { region: 'eu-west-1', accountId: '123456789012' },
      environment: { GREETING: 'hello', AWS_REGION: 'mars-1', AWS_LAMBDA_RUNTIME_API: 'evil:1', TZ: ':Europe/Paris' },
      onOutput: (line) => lines.push(line),
    });
    const createdMs = performance.now() - started;
    const init = await environment.waitForInit();
    const readyMs = performance.now() - started;
    console.log(
      `create+start ${createdMs.toFixed(0)} ms, ready (first /next) ${readyMs.toFixed(0)} ms, init ${init.kind === 'ready' ? init.initDurationMs.toFixed(0) : init.kind} ms`,
    );
    expect(init.kind).toBe('ready');

    const { env, context: ctx } = bodyOf(await environment.invoke({ payload: payload({ case: 'env' }) }));
    expect(env).toMatchObject({
      AWS_LAMBDA_FUNCTION_NAME: environment.spec.functionName,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1769',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${environment.spec.functionName}`,
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      _HANDLER: 'index.handler',
      LAMBDA_TASK_ROOT: '/var/task',
      LANG: 'en_US.UTF-8',
      TZ: ':Europe/Paris', // not reserved: the function's own value wins
      GREETING: 'hello',
    });
    expect(env.AWS_LAMBDA_LOG_STREAM_NAME).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(env.AWS_LAMBDA_RUNTIME_API).toMatch(/^[\d.]+:\d+$/);
    expect(env.AWS_ACCESS_KEY_ID).toBeTruthy();
    expect(ctx).toMatchObject({
      functionName: environment.spec.functionName,
      memoryLimitInMB: '1769',
      logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
      invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${environment.spec.functionName}`,
    });
    expect(ctx.remainingMs).toBeGreaterThan(9_000);

    // Output arrives as it is written: the runtime's console through its telemetry log pipe, a record with its level.
    expect(bodyOf(await environment.invoke({ payload: payload({ case: 'log', marker: 'm-1' }) }))).toBe('logged');
    await context.expect.poll(() => lines.some((l) => l.stream === 'telemetry' && l.level === 'INFO' && l.line.includes('log line m-1'))).toBe(true);

    // Max Memory Used is the container's measured peak, nowhere near the memory size; it grows with the function.
    const before = await environment.maxMemoryUsedMb();
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(1769);
    expect(bodyOf(await environment.invoke({ payload: payload({ case: 'allocate', mb: 96 }) }))).toEqual({ allocatedMb: 96 });
    expect(await environment.maxMemoryUsedMb()).toBeGreaterThanOrEqual(96);
  });

  it('runs a zip function from a read-only code directory, with only /tmp writable', async (context) => {
    const environment = await start(context, { image: 'lambkin/nodejs:24', codeDirectory: nodeCode, handler: 'index.handler', runtime: 'nodejs24.x' });
    expect((await environment.waitForInit()).kind).toBe('ready');
    const result = bodyOf(await environment.invoke({ payload: payload({ case: 'filesystem' }) }));
    expect(result).toEqual({ tmp: 'written', root: 'EROFS', task: 'EROFS' });
    const { env } = bodyOf(await environment.invoke({ payload: payload({ case: 'env' }) }));
    expect(env._HANDLER).toBe('index.handler');
    expect(env.AWS_EXECUTION_ENV).toBe('AWS_Lambda_nodejs24.x');
  });

  it('kills a function that goes past its memory size: Runtime.ExitError signal: killed', async (context) => {
    // A generous timeout: at 256 MB's CPU share (0.14 vCPU) on a busy machine, filling the memory takes seconds.
    const environment = await start(context, { memorySizeMb: 256, timeoutSeconds: 45 });
    expect((await environment.waitForInit()).kind).toBe('ready');
    const outcome = await environment.invoke({ payload: payload({ case: 'allocate', mb: 1024 }) });
    expect(outcome.kind).toBe('runtime-exit');
    if (outcome.kind !== 'runtime-exit') return;
    expect(outcome.error).toEqual({
      errorType: 'Runtime.ExitError',
      errorMessage: `RequestId: ${outcome.requestId} Error: Runtime exited with error: signal: killed`,
    });
    expect(await environment.exited).toBe('signal: killed');
    expect(environment.isDead).toBe(true);
  }, 60_000);

  it('times out: Sandbox.Timedout, and the container is gone', async (context) => {
    const environment = await start(context, { timeoutSeconds: 1 });
    expect((await environment.waitForInit()).kind).toBe('ready');
    const outcome = await environment.invoke({ payload: payload({ case: 'sleep', ms: 20_000 }) });
    expect(outcome.kind).toBe('timeout');
    if (outcome.kind !== 'timeout') return;
    expect(outcome.error).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: `RequestId: ${outcome.requestId} Error: Task timed out after 1.00 seconds`,
    });
    expect(outcome.durationMs).toBeGreaterThan(990); // timers may fire a hair early by performance.now()
    expect(await environment.exited).toBe('signal: killed');
    expect(await containerExists(environment.id)).toBe(false);
    // A dead environment answers at once instead of queueing an invoke nobody will take.
    expect((await environment.invoke({ payload: '{}' })).kind).toBe('runtime-exit');
  });

  it('reports a runtime that exits during an invoke: Runtime.ExitError exit status 2', async (context) => {
    const environment = await start(context, {});
    const outcome = await environment.invoke({ payload: payload({ case: 'exit', code: 2 }) });
    expect(outcome.kind).toBe('runtime-exit');
    if (outcome.kind !== 'runtime-exit') return;
    expect(outcome.error.errorMessage).toBe(`RequestId: ${outcome.requestId} Error: Runtime exited with error: exit status 2`);
    expect(await environment.exited).toBe('exit status 2');
    expect(await containerExists(environment.id)).toBe(false);
  });

  it('ends the init phase with the init error, for the init and the invokes waiting on it', async (context) => {
    const environment = await start(context, { imageConfig: { command: ['init-error.handler'] } });
    const waiting = environment.invoke({ payload: '{}' });
    const init = await environment.waitForInit();
    expect(init.kind).toBe('init-error');
    if (init.kind !== 'init-error') return;
    expect(init.error.errorMessage).toContain('cannot initialise: missing configuration');
    const outcome = await waiting;
    expect(outcome.kind).toBe('init-error');
    expect(environment.isDead).toBe(true);
    await environment.exited;
    expect(await containerExists(environment.id)).toBe(false);
  });

  it('runs a custom shell runtime on lambkin/provided with its bootstrap in the code directory', async (context) => {
    const stderr: string[] = [];
    const environment = await start(context, {
      image: 'lambkin/provided:latest',
      codeDirectory: shellCode,
      handler: 'function.handler',
      memorySizeMb: 512,
      onOutput: ({ stream, line }) => stream === 'stderr' && stderr.push(line),
    });
    expect((await environment.waitForInit()).kind).toBe('ready');
    const outcome = await environment.invoke({ payload: payload({ hello: 'shell' }) });
    expect(bodyOf(outcome)).toEqual({ requestId: outcome.requestId, event: { hello: 'shell' } });
    // Warm: the same bootstrap loop takes the next event.
    expect(bodyOf(await environment.invoke({ payload: '{"n":2}' }))).toMatchObject({ event: { n: 2 } });
    // The handler echoes each event to stderr.
    await context.expect.poll(() => stderr).toContain('{"hello":"shell"}');
  });

  it('stop() shuts the runtime down (SIGTERM) and removes the container', async (context) => {
    const environment = await start(context, {});
    expect((await environment.waitForInit()).kind).toBe('ready');
    expect(await containerExists(environment.id)).toBe(true);
    const started = performance.now();
    await environment.stop();
    // Node.js has no SIGTERM handler here: it goes at once, well within the 2 s grace.
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(await environment.exited).toBe('signal: terminated');
    expect(await containerExists(environment.id)).toBe(false);
  });

  it('fails an init that runs past its limit with Sandbox.Timedout and kills the runtime', async (context) => {
    const lines: string[] = [];
    const environment = await start(context, {
      image: 'lambkin/provided:latest',
      codeDirectory: stubbornCode,
      memorySizeMb: 128,
      initTimeoutMs: 500,
      onOutput: ({ line }) => lines.push(line),
    });
    const init = await environment.waitForInit();
    expect(init).toMatchObject({
      kind: 'init-error',
      error: { errorType: 'Sandbox.Timedout', errorMessage: 'Error: Runtime init timed out after 0.50 seconds' },
    });
    expect(await environment.exited).toBe('signal: killed');
    expect(lines).toContain('stubborn bootstrap started');
  });

  it('stop() sends SIGKILL once the grace period is over, when the runtime ignores SIGTERM', async (context) => {
    let trapSet!: () => void;
    const running = new Promise<void>((resolve) => (trapSet = resolve));
    const environment = await start(
      context,
      {
        image: 'lambkin/provided:latest',
        codeDirectory: stubbornCode,
        memorySizeMb: 128,
        onOutput: ({ line }) => line === 'stubborn bootstrap started' && trapSet(),
      },
      impatientBackend,
    );
    // Stop only once the bootstrap has set its trap: before that a SIGTERM would end it like any other process.
    await running;
    const started = performance.now();
    await environment.stop();
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(await environment.exited).toBe('signal: killed');
    expect(await containerExists(environment.id)).toBe(false);
  });

  it('refuses an image that does not exist with a clear error, leaving nothing behind', async () => {
    const error = await backend.start(spec({ image: 'lambkin-test/x' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LambdaEnvironmentError);
    expect(error).toMatchObject({ errorType: 'ResourceNotFoundException', message: 'Image lambkin-test/x not found locally: build it first' });
  });

  it('refuses a code directory that does not exist (rather than mounting an empty one)', async () => {
    const error = await backend
      .start(spec({ image: 'lambkin/nodejs:24', codeDirectory: '/nonexistent/lambkin-code', handler: 'index.handler' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LambdaEnvironmentError);
    expect(error).toMatchObject({ errorType: 'InvalidParameterValueException' });
    expect((error as Error).message).toContain('/nonexistent/lambkin-code');
  });

  it('says ServiceException when no Docker engine answers', async () => {
    const offline = new DockerBackend({ docker: new Dockerode({ socketPath: '/nonexistent/docker.sock' }) });
    const error = await offline.start(spec({})).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LambdaEnvironmentError);
    expect(error).toMatchObject({ errorType: 'ServiceException' });
    expect((error as Error).message).toMatch(/^Docker engine unreachable: /);
  });
});

describe.skipIf(!docked).concurrent('the reaper', () => {
  // A machine name of its own, so that the backend above (which reaps at start, concurrently) leaves these
  // tests' containers alone: a reaper only judges owners on its own machine.
  const machine = `lambkin-test-${randomUUID().slice(0, 8)}`;
  const owner = (id = randomUUID()) => ({ id, pid: process.pid, hostname: machine });
  /** A created (never started) container with owner labels: enough for the reaper, and fast. */
  async function ownedContainer(labels: Record<string, string>): Promise<string> {
    const container = await docker.createContainer({ Image: 'lambkin/provided:latest', Labels: { ...testLabels, ...labels } });
    return container.id;
  }
  const cleanup = new Set<string>();
  afterAll(async () => {
    await Promise.all(
      [...cleanup].map((id) =>
        docker
          .getContainer(id)
          .remove({ force: true })
          .catch(() => {}),
      ),
    );
  });

  it("removes a dead owner's containers, never a live owner's or another machine's", async () => {
    // A pid that was just alive and is now gone: its owner "died".
    const child = execa('true');
    const deadPid = String(child.pid);
    await child;
    const dead = await ownedContainer({ [OWNER_LABEL]: randomUUID(), [OWNER_PID_LABEL]: deadPid, [OWNER_HOST_LABEL]: machine });
    const live = await ownedContainer({ [OWNER_LABEL]: randomUUID(), [OWNER_PID_LABEL]: String(process.pid), [OWNER_HOST_LABEL]: machine });
    const elsewhere = await ownedContainer({ [OWNER_LABEL]: randomUUID(), [OWNER_PID_LABEL]: deadPid, [OWNER_HOST_LABEL]: 'another-machine' });
    for (const id of [dead, live, elsewhere]) cleanup.add(id);

    const removed = await new Reaper(docker, owner()).reapDeadOwners();
    expect(removed).toContain(dead);
    expect(removed).not.toContain(live);
    expect(removed).not.toContain(elsewhere);
    expect(await containerExists(dead)).toBe(false);
    expect(await containerExists(live)).toBe(true);
    expect(await containerExists(elsewhere)).toBe(true);
  });

  it('removeAllOwned() removes every container of its own host instance and only those', async () => {
    const mine = owner();
    const own = [
      await ownedContainer({ [OWNER_LABEL]: mine.id, [OWNER_PID_LABEL]: String(process.pid), [OWNER_HOST_LABEL]: mine.hostname }),
      await ownedContainer({ [OWNER_LABEL]: mine.id, [OWNER_PID_LABEL]: String(process.pid), [OWNER_HOST_LABEL]: mine.hostname }),
    ];
    const other = await ownedContainer({ [OWNER_LABEL]: randomUUID(), [OWNER_PID_LABEL]: String(process.pid), [OWNER_HOST_LABEL]: mine.hostname });
    for (const id of [...own, other]) cleanup.add(id);

    expect((await new Reaper(docker, mine).removeAllOwned()).sort()).toEqual([...own].sort());
    expect(await containerExists(own[0]!)).toBe(false);
    expect(await containerExists(other)).toBe(true);
  });
});
