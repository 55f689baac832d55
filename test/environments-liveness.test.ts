// Liveness without the engine's event stream: the Docker API connection drops (a proxy between dockerode and the
// engine's socket severs it, then refuses or holds new ones) while a container dies or the host shuts down. What a
// user must see: the invoke ends by its timeout with Lambda's error, the next invoke gets a fresh environment once
// the engine answers again, shutdown returns within its bound, and `docker ps -a` shows nothing of this host's left.
// Real Docker, real containers (zip functions on lambkin/nodejs:24), through the Lambda API and the real SDK.
import Dockerode from 'dockerode';
import { execa } from 'execa';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, it } from 'vitest';
import { STOP_REMOVAL_ALLOWANCE_MS } from '../src/environments/docker-environment.ts';
import { SHUTDOWN_GRACE_MS } from '../src/runtime-api/lifecycle.ts';
import { FUNCTION_LABEL, OWNER_LABEL } from '../src/environments/index.ts';
import { containerExists } from './support/containers.ts';
import { DockerSocketProxy, type DroppedEngine } from './support/docker-socket-proxy.ts';
import { requireDocker } from './support/docker.ts';
import { DockerLambdaServices, type LambdaService } from './support/lambda-service.ts';
import { makeZip } from '../tools/zip.ts';
import { createActiveFunction, invokeJson, ROLE } from './support/lambda-fixtures.ts';

const docked = await requireDocker();

const TIMEOUT_SECONDS = 3;
/**
 * What an answer may take past the function's deadline: the invoker's END/REPORT and the HTTP round trip, well
 * under a second when quiet, up to 2 s with the whole suite running beside it. What the test tells apart is an
 * invoke that ends by its deadline from one that waits on the dead engine (the handler's 30 s).
 */
const ANSWER_MARGIN_MS = 3_000;
/** Host shutdown: every stop() within the grace plus the allowance, the backend's final sweep within the allowance. */
const SHUTDOWN_BOUND_MS = SHUTDOWN_GRACE_MS + 2 * STOP_REMOVAL_ALLOWANCE_MS;
/**
 * What shutdown does besides waiting on the engine (unmounting and deleting the /tmp filesystems), measured at up
 * to 1.7 s with these five tests side by side on a loaded two-core machine.
 */
const LOCAL_TEARDOWN_MS = 3_000;

const HANDLER = `
import { randomUUID } from 'node:crypto';
const processId = randomUUID();
export const handler = async (event) => {
  if (event.sleepMs) {
    // Straight to the container's output, which the test reads with docker logs (console records go to the
    // environment's telemetry pipe instead, as on Lambda).
    process.stderr.write('sleeping ' + event.marker + '\\n');
    await new Promise((resolve) => setTimeout(resolve, event.sleepMs));
  }
  return { processId };
};
`;
const ZIP = makeZip([{ name: 'index.mjs', content: HANDLER }]);

interface Harness {
  proxy: DockerSocketProxy;
  services: DockerLambdaServices;
  service: LambdaService;
  /** This host's containers as `docker ps -a` shows them (straight to the engine, not through the proxy). */
  containers(): Promise<string[]>;
  /** Those that run a function (not the network sandboxes made ahead beside them). */
  functionContainers(): Promise<string[]>;
  /** Containers a test has already picked out. */
  known: Set<string>;
}

const harnesses: Harness[] = [];

/** A Lambda service whose Docker client reaches the engine only through a proxy the test can cut. */
async function harness(): Promise<Harness> {
  const proxy = await DockerSocketProxy.start();
  const services = new DockerLambdaServices({ docker: new Dockerode({ socketPath: proxy.socketPath }) });
  const service = await services.start();
  const list = async (...filters: string[]) => {
    const { stdout } = await execa('docker', ['ps', '-aq', '--no-trunc', '--filter', `label=${OWNER_LABEL}=${services.backend.owner.id}`, ...filters]);
    return stdout.split('\n').filter(Boolean);
  };
  const made = {
    proxy,
    services,
    service,
    containers: () => list(),
    functionContainers: () => list('--filter', `label=${FUNCTION_LABEL}`),
    known: new Set<string>(),
  };
  harnesses.push(made);
  return made;
}

