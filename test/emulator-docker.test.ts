// The emulator in real containers, as users run it: `FROM lambkin/nodejs:24`, `docker run -p ...:8080`, curl.
// The RIE's end-to-end cases for a Node.js function and for a shell custom runtime, and each RIE defect.
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, docker, removeAllContainers, removeBuiltImages, runContainer, type RunningContainer } from './support/containers.ts';
import { requireDocker } from './support/docker.ts';
import { repoRoot } from './support/emulator-process.ts';
import { invokeRie } from './support/rie-invoke.ts';

const fixtures = join(repoRoot, 'test', 'fixtures', 'emulator');
const shellFixtures = join(repoRoot, 'test', 'fixtures', 'shell-runtime');
// Tagged with this process's pid: two runs of the suite on one engine must not remove each other's images.
const tag = (name: string) => `lambkin-test/${name}:${process.pid}`;
const NODE_IMAGE = tag('emulator-node');
const SHELL_IMAGE = tag('emulator-shell');
const HTML_IMAGE = tag('emulator-html');
const EMPTY_PROVIDED_IMAGE = tag('emulator-no-bootstrap');
const QUICKSTART_IMAGE = tag('quickstart');

const docked = await requireDocker();

const invoke = (container: RunningContainer, body?: string, headers?: Record<string, string>) => invokeRie(container.invokeUrl, body, headers);

