// Stopping the Lambda API without cutting its callers off: in-process (functions run by our runtime as child
// processes) for the close itself, then `lambkin serve` as a child on real Docker for SIGTERM during an invoke, as a
// supervisor (docker stop, systemd, Kubernetes) sends it.
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import Dockerode from 'dockerode';
import { execa } from 'execa';
import { hostname } from 'node:os';
import { request } from 'undici';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OWNER_HOST_LABEL, OWNER_PID_LABEL } from '../src/environments/labels.ts';
import { LambdaApiServer, SqliteFunctionStore } from '../src/service/index.ts';
import { requireDocker } from './support/docker.ts';
import { failure, makeDataDir, removeDataDir } from './support/local-service.ts';
import { ProcessInvoker } from './support/process-invoker.ts';
import { destroyRawConnections, rawConnection } from './support/raw-http.ts';
import { lambkinBin, startServe, withNode24, type ServeProcess } from '../tools/serve-process.ts';
import { makeZip } from '../tools/zip.ts';
import { createActiveFunction, payloadJson, ROLE } from './support/lambda-fixtures.ts';

const HANDLER = `
export const handler = async (event) => {
  await new Promise((resolve) => setTimeout(resolve, event.sleepMs ?? 0));
  return { slept: event.sleepMs ?? 0 };
};
`;
const ZIP = makeZip([{ name: 'index.mjs', content: HANDLER }]);
const createSlow = (lambda: LambdaClient) =>
  createActiveFunction(lambda, { FunctionName: 'slow', Role: ROLE, Runtime: 'nodejs24.x', Handler: 'index.handler', Timeout: 30, Code: { ZipFile: ZIP } });
const sdkFor = (endpoint: string) =>
  new LambdaClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