async function createFunction(service: LambdaService, timeoutSeconds = TIMEOUT_SECONDS): Promise<string> {
  const name = `liveness-${randomUUID().slice(0, 8)}`;
  await createActiveFunction(service.lambda, {
    FunctionName: name,
    Role: ROLE,
    Runtime: 'nodejs24.x',
    Handler: 'index.handler',
    MemorySize: 512,
    Timeout: timeoutSeconds,
    Code: { ZipFile: ZIP },
  });
  return name;
}

/** Polls until `read` gives something truthy; fails after `timeoutMs`. */
async function until<T>(what: string, read: () => Promise<T> | T, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const giveUpAt = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value) return value as NonNullable<T>;
    if (Date.now() > giveUpAt) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Waits until none of this host's containers is left: about a second on a quiet machine, but under the full suite's
 * load the engine has taken over 20 s, so the bound is generous. What fails here is a container nobody removes, and
 * the message names it.
 */
async function allRemoved(h: Harness): Promise<void> {
  await until('every container of this host to be removed', async () => (await h.containers()).length === 0, 45_000).catch(async (error) => {
    const left = await h.containers();
    const described = await execa('docker', ['inspect', '--format', '{{.Id}} {{.State.Status}} {{json .Config.Labels}}', ...left], { reject: false });
    throw new Error(`${(error as Error).message}; left: ${described.stdout || left.join(', ')}`);
  });
}

/** How long a new environment may take to start and run its handler: seconds when quiet, far more under the suite's load. */
const COLD_START_BOUND_MS = 40_000;

/** Starts an invoke whose handler sleeps, and resolves once it runs: its container, and when it started sleeping. */
async function sleepingInvoke(h: Harness, name: string) {
  const marker = randomUUID();
  const answer = invokeJson(h.service.lambda, name, { sleepMs: 30_000, marker });
  answer.catch(() => {}); // awaited by the test; not unhandled meanwhile
  const [id] = await until(
    'the container',
    async () => {
      const ids = (await h.functionContainers()).filter((candidate) => !h.known.has(candidate));
      return ids.length > 0 ? ids : undefined;
    },
    COLD_START_BOUND_MS,
  );
  h.known.add(id!);
  await until(
    'the handler to run',
    async () => (await execa('docker', ['logs', id!], { reject: false, all: true })).all?.includes(`sleeping ${marker}`),
    COLD_START_BOUND_MS,
  );
  return { id: id!, answer, sleepingSince: performance.now() };
}

