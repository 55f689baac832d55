// The emulator as a process, the way a container runs it: the RIE's own end-to-end cases, one test per RIE
// defect showing ours does not have it, and bad input. Container-level tests live in emulator-docker.test.ts.
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { repoRoot, startEmulator, stopAllEmulators, nodeRuntimeBootstrap, type RunningEmulator } from './support/emulator-process.ts';
import { invokeRie } from './support/rie-invoke.ts';

const fixtures = join(repoRoot, 'test', 'fixtures', 'emulator');
const shellFixtures = join(repoRoot, 'test', 'fixtures', 'shell-runtime');

afterEach(stopAllEmulators);

/** An emulator running our Node.js runtime on test/fixtures/emulator/index.mjs. */
function nodeFunction(handler: string, env: Record<string, string> = {}) {
  return startEmulator({
    args: [nodeRuntimeBootstrap, `index.${handler}`],
    env: { LAMBDA_TASK_ROOT: fixtures, ...env },
    cwd: fixtures,
  });
}

const invoke = (emulator: RunningEmulator, body?: string | Buffer, headers?: Record<string, string>) => invokeRie(emulator.invokeUrl, body, headers);

describe("the RIE's end-to-end cases", () => {
  it('hands the function an environment variable with = in its value intact', async () => {
    const emulator = await nodeFunction('echo', { MyEnv: '4=4' });
    expect((await invoke(emulator)).json().myEnv).toBe('4=4');
  });

  it('serves two invokes in a row', async () => {
    const emulator = await nodeFunction('echo');
    const first = await invoke(emulator, '{"n":1}');
    const second = await invoke(emulator, '{"n":2}');
    expect([first.json().event.n, second.json().event.n]).toEqual([1, 2]);
  });

  it('gives the default and a custom function name in the invoked ARN and the context', async () => {
    const byDefault = await nodeFunction('echo');
    const answer = (await invoke(byDefault)).json();
    expect(answer.invokedFunctionArn).toBe('arn:aws:lambda:us-east-1:123456789012:function:test_function');
    expect(answer.functionName).toBe('test_function');

    const named = await nodeFunction('echo', { AWS_LAMBDA_FUNCTION_NAME: 'MyFunction' });
    const custom = (await invoke(named)).json();
    expect(custom.invokedFunctionArn).toBe('arn:aws:lambda:us-east-1:123456789012:function:MyFunction');
    expect(custom.functionName).toBe('MyFunction');
  });

  it.each([
    [3, '3'],
    [10, '10'],
    [300, undefined],
  ])('reports remaining time close to a %i s timeout', async (seconds, setting) => {
    const emulator = await nodeFunction('echo', setting ? { AWS_LAMBDA_FUNCTION_TIMEOUT: setting } : {});
    const remaining = (await invoke(emulator)).json().remainingMs;
    expect(remaining).toBeLessThanOrEqual(seconds * 1000);
    expect(remaining).toBeGreaterThan(seconds * 1000 - 1000);
  });

  it('returns a thrown exception as errorType, errorMessage and its stack', async () => {
    const emulator = await nodeFunction('throws');
    const res = await invoke(emulator);
    expect(res.status).toBe(200);
    const error = res.json();
    expect(error.errorType).toBe('TypeError');
    expect(error.errorMessage).toBe('something broke');
    expect(error.trace.join('\n')).toContain('index.mjs');
  });

  it('hands a base64 client context to the handler, whose custom object it sees', async () => {
    const emulator = await nodeFunction('echo');
    const context = { custom: { foo: 'bar' }, client: { installation_id: 'i-1' } };
    const res = await invoke(emulator, '{}', { 'X-Amz-Client-Context': Buffer.from(JSON.stringify(context)).toString('base64') });
    expect(res.json().clientContext.custom).toEqual({ foo: 'bar' });
  });

  it('hands X-Amzn-Trace-Id to the runtime as the trace id', async () => {
    const emulator = await nodeFunction('echo');
    const trace = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
    expect((await invoke(emulator, '{}', { 'X-Amzn-Trace-Id': trace })).json().traceId).toBe(trace);
  });

  it('listens where --runtime-interface-emulator-address says, also as --flag=value, and ignores unknown flags', async () => {
    const emulator = await startEmulator({
      args: ['--some-future-flag', '--log-level=debug', nodeRuntimeBootstrap, 'index.echo'],
      env: { LAMBDA_TASK_ROOT: fixtures },
      cwd: fixtures,
    });
    expect((await invoke(emulator)).status).toBe(200);
  });

  it('runs the shell custom runtime from the task root with no arguments', async () => {
    const emulator = await startEmulator({
      args: [],
      env: { LAMBDA_TASK_ROOT: shellFixtures, LAMBDA_RUNTIME_DIR: '/nonexistent', _HANDLER: 'function.handler' },
      cwd: shellFixtures,
    });
    const res = await invoke(emulator, '{"shell":true}');
    expect(res.json().event).toEqual({ shell: true });
  });
});