const invokeSlow = (lambda: LambdaClient, sleepMs: number) =>
  lambda.send(new InvokeCommand({ FunctionName: 'slow', Payload: Buffer.from(JSON.stringify({ sleepMs })) }));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('LambdaApiServer.close with a grace period', () => {
  let dataDir: string;
  let store: SqliteFunctionStore;
  let invoker: ProcessInvoker;
  let server: LambdaApiServer;
  let lambda: LambdaClient;

  beforeEach(async () => {
    dataDir = await makeDataDir('lambkin-shutdown-');
    store = new SqliteFunctionStore(dataDir);
    invoker = new ProcessInvoker();
    server = new LambdaApiServer({ store, invoker });
    lambda = sdkFor(await server.listen());
    await createSlow(lambda);
    // Warm: the runtime process is running, so an invoke's time is the handler's.
    expect(payloadJson(await invokeSlow(lambda, 0))).toEqual({ slept: 0 });
  });

  afterEach(async () => {
    destroyRawConnections();
    lambda.destroy();
    await server.close();
    await invoker.close();
    store.close();
    await removeDataDir(dataDir);
  });

  it('lets an invoke in flight finish with its answer, and refuses what arrives meanwhile', { timeout: 30_000 }, async () => {
    const invoke = invokeSlow(lambda, 2_000);
    await until(() => invoker.calls.length === 2);
    // A client that had begun its request when the stop came, and finishes it afterwards.
    const late = await rawConnection(server.url);
    late.write(`POST /2015-03-31/functions/slow/invocations HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
    await sleep(100);

    const started = performance.now();
    const closing = server.close({ graceMs: 10_000 });
    late.write('Content-Length: 2\r\n\r\n{}');
    const refusal = await late.waitFor('}');
    expect(refusal).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(refusal).toMatch(/\r\nx-amzn-ErrorType: ServiceException\r\n/i);
    expect(refusal).toMatch(/\r\nConnection: close\r\n/i);
    // ServiceException's message member is `Message` in Lambda's model.
    expect(refusal).toContain('"Message":"lambkin serve is shutting down: it takes no new requests; send this one again once it is back"');
    expect(invoker.calls).toHaveLength(2);
    // No new connections.
    await expect(request(`${server.url}/lambkin/status`)).rejects.toThrow(/ECONNREFUSED/);

    const output = await invoke;
    expect(output.StatusCode).toBe(200);
    expect(payloadJson(output)).toEqual({ slept: 2_000 });
    expect(await closing).toEqual({ unfinished: 0 });
    // Closed as soon as the invoke was answered, not at the end of the grace.
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('answers an invoke still running when the grace runs out with a 503 ServiceException, not a hang-up', { timeout: 30_000 }, async () => {
    const invoke = invokeSlow(lambda, 5_000);
    await until(() => invoker.calls.length === 2);
    const started = performance.now();
    expect(await server.close({ graceMs: 1_000 })).toEqual({ unfinished: 1 });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(3_000);

    const error = await failure(invoke);
    expect(error.name).toBe('ServiceException');
    expect(error.$metadata.httpStatusCode).toBe(503);
    expect(error.message).toBe('lambkin serve is shutting down: this request was still running when the 1 s shutdown grace period ran out');
  });
});

describe('lambkin serve flags for stopping and for host names', () => {
  it('refuses a bad --shutdown-grace or an --allowed-host that is a URL, with exit code 2', async () => {
    const grace = await execa(lambkinBin, ['serve', '--shutdown-grace', 'soon'], { env: withNode24, reject: false });
    expect(grace.exitCode).toBe(2);
    expect(grace.stderr).toContain("lambkin serve: --shutdown-grace must be a whole number from 0 to 3600, not 'soon'");
    const host = await execa(lambkinBin, ['serve', '--allowed-host', 'http://lambda.dev.example'], { env: withNode24, reject: false });
    expect(host.exitCode).toBe(2);
    expect(host.stderr).toContain("--allowed-host takes a host name without scheme or path, not 'http://lambda.dev.example'");
  });
});

const docked = await requireDocker();

describe.skipIf(!docked)('lambkin serve on SIGTERM', () => {
  const docker = new Dockerode();
  const dataDirs: string[] = [];
  const serves: ServeProcess[] = [];

  afterAll(async () => {
    for (const serve of serves) {
      await serve.stop('SIGKILL');
      for (const id of await containersOf(serve.pid))
        await docker
          .getContainer(id)
          .remove({ force: true, v: true })
          .catch(() => {});
    }
    await Promise.all(dataDirs.map(removeDataDir));
  });

  async function startTestServe(args: string[] = []): Promise<ServeProcess> {
    const dataDir = await makeDataDir('lambkin-serve-sigterm-');
    dataDirs.push(dataDir);
    const serve = await startServe(dataDir, { args });
    serves.push(serve);
    return serve;
  }

  /** Resolves once the function's environment is running an invoke, as a supervisor's stop would land. */
  async function untilBusy(serve: ServeProcess): Promise<void> {
    await until(async () => {
      const res = await request(`${serve.url}/lambkin/status`);
      const body = (await res.body.json()) as { functions: { name: string; environmentCounts: { busy: number } }[] };
      return body.functions.some((fn) => fn.name === 'slow' && fn.environmentCounts.busy === 1);
    }, 60_000);
  }

  async function containersOf(pid: number): Promise<string[]> {
    const containers = await docker.listContainers({ all: true, filters: { label: [`${OWNER_PID_LABEL}=${pid}`, `${OWNER_HOST_LABEL}=${hostname()}`] } });
    return containers.map((container) => container.Id);
  }

  it('lets a 4 s invoke answer its caller, then exits 0 leaving no container behind; --allowed-host names are served', { timeout: 120_000 }, async () => {
    const serve = await startTestServe(['--allowed-host', 'lambda.dev.example']);
    const status = (host: string) => request(`${serve.url}/lambkin/status`, { headers: { Host: host } });
    const allowed = await status('lambda.dev.example:9000');
    expect(allowed.statusCode).toBe(200);
    await allowed.body.dump();
    const foreign = await status('evil.example:9000');
    expect(foreign.statusCode).toBe(403);
    expect(((await foreign.body.json()) as { message: string }).message).toContain(
      'start lambkin serve with --allowed-host evil.example (or LAMBKIN_ALLOWED_HOSTS=evil.example)',
    );

    const lambda = sdkFor(serve.url);
    try {
      await createSlow(lambda);
      const invoke = invokeSlow(lambda, 4_000);
      await untilBusy(serve);
      const signalled = performance.now();
      // Straight to the process: execa's own kill() would follow up with SIGKILL after 5 s.
      process.kill(serve.pid, 'SIGTERM');

      const output = await invoke;
      expect(output.StatusCode).toBe(200);
      expect(payloadJson(output)).toEqual({ slept: 4_000 });
      expect(performance.now() - signalled).toBeGreaterThan(2_000); // it did wait for the function
    } finally {
      lambda.destroy();
    }
    expect((await serve.child).exitCode).toBe(0);
    expect(serve.output()).toMatch(/"inFlight":1,"graceSeconds":30,"msg":"letting requests in flight finish"/);
    expect(serve.output()).toMatch(/"msg":"stopped"/);
    expect(await containersOf(serve.pid)).toEqual([]);
  });

  it('with --shutdown-grace 1, an invoke still running then is answered with a 503 ServiceException', { timeout: 120_000 }, async () => {
    const serve = await startTestServe(['--shutdown-grace', '1']);
    const lambda = sdkFor(serve.url);
    try {
      await createSlow(lambda);
      const invoke = invokeSlow(lambda, 6_000);
      await untilBusy(serve);
      process.kill(serve.pid, 'SIGTERM');
      const error = await failure(invoke);
      expect(error.name).toBe('ServiceException');
      expect(error.$metadata.httpStatusCode).toBe(503);
      expect(error.message).toBe('lambkin serve is shutting down: this request was still running when the 1 s shutdown grace period ran out');
    } finally {
      lambda.destroy();
    }
    expect((await serve.child).exitCode).toBe(0);
    expect(serve.output()).toMatch(/"unfinished":1,"msg":"shutdown grace ran out: requests still running were answered with ServiceException"/);
    expect(await containersOf(serve.pid)).toEqual([]);
  });

  it('a second Ctrl-C does not wait for the grace: it exits at once', { timeout: 120_000 }, async () => {
    const serve = await startTestServe();
    const lambda = sdkFor(serve.url);
    try {
      await createSlow(lambda);
      const invoke = invokeSlow(lambda, 10_000).catch((error: Error) => error);
      await untilBusy(serve);
      process.kill(serve.pid, 'SIGINT');
      await until(() => serve.output().includes('letting requests in flight finish'));
      const second = performance.now();
      process.kill(serve.pid, 'SIGINT');
      expect((await serve.child).exitCode).toBe(1);
      expect(performance.now() - second).toBeLessThan(2_000);
      expect(serve.output()).toContain('second Ctrl-C while stopping: exiting now');
      expect(await invoke).toBeInstanceOf(Error); // cut off: the person asked for it
    } finally {
      lambda.destroy();
    }
  });
});

/** Polls `probe` every 25 ms until it holds (or fails after `timeoutMs`). */
async function until(probe: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(25);
  }
}