describe.skipIf(!docked).concurrent('a dropped engine connection', () => {
  afterAll(async () => {
    for (const h of harnesses) {
      h.proxy.resume();
      await h.services.close();
      await h.proxy.close();
    }
  });

  it.for<DroppedEngine>(['refuse', 'hold'])(
    'during an invoke whose container is killed (engine %s): the invoke ends by its timeout, the next one gets a fresh environment',
    { timeout: 90_000 },
    async (mode, { expect }) => {
      const h = await harness();
      const name = await createFunction(h.service);
      const warm = await invokeJson(h.service.lambda, name, {});
      const { id, answer, sleepingSince } = await sleepingInvoke(h, name);

      h.proxy.drop(mode);
      await execa('docker', ['kill', id]);
      const first = await answer;
      const tookMs = performance.now() - sleepingSince;
      console.log(`engine ${mode}: the invoke ended ${tookMs.toFixed(0)} ms after its handler began (timeout ${TIMEOUT_SECONDS} s)`);
      expect(tookMs).toBeLessThan(TIMEOUT_SECONDS * 1000 + ANSWER_MARGIN_MS);
      expect(first.FunctionError).toBe('Unhandled');
      expect(['Sandbox.Timedout', 'Runtime.ExitError']).toContain(first.body.errorType);
      expect(h.service.pool.count(name).busy).toBe(0);

      h.proxy.resume();
      const second = await invokeJson(h.service.lambda, name, {});
      expect(second.FunctionError).toBeUndefined();
      expect(second.body.processId).not.toBe(warm.body.processId);
      // The killed container is removed once the engine answers again, not left behind.
      await until('the killed container to be removed', async () => !(await containerExists(id)));

      await h.service.close();
      await h.services.backend.close();
      // Shutdown is bounded, so on a loaded engine a removal it asked for may still be under way when it returns.
      await allRemoved(h);
    },
  );

  it('while an environment is idle: its death is noticed once the engine answers again, and it is not handed an invoke', async ({ expect }) => {
    const h = await harness();
    const name = await createFunction(h.service);
    const warm = await invokeJson(h.service.lambda, name, {});
    const [id, ...others] = await h.functionContainers();
    expect(others).toEqual([]);

    h.proxy.drop('refuse');
    await execa('docker', ['kill', id!]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    h.proxy.resume();
    // Reconnected, the watch learns the container stopped (its wait answers at once) and the pool lets it go.
    await until('the dead environment to leave the pool', () => h.service.pool.count(name).idle === 0, 10_000);
    const next = await invokeJson(h.service.lambda, name, {});
    expect(next.FunctionError).toBeUndefined();
    expect(next.body.processId).not.toBe(warm.body.processId);
    await until('the dead container to be removed', async () => !(await containerExists(id!)));
  }, 60_000);

  it('at shutdown, with the engine holding every request: shutdown returns within its bound, and nothing is left once the engine answers', async ({
    expect,
  }) => {
    const h = await harness();
    const name = await createFunction(h.service, 60); // the busy invoke must still be running at shutdown
    const busy = await sleepingInvoke(h, name); // one busy environment
    await invokeJson(h.service.lambda, name, {}); // and one idle: started beside the busy one
    expect(await h.functionContainers()).toHaveLength(2);

    h.proxy.drop('hold');
    const started = performance.now();
    await h.service.invoker.close(); // the pool: Lambda's shutdown of every environment
    const poolMs = performance.now() - started;
    await h.services.backend.close(); // the backend: whatever else this host owns
    const tookMs = performance.now() - started;
    console.log(`shutdown with the engine held: ${tookMs.toFixed(0)} ms, the pool's ${poolMs.toFixed(0)} ms (bound ${SHUTDOWN_BOUND_MS} ms)`);
    expect(tookMs).toBeLessThan(SHUTDOWN_BOUND_MS + LOCAL_TEARDOWN_MS);
    // The busy invoke ended with the environment, not at its 20 s sleep.
    expect((await busy.answer).FunctionError).toBe('Unhandled');

    h.proxy.resume();
    const resumed = performance.now();
    await allRemoved(h);
    console.log(`removed ${(performance.now() - resumed).toFixed(0)} ms after the engine answered again`);
  }, 90_000);

  it('at shutdown, with an engine slow to answer but within the bound: every container is removed by the time it returns', async ({ expect }) => {
    const h = await harness();
    const name = await createFunction(h.service);
    await invokeJson(h.service.lambda, name, {});
    expect(await h.functionContainers()).toHaveLength(1);

    h.proxy.drop('hold');
    const resume = setTimeout(() => h.proxy.resume(), 1_000);
    const started = performance.now();
    await h.service.invoker.close();
    await h.services.backend.close();
    clearTimeout(resume);
    expect(performance.now() - started).toBeLessThan(SHUTDOWN_BOUND_MS + LOCAL_TEARDOWN_MS);
    expect(await h.containers()).toEqual([]);
  }, 60_000);
});