describe('the RIE defects we do not have', () => {
  it('1: queues concurrent invokes instead of crashing', async () => {
    const emulator = await nodeFunction('sleepy');
    const answers = await Promise.all([1, 2, 3].map(() => invoke(emulator, '{"ms":200}')));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers.map((a) => a.json().slept)).toEqual([200, 200, 200]);
  });

  it('2: times out with Sandbox.Timedout JSON and X-Amz-Function-Error, then serves with a fresh runtime', async () => {
    const emulator = await nodeFunction('sleepy', { AWS_LAMBDA_FUNCTION_TIMEOUT: '1' });
    const first = await invoke(emulator, '{"ms":5000}');
    expect(first.ms).toBeLessThan(2500);
    expect(first.headers['x-amz-function-error']).toBe('Unhandled');
    expect(first.json()).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: expect.stringMatching(/^RequestId: [0-9a-f-]{36} Error: Task timed out after 1\.00 seconds$/),
    });
    const next = await invoke(emulator, '{"ms":10}');
    expect(next.status).toBe(200);
    expect(next.json().slept).toBe(10);
  });

  it('3: sends X-Amz-Function-Error: Unhandled on a function error', async () => {
    const emulator = await nodeFunction('throws');
    expect((await invoke(emulator)).headers['x-amz-function-error']).toBe('Unhandled');
  });

  it('4: answers Runtime.ExitError JSON when the runtime exits, and the next invoke gets a fresh runtime', async () => {
    const emulator = await nodeFunction('exits');
    const res = await invoke(emulator);
    expect(res.headers['x-amz-function-error']).toBe('Unhandled');
    expect(res.json()).toEqual({
      errorType: 'Runtime.ExitError',
      errorMessage: expect.stringMatching(/^RequestId: [0-9a-f-]{36} Error: Runtime exited with error: exit status 7$/),
    });
    const again = await invoke(emulator);
    expect(again.json().errorType).toBe('Runtime.ExitError');
  });

  it('4b: a crashed runtime is replaced by a new process', async () => {
    const emulator = await nodeFunction('pid');
    const before = (await invoke(emulator)).json().pid;
    process.kill(before, 'SIGKILL');
    await emulator.waitForOutput('Runtime exited: signal: killed');
    const after = (await invoke(emulator)).json().pid;
    expect(after).not.toBe(before);
  });

  it("5: keeps the runtime's Content-Type", async () => {
    const emulator = await startEmulator({ args: [join(fixtures, 'bootstrap-html')], env: { LAMBDA_TASK_ROOT: fixtures } });
    const res = await invoke(emulator);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.text).toBe('<p>hello</p>');
  });

  it('6: passes a streamed response through as it arrives', async () => {
    const emulator = await nodeFunction('streams');
    const started = performance.now();
    const res = await request(emulator.invokeUrl, { method: 'POST', body: '{"gapMs":800}' });
    const arrivals: Array<[string, number]> = [];
    for await (const chunk of res.body) arrivals.push([String(chunk), performance.now() - started]);
    expect(res.headers['content-type']).toBe('text/plain');
    expect(arrivals.map(([c]) => c).join('')).toBe('first\nsecond\n');
    // The first chunk reached the caller well before the handler wrote the second.
    expect(arrivals[0]![0]).toBe('first\n');
    expect(arrivals.at(-1)![1] - arrivals[0]![1]).toBeGreaterThan(500);
  });

  it('7: measures Init Duration and Max Memory Used', async () => {
    const emulator = await nodeFunction('hog', { INIT_SLEEP_MS: '300', AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512' });
    await invoke(emulator, '{"mb":80}');
    await invoke(emulator, '{"mb":1}');
    await emulator.waitForOutput(/(REPORT[^\n]*\n[\s\S]*){2}/);
    const reports = emulator
      .output()
      .split('\n')
      .filter((line) => line.startsWith('REPORT'));
    const init = Number(/Init Duration: ([\d.]+) ms/.exec(reports[0]!)?.[1]);
    expect(init).toBeGreaterThanOrEqual(300);
    expect(init).toBeLessThan(5000);
    const used = Number(/Max Memory Used: (\d+) MB/.exec(reports[0]!)?.[1]);
    expect(used).toBeGreaterThanOrEqual(80);
    expect(used).toBeLessThan(512);
    expect(reports[0]).toContain('Memory Size: 512 MB');
    expect(reports[1]).not.toContain('Init Duration');
  });

  it('8: starts the runtime with the emulator, so a later first invoke does not wait for init', async () => {
    const emulator = await nodeFunction('echo', { INIT_SLEEP_MS: '1500' });
    // The init ends on its own, with no invoke to start it.
    await emulator.waitForOutput('init done after 1500 ms');
    const res = await invoke(emulator);
    expect(res.status).toBe(200);
    expect(res.ms).toBeLessThan(1000);
  });

  it('9: a missing bootstrap fails fast with a clear message', async () => {
    const emulator = await startEmulator({ args: [], env: { LAMBDA_TASK_ROOT: '/nonexistent-task', LAMBDA_RUNTIME_DIR: '/nonexistent-runtime' } });
    expect(emulator.output()).toContain("Couldn't find a valid bootstrap");
    const res = await invoke(emulator);
    expect(res.ms).toBeLessThan(1000);
    expect(res.headers['x-amz-function-error']).toBe('Unhandled');
    expect(res.json().errorType).toBe('Runtime.InvalidEntrypoint');
    expect(res.json().errorMessage).toContain('/nonexistent-task/bootstrap does not exist');
  });

  it('9b: a non-executable bootstrap fails fast with a clear message', async () => {
    const emulator = await startEmulator({ args: [join(fixtures, 'bootstrap-not-executable')] });
    const res = await invoke(emulator);
    expect(res.json().errorType).toBe('Runtime.InvalidEntrypoint');
    expect(res.json().errorMessage).toContain('is not executable');
  });
});

