// `lambkin serve`, `lambkin invoke` and `lambkin logs` as a user runs them: bin/lambkin as child processes (Node 24
// first on PATH), a temp data dir, a free port (--port 0: the listening line says which), the real
// @aws-sdk/client-lambda and real Docker. Every serve is killed and every container it owned (found by its owner
// pid label) is removed in afterEach/afterAll, also when a test fails.
import { GetFunctionCommand, LambdaClient, PublishVersionCommand } from '@aws-sdk/client-lambda';
import Dockerode from 'dockerode';
import { execa } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OWNER_HOST_LABEL, OWNER_PID_LABEL } from '../src/environments/labels.ts';
import { requireDocker } from './support/docker.ts';
import { lambkinBin as lambkin, startServe as startServeProcess, withNode24, type ServeProcess } from '../tools/serve-process.ts';
import { makeZip } from '../tools/zip.ts';
import { createActiveFunction, invokeJson, ROLE } from './support/lambda-fixtures.ts';

const RIE_PATH = '/2015-03-31/functions/function/invocations';

const HANDLER = `
export const handler = async (event) => {
  console.log('handler saw ' + JSON.stringify(event));
  if (event.fail) throw new Error('asked to fail');
  return { echo: event };
};
`;
const ZIP = makeZip([{ name: 'index.mjs', content: HANDLER }]);

const docker = new Dockerode();
const dataDirs: string[] = [];
/** Every serve's pid, so that afterAll removes whatever containers any of them left. */
const servePids = new Set<number>();

const running = new Set<ServeProcess>();
/** Serves a single test started (the shared one lives until afterAll). */
const startedByTest = new Set<ServeProcess>();

async function startServe(dataDir: string, extra: string[] = []): Promise<ServeProcess> {
  const serve = await startServeProcess(dataDir, { args: extra, onSpawn: (pid) => servePids.add(pid) });
  running.add(serve);
  return serve;
}

/** A serve that lives for one test: afterEach kills it if the test did not stop it. */
async function startTestServe(dataDir: string, extra: string[] = []): Promise<ServeProcess> {
  const serve = await startServe(dataDir, extra);
  startedByTest.add(serve);
  return serve;
}

function sdkFor(serve: ServeProcess): LambdaClient {
  return new LambdaClient({ endpoint: serve.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
}

/** Runs `use` with an SDK client for the serve, destroyed afterwards. */
async function withSdk<T>(serve: ServeProcess, use: (lambda: LambdaClient) => Promise<T>): Promise<T> {
  const lambda = sdkFor(serve);
  try {
    return await use(lambda);
  } finally {
    lambda.destroy();
  }
}

async function createHello(lambda: LambdaClient, name: string): Promise<void> {
  await createActiveFunction(lambda, {
    FunctionName: name,
    Role: ROLE,
    Runtime: 'nodejs24.x',
    Handler: 'index.handler',
    MemorySize: 512,
    Code: { ZipFile: ZIP },
  });
}

/** The containers a serve (by its pid) owns on this machine, running or not. */
async function containersOf(pid: number): Promise<string[]> {
  const containers = await docker.listContainers({ all: true, filters: { label: [`${OWNER_PID_LABEL}=${pid}`, `${OWNER_HOST_LABEL}=${hostname()}`] } });
  return containers.map((container) => container.Id);
}

async function newDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-serve-'));
  dataDirs.push(dir);
  return dir;
}

async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value) || Date.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const runLambkin = (args: string[]) => execa(lambkin, args, { env: withNode24, reject: false });

afterEach(async () => {
  await Promise.all([...startedByTest].map((serve) => serve.stop('SIGKILL')));
  startedByTest.clear();
});