describe.skipIf(!docked)('the emulator in containers', () => {
  beforeAll(async () => {
    await Promise.all([
      buildImage(QUICKSTART_IMAGE, {
        Dockerfile: 'FROM lambkin/nodejs:24\nCOPY index.js ${LAMBDA_TASK_ROOT}/\nCMD ["index.handler"]\n',
        'index.js': 'exports.handler = async (event) => ({ statusCode: 200, body: `hello ${event.name}` });\n',
      }),
      buildImage(NODE_IMAGE, {
        Dockerfile: 'FROM lambkin/nodejs:24\nCOPY index.mjs ${LAMBDA_TASK_ROOT}/\nCMD ["index.echo"]\n',
        'index.mjs': { copyFrom: join(fixtures, 'index.mjs') },
      }),
      buildImage(SHELL_IMAGE, {
        Dockerfile: 'FROM lambkin/provided:latest\nCOPY bootstrap function.sh ${LAMBDA_TASK_ROOT}/\nCMD ["function.handler"]\n',
        bootstrap: { copyFrom: join(shellFixtures, 'bootstrap') },
        'function.sh': { copyFrom: join(shellFixtures, 'function.sh') },
      }),
      buildImage(HTML_IMAGE, {
        Dockerfile: 'FROM lambkin/provided:latest\nCOPY bootstrap ${LAMBDA_TASK_ROOT}/\n',
        bootstrap: { copyFrom: join(fixtures, 'bootstrap-html') },
      }),
      buildImage(EMPTY_PROVIDED_IMAGE, { Dockerfile: 'FROM lambkin/provided:latest\n' }),
    ]);
  }, 240_000);
  afterEach(removeAllContainers);
  afterAll(async () => {
    await removeAllContainers();
    await removeBuiltImages();
  });

  it('runs a user\'s FROM lambkin/nodejs:24 image with CMD ["index.handler"]', async () => {
    const container = await runContainer(QUICKSTART_IMAGE);
    const res = await invoke(container, '{"name":"lambkin"}');
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ statusCode: 200, body: 'hello lambkin' });
    const logs = await container.waitForLogs(/REPORT RequestId/);
    expect(logs).toMatch(/START RequestId: [0-9a-f-]{36} Version: \$LATEST/);
    expect(logs).toMatch(
      /REPORT RequestId: [0-9a-f-]{36}\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 3008 MB\tMax Memory Used: \d+ MB\tInit Duration: [\d.]+ ms/,
    );
  });

  describe("the RIE's end-to-end cases, Node.js", () => {
    it('keeps = in a variable, serves two invokes in a row, and names the ARN after the function', async () => {
      const container = await runContainer(NODE_IMAGE, { env: { MyEnv: '4=4' } });
      const first = (await invoke(container, '{"n":1}')).json();
      const second = (await invoke(container, '{"n":2}')).json();
      expect([first.event.n, second.event.n]).toEqual([1, 2]);
      expect(first.myEnv).toBe('4=4');
      expect(first.invokedFunctionArn).toBe('arn:aws:lambda:us-east-1:123456789012:function:test_function');
    });

    it('takes the function name and timeout from the environment', async () => {
      const container = await runContainer(NODE_IMAGE, { env: { AWS_LAMBDA_FUNCTION_NAME: 'MyFunction', AWS_LAMBDA_FUNCTION_TIMEOUT: '10' } });
      const answer = (await invoke(container)).json();
      expect(answer.functionName).toBe('MyFunction');
      expect(answer.invokedFunctionArn).toBe('arn:aws:lambda:us-east-1:123456789012:function:MyFunction');
      expect(answer.remainingMs).toBeGreaterThan(9000);
      expect(answer.remainingMs).toBeLessThanOrEqual(10_000);
    });

    it('times out a 5 s handler at 1 s with Sandbox.Timedout, then serves again', async () => {
      const container = await runContainer(NODE_IMAGE, { args: ['index.sleepy'], env: { AWS_LAMBDA_FUNCTION_TIMEOUT: '1' } });
      const res = await invoke(container, '{"ms":5000}');
      expect(res.headers['x-amz-function-error']).toBe('Unhandled');
      expect(res.json().errorType).toBe('Sandbox.Timedout');
      expect(res.json().errorMessage).toMatch(/Task timed out after 1\.00 seconds$/);
      expect((await invoke(container, '{"ms":1}')).json().slept).toBe(1);
    });

    it('returns a thrown exception with X-Amz-Function-Error', async () => {
      const container = await runContainer(NODE_IMAGE, { args: ['index.throws'] });
      const res = await invoke(container);
      expect(res.headers['x-amz-function-error']).toBe('Unhandled');
      expect(res.json()).toMatchObject({ errorType: 'TypeError', errorMessage: 'something broke' });
    });

    it('hands the base64 client context through', async () => {
      const container = await runContainer(NODE_IMAGE);
      const encoded = Buffer.from(JSON.stringify({ custom: { foo: 'bar' } })).toString('base64');
      expect((await invoke(container, '{}', { 'X-Amz-Client-Context': encoded })).json().clientContext.custom).toEqual({ foo: 'bar' });
    });
  });

  describe("the RIE's end-to-end cases, shell custom runtime on lambkin/provided", () => {
    it('runs the bootstrap from /var/task and serves two invokes in a row', async () => {
      const container = await runContainer(SHELL_IMAGE);
      const first = (await invoke(container, '{"n":1}')).json();
      const second = (await invoke(container, '{"n":2}')).json();
      expect([first.event.n, second.event.n]).toEqual([1, 2]);
      expect(first.requestId).not.toBe(second.requestId);
    });

    it('reports the shell function failure as a function error', async () => {
      const container = await runContainer(SHELL_IMAGE, { args: ['function.fail'] });
      const res = await invoke(container);
      expect(res.headers['x-amz-function-error']).toBe('Unhandled');
      expect(res.json().errorMessage).toContain('cannot process event');
    });
  });

  describe('the RIE defects, in a container', () => {
    it('1: queues concurrent invokes', async () => {
      const container = await runContainer(NODE_IMAGE, { args: ['index.sleepy'] });
      const answers = await Promise.all([1, 2, 3].map(() => invoke(container, '{"ms":100}')));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    });

    it('4: a runtime exit gives Runtime.ExitError and a fresh runtime', async () => {
      const container = await runContainer(NODE_IMAGE, { args: ['index.exits'] });
      const res = await invoke(container);
      expect(res.json().errorType).toBe('Runtime.ExitError');
      expect(res.json().errorMessage).toContain('exit status 7');
      await container.waitForLogs('Runtime exited: exit status 7');
      expect((await invoke(container)).json().errorType).toBe('Runtime.ExitError');
    });

    it("5: keeps the runtime's Content-Type", async () => {
      const container = await runContainer(HTML_IMAGE);
      const res = await invoke(container);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    });

    it('6: streams', async () => {
      const container = await runContainer(NODE_IMAGE, { args: ['index.streams'] });
      const started = performance.now();
      const res = await request(container.invokeUrl, { method: 'POST', body: '{"gapMs":800}' });
      const arrivals: number[] = [];
      let text = '';
      for await (const chunk of res.body) {
        arrivals.push(performance.now() - started);
        text += String(chunk);
      }
      expect(text).toBe('first\nsecond\n');
      expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThan(500);
    });

    it("7: measures Max Memory Used from the container's cgroup, and Init Duration", async () => {
      const container = await runContainer(NODE_IMAGE, {
        args: ['index.hog'],
        env: { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512', INIT_SLEEP_MS: '200' },
        extra: ['--memory', '512m'],
      });
      await invoke(container, '{"mb":100}');
      const logs = await container.waitForLogs(/REPORT RequestId/);
      const report = logs.split('\n').find((l) => l.startsWith('REPORT'))!;
      const used = Number(/Max Memory Used: (\d+) MB/.exec(report)?.[1]);
      expect(used).toBeGreaterThanOrEqual(100);
      expect(used).toBeLessThan(512);
      expect(Number(/Init Duration: ([\d.]+) ms/.exec(report)?.[1])).toBeGreaterThanOrEqual(200);
    });

    it('8: initialises at container start', async () => {
      const container = await runContainer(NODE_IMAGE, { env: { INIT_SLEEP_MS: '1500' } });
      // The init ends on its own, with no invoke to start it.
      await container.waitForLogs('init done after 1500 ms');
      expect((await invoke(container)).ms).toBeLessThan(1000);
    });

    it('9: a provided image with no bootstrap fails fast with a clear message', async () => {
      const container = await runContainer(EMPTY_PROVIDED_IMAGE);
      expect(await container.logs()).toContain("Couldn't find a valid bootstrap");
      const res = await invoke(container);
      expect(res.ms).toBeLessThan(1000);
      expect(res.json().errorType).toBe('Runtime.InvalidEntrypoint');
    });
  });

  it('stops cleanly on docker stop (SIGTERM), well before the 10 s kill', async () => {
    const container = await runContainer(NODE_IMAGE);
    await invoke(container);
    const started = performance.now();
    await docker('stop', container.id);
    expect(performance.now() - started).toBeLessThan(5000);
    const { stdout } = await docker('inspect', '-f', '{{.State.ExitCode}}', container.id);
    expect(stdout.trim()).toBe('0');
  });
});