describe('bad input', () => {
  it('answers 400 InvalidRequestContentException to an event that is not JSON, and keeps serving', async () => {
    const emulator = await nodeFunction('echo');
    const res = await invoke(emulator, '{not json');
    expect(res.status).toBe(400);
    expect(res.headers['x-amzn-errortype']).toBe('InvalidRequestContentException');
    // In Lambda's words (test_lambda.snapshot.json, test_lambda_invoke_payload_encoding_error: Jackson's, located).
    expect(res.json().message).toBe(
      "Could not parse request body into json: Could not parse payload into json: Unexpected character ('n' (code 110)): " +
        'was expecting double-quote to start field name\n' +
        ' at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 2]',
    );
    expect((await invoke(emulator, '{"ok":1}')).json().event).toEqual({ ok: 1 });
  });

  it('delivers an empty body as {}', async () => {
    const emulator = await nodeFunction('echo');
    expect((await invoke(emulator, '')).json().event).toEqual({});
  });

  // AWS answers RequestEntityTooLargeException (the AWS CLI's output in Zac Charles, "Deep Dive: Lambda's Request
  // Payload Size Limit", 2022), as it does a CreateFunction over its limit (test_oversized_request_create_lambda).
  it('answers 413 RequestEntityTooLargeException to a body over 6 MB, and keeps serving', async () => {
    const emulator = await nodeFunction('echo');
    const res = await invoke(emulator, JSON.stringify({ big: 'x'.repeat(6_291_456) }));
    expect(res.status).toBe(413);
    expect(res.headers['x-amzn-errortype']).toBe('RequestEntityTooLargeException');
    expect(res.json().message).toBe('Request must be smaller than 6291456 bytes for the InvokeFunction operation');
    expect((await invoke(emulator)).status).toBe(200);
  });

  it('refuses a bad flag value with a clear message', async () => {
    await expect(startEmulator({ args: ['--runtime-api-address', 'nonsense'] })).rejects.toThrow(/--runtime-api-address must be host:port/);
  });

  it('answers a handler that does not exist with its init error, every time, without hanging', async () => {
    const emulator = await nodeFunction('nothingHere');
    for (let i = 0; i < 2; i++) {
      const res = await invoke(emulator);
      expect(res.headers['x-amz-function-error']).toBe('Unhandled');
      expect(res.json().errorType).toBe('Runtime.HandlerNotFound');
    }
  });

  it('answers a bootstrap that exits at once with Runtime.ExitError, every time, without hanging', async () => {
    const emulator = await startEmulator({ args: [join(fixtures, 'bootstrap-exits')] });
    for (let i = 0; i < 2; i++) {
      const res = await invoke(emulator);
      expect(res.ms).toBeLessThan(3000);
      expect(res.json().errorType).toBe('Runtime.ExitError');
      expect(res.json().errorMessage).toContain('exit status 3');
    }
  });
});

describe('shutdown', () => {
  it('stops the runtime and exits 0 on SIGTERM', async () => {
    const emulator = await nodeFunction('echo');
    await invoke(emulator);
    emulator.process.kill('SIGTERM');
    const result = await emulator.process;
    expect(result.exitCode).toBe(0);
  });
});