afterAll(async () => {
  await Promise.all([...running].map((serve) => serve.stop('SIGKILL')));
  for (const pid of servePids) {
    for (const id of await containersOf(pid).catch(() => []))
      await docker
        .getContainer(id)
        .remove({ force: true, v: true })
        .catch(() => {});
  }
  await Promise.all(dataDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('lambkin serve: flags and start-up failures', () => {
  it('refuses an unknown flag or a bad port with exit code 2', async () => {
    const unknown = await runLambkin(['serve', '--prot', '9000']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain("lambkin serve: Unknown option '--prot'");
    expect(unknown.stderr).toContain('usage: lambkin serve');
    const port = await runLambkin(['serve', '--port', 'ninety']);
    expect(port.exitCode).toBe(2);
    expect(port.stderr).toContain("--port must be a whole number from 0 to 65535, not 'ninety'");
  });

  it('says so and exits 1 when no Docker engine answers', async () => {
    const dataDir = await newDataDir();
    const result = await execa(lambkin, ['serve', '--port', '0', '--data-dir', dataDir], {
      env: { ...withNode24, DOCKER_HOST: `unix://${join(dataDir, 'no-docker.sock')}` },
      reject: false,
      timeout: 20_000,
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('lambkin serve: cannot start without a Docker engine');
    expect(result.stdout).not.toContain('listening');
  });

  it('lambkin invoke says when nothing listens, and lambkin logs when a function has no logs', async () => {
    const invoke = await runLambkin(['invoke', 'hello', '--endpoint', 'http://127.0.0.1:9']);
    expect(invoke.exitCode).toBe(1);
    expect(invoke.stderr).toContain('cannot reach the Lambda API at http://127.0.0.1:9');
    const logs = await runLambkin(['logs', 'hello', '--data-dir', await newDataDir()]);
    expect(logs.exitCode).toBe(1);
    expect(logs.stderr).toContain('ResourceNotFoundException');
  });
});

const docked = await requireDocker();

describe.skipIf(!docked)('lambkin serve on Docker', () => {
  let dataDir: string;
  let serve: ServeProcess;
  let lambda: LambdaClient;

  beforeAll(async () => {
    dataDir = await newDataDir();
    serve = await startServe(dataDir, ['--image', 'lambkin-example/nodejs', '--examples', '--keep-alive', '60']);
    lambda = sdkFor(serve);
    await createHello(lambda, 'hello');
  });

  afterAll(() => lambda?.destroy());

  it('prints where it listens, and runs a zip function created through the AWS SDK', { timeout: 60_000 }, async () => {
    expect(serve.output()).toContain(`lambkin serve: listening on ${serve.url} (data in ${dataDir})`);
    expect((await invokeJson(lambda, 'hello', { n: 1 })).body).toEqual({ echo: { n: 1 } });
  });

  it('answers the RIE invoke path for --image', { timeout: 60_000 }, async () => {
    const res = await request(`${serve.url}${RIE_PATH}`, { method: 'POST', body: '{"name":"serve"}' });
    expect(res.statusCode).toBe(200);
    const answer = (await res.body.json()) as { statusCode: number; body: string };
    expect(answer.statusCode).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ message: 'Hello, serve!', functionName: 'function' });
    // Registered as CreateFunction registers an image: CodeSha256 is the image's digest (a local build has no
    // RepoDigest, so its ID), and ResolvedImageUri names it.
    const id = (await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', 'lambkin-example/nodejs'])).stdout.trim().replace(/^sha256:/, '');
    const fn = await lambda.send(new GetFunctionCommand({ FunctionName: 'function' }));
    expect(fn.Configuration?.CodeSha256).toBe(id);
    expect(fn.Code?.ResolvedImageUri).toBe(`lambkin-example/nodejs@sha256:${id}`);
  });

  it('--examples registers the example images, ready to invoke through the SDK', { timeout: 60_000 }, async () => {
    const nodejs = (await invokeJson<{ body: string }>(lambda, 'hello-nodejs', { name: 'newcomer' })).body;
    expect(JSON.parse(nodejs.body)).toMatchObject({ message: 'Hello, newcomer!', functionName: 'hello-nodejs' });
    expect((await invokeJson(lambda, 'hello-shell', { name: 'newcomer' })).body).toMatchObject({
      message: 'Hello from a shell runtime',
      event: { name: 'newcomer' },
    });
  });

  it('lambkin invoke prints the result on stdout, the log tail and a function error on stderr', { timeout: 60_000 }, async () => {
    const ok = await runLambkin(['invoke', 'hello', '--endpoint', serve.url, '--payload', '{"n":2}', '--log-type', 'Tail']);
    expect(ok.exitCode).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ echo: { n: 2 } });
    expect(ok.stderr).toMatch(/START RequestId: \S+ Version: \$LATEST/);
    expect(ok.stderr).toContain('handler saw {"n":2}');
    expect(ok.stderr).toMatch(/REPORT RequestId: \S+\tDuration: /);

    const payloadFile = join(dataDir, 'fail.json');
    await writeFile(payloadFile, '{"fail":true}');
    const failed = await runLambkin(['invoke', 'hello', '--endpoint', serve.url, '--payload', `@${payloadFile}`]);
    expect(failed.exitCode).toBe(1);
    expect(JSON.parse(failed.stdout)).toMatchObject({ errorType: 'Error', errorMessage: 'asked to fail' });
    expect(failed.stderr).toContain('X-Amz-Function-Error: Unhandled');

    const missing = await runLambkin(['invoke', 'nope', '--endpoint', serve.url]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain('lambkin invoke: ResourceNotFoundException: Function not found');
  });

  it('lambkin invoke --qualifier runs a published version, as aws lambda invoke --qualifier does', { timeout: 60_000 }, async () => {
    await createHello(lambda, 'hello-versioned');
    await lambda.send(new PublishVersionCommand({ FunctionName: 'hello-versioned' }));
    const one = await runLambkin(['invoke', 'hello-versioned', '--qualifier', '1', '--endpoint', serve.url, '--payload', '{"n":4}', '--log-type', 'Tail']);
    expect(one.exitCode).toBe(0);
    expect(JSON.parse(one.stdout)).toEqual({ echo: { n: 4 } });
    expect(one.stderr).toMatch(/START RequestId: \S+ Version: 1\n/);
    const unknown = await runLambkin(['invoke', 'hello-versioned', '--qualifier', '7', '--endpoint', serve.url]);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain(
      'lambkin invoke: ResourceNotFoundException: Function not found: arn:aws:lambda:us-east-1:123456789012:function:hello-versioned:7',
    );
  });

  it('lambkin status shows the functions and their environments; /metrics counts the invokes', { timeout: 60_000 }, async () => {
    await invokeJson(lambda, 'hello', { n: 3 });
    const status = await runLambkin(['status', '--endpoint', serve.url]);
    expect(status.exitCode).toBe(0);
    expect(status.stdout).toMatch(/^FUNCTION\s+MEMORY\s+RESERVED\s+PROVISIONED\s+IN FLIGHT\s+BUSY\s+IDLE\s+STARTING\s+QUEUED\s+OLDEST$/m);
    // hello has one warm environment (keep-alive 60 s), shown under it with its short container id.
    expect(status.stdout).toMatch(/^hello\s+\d+ MB\s+-\s+-\s+0\s+0\s+1\s+0\s+0\s+-\n\s+ID\s+STATE.*\n\s+[0-9a-f]{12}\s+idle\s+on-demand/m);
    expect(status.stdout).toMatch(/concurrency: 0 in use \/ 1000 account limit/);

    const metrics = await (await request(`${serve.url}/metrics`)).body.text();
    expect(Number(/^lambkin_invocations_total\{function_name="hello"\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    expect(metrics).toMatch(/^lambkin_account_concurrency_limit 1000$/m);
  });

  it('lambkin logs prints START, the output, END and REPORT, and --follow prints new lines', { timeout: 60_000 }, async () => {
    await invokeJson(lambda, 'hello', { marker: 'logs-1' });
    // Without the log tail, the runtime's last output line may reach the file just after the answer.
    const logs = await eventually(
      () => runLambkin(['logs', 'hello', '--data-dir', dataDir]),
      (result) => result.stdout.includes('handler saw {"marker":"logs-1"}'),
    );
    expect(logs.exitCode).toBe(0);
    expect(logs.stdout).toContain('handler saw {"marker":"logs-1"}');
    expect(logs.stdout).toMatch(/^START RequestId: \S+ Version: \$LATEST$/m);
    expect(logs.stdout).toMatch(/^END RequestId: \S+$/m);
    expect(logs.stdout).toMatch(/^REPORT RequestId: \S+\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 512 MB/m);

    const follow = execa(lambkin, ['logs', 'hello', '--data-dir', dataDir, '--follow'], { env: withNode24, reject: false, buffer: false });
    try {
      let followed = '';
      follow.stdout.on('data', (chunk: Buffer) => (followed += chunk.toString('utf8')));
      await eventually(
        async () => followed,
        (text) => text.includes('logs-1'),
      );
      await invokeJson(lambda, 'hello', { marker: 'follow-2' });
      const text = await eventually(
        async () => followed,
        (seen) => seen.includes('handler saw {"marker":"follow-2"}'),
      );
      expect(text).toContain('handler saw {"marker":"follow-2"}');
      follow.kill('SIGINT');
      expect((await follow).exitCode).toBe(0);
    } finally {
      follow.kill('SIGKILL');
    }
  });
});

describe.skipIf(!docked)('lambkin serve: restarts and shutdown', () => {
  it('keeps functions across a restart, and SIGTERM (even twice) exits 0 leaving no container behind', { timeout: 90_000 }, async () => {
    const dataDir = await newDataDir();
    const first = await startTestServe(dataDir, ['--keep-alive', '60']);
    await withSdk(first, async (sdk) => {
      await createHello(sdk, 'kept');
      expect((await invokeJson(sdk, 'kept', { run: 1 })).body).toEqual({ echo: { run: 1 } });
    });
    expect(await containersOf(first.pid)).not.toHaveLength(0); // kept warm
    // A SIGTERM sent twice (a supervisor and a wrapper both forwarding it) still stops cleanly.
    first.child.kill('SIGTERM');
    expect(await first.stop('SIGTERM')).toBe(0);
    expect(await containersOf(first.pid)).toEqual([]);
    expect(first.output()).toMatch(/"msg":"stopped"/);

    const second = await startTestServe(dataDir);
    await withSdk(second, async (sdk) => {
      expect((await invokeJson(sdk, 'kept', { run: 2 })).body).toEqual({ echo: { run: 2 } });
    });
    expect(await second.stop('SIGINT')).toBe(0);
    expect(await containersOf(second.pid)).toEqual([]);
  });

  it('a serve killed with -9 leaves containers that the next serve reaps before it listens', { timeout: 90_000 }, async () => {
    const dataDir = await newDataDir();
    const killed = await startTestServe(dataDir, ['--keep-alive', '60']);
    await withSdk(killed, async (sdk) => {
      await createHello(sdk, 'orphaned');
      await invokeJson(sdk, 'orphaned', {});
    });
    await killed.stop('SIGKILL');
    const orphans = await containersOf(killed.pid);
    expect(orphans).not.toHaveLength(0);

    const next = await startTestServe(dataDir);
    expect(await containersOf(killed.pid)).toEqual([]);
    expect(await next.stop('SIGTERM')).toBe(0);
  });
});
