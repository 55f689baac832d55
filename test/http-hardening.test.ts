// The Lambda API and the emulator's invoke endpoint against what a web page can make a browser send (an Origin
// header, a foreign Host after DNS rebinding) and against clients that never finish a request, while the real
// clients (@aws-sdk/client-lambda, curl, the AWS CLI when installed) keep working. The service runs in-process with
// functions run by our runtime as child processes (no Docker); the emulator runs as its bundle, as in an image.
import { GetFunctionCommand, InvokeCommand, LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { execa } from 'execa';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BrowserGuard } from '../src/http/browser-guard.ts';
import { CONNECTIONS_CHECKING_INTERVAL_MS, HEADERS_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS } from '../src/http/server-timeouts.ts';
import { LambdaApiServer, SqliteFunctionStore } from '../src/service/index.ts';
import { ServiceMetrics } from '../src/service/metrics.ts';
import { ConcurrencyScheduler } from '../src/scheduling/index.ts';
import { nodeRuntimeBootstrap, repoRoot, startEmulator, stopAllEmulators, type RunningEmulator } from './support/emulator-process.ts';
import { failure, makeDataDir, removeDataDir } from './support/local-service.ts';
import { ProcessInvoker } from './support/process-invoker.ts';
import { destroyRawConnections, rawConnection } from './support/raw-http.ts';
import { makeZip } from '../tools/zip.ts';
import { createActiveFunction, payloadJson, ROLE } from './support/lambda-fixtures.ts';

const HANDLER = `
export const handler = async (event) => {
  if (event.sleepMs) await new Promise((resolve) => setTimeout(resolve, event.sleepMs));
  return { received: event };
};
`;
const ZIP = makeZip([{ name: 'index.mjs', content: HANDLER }]);
/** A CreateFunction body as a page would post it: JSON sent as text/plain, which needs no CORS preflight. */
const FORGED_CREATE = JSON.stringify({
  FunctionName: 'planted',
  Role: ROLE,
  Runtime: 'nodejs24.x',
  Handler: 'index.handler',
  Code: { ZipFile: ZIP.toString('base64') },
});
const ORIGIN_REFUSAL =
  "Request refused: it carries an Origin header (http://evil.example), which only browsers send; lambkin's Lambda API does not serve cross-site requests";

/** The AWS CLI is tested when this machine has it (it is not a dependency). */
const awsCli = await execa('aws', ['--version'], { reject: false }).then(
  (result) => result.exitCode === 0,
  () => false,
);

let dataDir: string;
let store: SqliteFunctionStore;
let invoker: ProcessInvoker;
let server: LambdaApiServer;
let lambda: LambdaClient;
/** host:port of the service, as a client would put it in Host. */
let hostPort: string;

beforeAll(async () => {
  dataDir = await makeDataDir('lambkin-hardening-');
  store = new SqliteFunctionStore(dataDir);
  invoker = new ProcessInvoker();
  const scheduler = new ConcurrencyScheduler();
  const metrics = new ServiceMetrics({
    pool: () => ({ memoryBudgetMb: 1024, memoryInUseMb: 0, environments: [], provisioned: [] }),
    scheduler: () => scheduler.snapshot(),
  });
  server = new LambdaApiServer({ store, invoker, scheduler, metrics, allowedHosts: ['lambda.dev.example', '*.lambkin.test'] });
  const endpoint = await server.listen();
  hostPort = new URL(endpoint).host;
  lambda = new LambdaClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
  await createActiveFunction(lambda, {
    FunctionName: 'echo',
    Role: ROLE,
    Runtime: 'nodejs24.x',
    Handler: 'index.handler',
    Timeout: 60,
    Code: { ZipFile: ZIP },
  });
});

afterEach(destroyRawConnections);

afterAll(async () => {
  lambda?.destroy();
  await server?.close();
  await invoker?.close();
  store?.close();
  await removeDataDir(dataDir);
});

/** A request the way a browser (or a test pretending to be one) sends it. */
async function send(path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const res = await request(`${server.url}${path}`, { method: options.method ?? 'POST', headers: options.headers, body: options.body });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) as { Type: string; message: string } };
}

const invocationsOf = (name: string) => invoker.calls.filter((call) => call.fn === name).length;

describe('the Lambda API refuses browser-driven requests', () => {
  it('refuses a forged CreateFunction and Invoke carrying an Origin header, and creates and runs nothing', async () => {
    const headers = { 'Content-Type': 'text/plain', Origin: 'http://evil.example' };
    const create = await send('/2015-03-31/functions', { headers, body: FORGED_CREATE });
    expect(create.status).toBe(403);
    expect(create.headers['x-amzn-errortype']).toBe('AccessDeniedException');
    expect(create.json()).toEqual({ Type: 'User', message: ORIGIN_REFUSAL });
    const missing = await failure(lambda.send(new GetFunctionCommand({ FunctionName: 'planted' })));
    expect(missing.name).toBe('ResourceNotFoundException');

    const before = invocationsOf('echo');
    const invoke = await send('/2015-03-31/functions/echo/invocations', { headers, body: '{"from":"a web page"}' });
    expect(invoke.status).toBe(403);
    expect(invoke.json().message).toBe(ORIGIN_REFUSAL);
    expect(invocationsOf('echo')).toBe(before);
  });

  it('refuses a foreign Host (DNS rebinding) on the same operations, saying how to allow the name', async () => {
    const headers = { 'Content-Type': 'text/plain', Host: 'evil.example:9000' };
    const create = await send('/2015-03-31/functions', { headers, body: FORGED_CREATE });
    expect(create.status).toBe(403);
    expect(create.headers['x-amzn-errortype']).toBe('AccessDeniedException');
    expect(create.json().message).toMatch(/^Request refused: its Host header \(evil\.example:9000\) names evil\.example, which is not a name of this machine/);
    expect(create.json().message).toContain('allow it with LAMBKIN_ALLOWED_HOSTS=evil.example');
    const listed = await lambda.send(new ListFunctionsCommand({}));
    expect(listed.Functions?.map((fn) => fn.FunctionName)).toEqual(['echo']);

    const before = invocationsOf('echo');
    const invoke = await send('/2015-03-31/functions/echo/invocations', { headers, body: '{}' });
    expect(invoke.status).toBe(403);
    expect(invocationsOf('echo')).toBe(before);
  });

  it('accepts the names a rebinding page cannot own, and those the user allowed', async () => {
    for (const host of [
      hostPort,
      `localhost:${new URL(server.url).port}`,
      'app.localhost',
      '[::1]:9000',
      'host.docker.internal:9000',
      'lambkin:9000',
      `${hostname()}:9000`,
      'lambda.dev.example:9000',
      'fn.lambkin.test',
    ]) {
      const res = await send('/2015-03-31/functions/echo/invocations', { headers: { Host: host }, body: `{"host":"${host}"}` });
      expect({ host, status: res.status }).toEqual({ host, status: 200 });
    }
    for (const host of ['other.dev.example', 'lambkin.test.evil.example', 'evil.', '127.0.0.1.nip.io']) {
      const res = await send('/2015-03-31/functions/echo/invocations', { headers: { Host: host }, body: '{}' });
      expect({ host, status: res.status }).toEqual({ host, status: 403 });
    }
  });

  it('applies both rules to GET /metrics and /lambkin/status, which tools read without either header', async () => {
    for (const path of ['/metrics', '/lambkin/status']) {
      expect((await send(path, { method: 'GET' })).status).toBe(200);
      const fromPage = await send(path, { method: 'GET', headers: { Origin: 'http://evil.example' } });
      expect(fromPage.status).toBe(403);
      expect(fromPage.json().message).toBe(ORIGIN_REFUSAL);
      expect((await send(path, { method: 'GET', headers: { Host: 'evil.example' } })).status).toBe(403);
    }
  });

  it('keeps serving the AWS SDK and curl on the same server', async () => {
    const output = await lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('{"via":"sdk"}') }));
    expect(payloadJson(output)).toEqual({ received: { via: 'sdk' } });

    const curl = await execa('curl', ['-sS', '-X', 'POST', '-d', '{"via":"curl"}', `${server.url}/2015-03-31/functions/echo/invocations`]);
    expect(JSON.parse(curl.stdout)).toEqual({ received: { via: 'curl' } });
    const curlForged = await execa('curl', [
      '-sS',
      '-H',
      'Origin: http://evil.example',
      '-d',
      '{}',
      '-w',
      '\n%{http_code}',
      `${server.url}/2015-03-31/functions/echo/invocations`,
    ]);
    expect(curlForged.stdout.split('\n').at(-1)).toBe('403');
  });

  it.skipIf(!awsCli)('keeps serving the AWS CLI', { timeout: 30_000 }, async () => {
    const env = { AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', AWS_DEFAULT_REGION: 'us-east-1', AWS_CONFIG_FILE: '/dev/null', AWS_PAGER: '' };
    const list = await execa('aws', ['lambda', 'list-functions', '--endpoint-url', server.url], { env });
    expect((JSON.parse(list.stdout) as { Functions: { FunctionName: string }[] }).Functions.map((fn) => fn.FunctionName)).toContain('echo');
    const outFile = join(dataDir, 'cli-out.json');
    // AWS CLI v1 sends --payload as is; v2 needs to be told it is not base64.
    const v2 = /aws-cli\/2/.test((await execa('aws', ['--version'], { env })).stdout);
    await execa(
      'aws',
      [
        'lambda',
        'invoke',
        '--function-name',
        'echo',
        '--payload',
        '{"via":"cli"}',
        ...(v2 ? ['--cli-binary-format', 'raw-in-base64-out'] : []),
        '--endpoint-url',
        server.url,
        outFile,
      ],
      { env },
    );
    expect(JSON.parse(await readFile(outFile, 'utf8'))).toEqual({ received: { via: 'cli' } });
  });
});

describe('the BrowserGuard rule', () => {
  const guard = new BrowserGuard({ serverName: 'test', machineName: 'build-box.corp.example', howToAllow: () => '' });
  it.each([
    ['127.0.0.1:9000', true],
    ['10.1.2.3', true],
    ['[::1]:9000', true],
    ['[fe80::1]', true],
    ['localhost', true],
    ['LOCALHOST.:9000', true],
    ['api.localhost:9000', true],
    ['host.docker.internal:9000', true],
    ['my-function:8080', true],
    ['build-box.corp.example:9000', true],
    ['evil.example:9000', false],
    ['localhost.evil.example', false],
    ['corp.example', false],
    ['[not-an-ip]', false],
  ])('Host %s → %s', (host, accepted) => {
    expect(guard.accepts(host)).toBe(accepted);
  });
});

describe('the emulator refuses browser-driven requests', () => {
  let emulator: RunningEmulator;
  const fixtures = join(repoRoot, 'test', 'fixtures', 'emulator');

  beforeAll(async () => {
    emulator = await startEmulator({
      args: [nodeRuntimeBootstrap, 'index.echo'],
      env: { LAMBDA_TASK_ROOT: fixtures, LAMBKIN_ALLOWED_HOSTS: 'fn.example.test' },
      cwd: fixtures,
    });
  });
  afterAll(stopAllEmulators);

  const starts = () => emulator.output().match(/^START RequestId:/gm)?.length ?? 0;

  it('refuses an Origin header and a foreign Host with 403 AccessDeniedException, and runs nothing', async () => {
    const before = starts();
    const forged = await request(emulator.invokeUrl, { method: 'POST', headers: { 'Content-Type': 'text/plain', Origin: 'http://evil.example' }, body: '{}' });
    expect(forged.statusCode).toBe(403);
    expect(forged.headers['x-amzn-errortype']).toBe('AccessDeniedException');
    expect(await forged.body.json()).toEqual({
      Type: 'User',
      message:
        "Request refused: it carries an Origin header (http://evil.example), which only browsers send; lambkin's emulator does not serve cross-site requests",
    });

    const rebound = await request(emulator.invokeUrl, { method: 'POST', headers: { Host: 'evil.example:9000' }, body: '{}' });
    expect(rebound.statusCode).toBe(403);
    const { message } = (await rebound.body.json()) as { message: string };
    expect(message).toContain('its Host header (evil.example:9000)');
    expect(message).toContain("allow it with the container's environment variable LAMBKIN_ALLOWED_HOSTS=evil.example");
    expect(starts()).toBe(before);
  });

  it('still serves curl, undici and a host allowed by LAMBKIN_ALLOWED_HOSTS', async () => {
    const curl = await execa('curl', ['-sS', '-d', '{"via":"curl"}', emulator.invokeUrl]);
    expect(JSON.parse(curl.stdout).event).toEqual({ via: 'curl' });
    const allowed = await request(emulator.invokeUrl, { method: 'POST', headers: { Host: 'fn.example.test:9000' }, body: '{"via":"undici"}' });
    expect(allowed.statusCode).toBe(200);
    expect(((await allowed.body.json()) as { event: unknown }).event).toEqual({ via: 'undici' });
  });
});

describe('connections that never finish their request', () => {
  it('are closed by the Lambda API and the emulator within headersTimeout + the check interval, while a long invoke is served', {
    timeout: 60_000,
  }, async () => {
    const fixtures = join(repoRoot, 'test', 'fixtures', 'emulator');
    const emulator = await startEmulator({ args: [nodeRuntimeBootstrap, 'index.echo'], env: { LAMBDA_TASK_ROOT: fixtures }, cwd: fixtures });
    const stalled = [
      ...(await Promise.all(Array.from({ length: 50 }, () => rawConnection(server.url)))),
      ...(await Promise.all(Array.from({ length: 10 }, () => rawConnection(emulator.url)))),
    ];
    // Half a request line each, and nothing more, ever.
    for (const connection of stalled) connection.write('POST /2015-03-31/functions/echo/invo');
    // Meanwhile a real invoke that waits for its answer longer than headersTimeout, with no byte flowing.
    const sleepMs = HEADERS_TIMEOUT_MS + 2 * CONNECTIONS_CHECKING_INTERVAL_MS;
    const longInvoke = lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from(JSON.stringify({ sleepMs })) }));

    const closedAfter = await Promise.all(stalled.map((connection) => connection.closed));
    expect(Math.min(...closedAfter)).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
    expect(Math.max(...closedAfter)).toBeLessThan(HEADERS_TIMEOUT_MS + CONNECTIONS_CHECKING_INTERVAL_MS + 1_500);
    // Node says why before it closes.
    expect(stalled[0]!.received()).toContain('HTTP/1.1 408 Request Timeout');

    const output = await longInvoke;
    expect(output.StatusCode).toBe(200);
    expect(payloadJson(output)).toEqual({ received: { sleepMs } });
    // The emulator serves too, after all that.
    const res = await request(emulator.invokeUrl, { method: 'POST', body: '{"after":"stall"}' });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    await emulator.stop();
  });

  it('an idle kept-alive connection is closed after keepAliveTimeout', { timeout: 20_000 }, async () => {
    const connection = await rawConnection(server.url);
    connection.write(`GET /lambkin/status HTTP/1.1\r\nHost: ${hostPort}\r\n\r\n`);
    await connection.waitFor('"functions"');
    const answeredAt = performance.now();
    await connection.closed;
    const idleMs = performance.now() - answeredAt;
    expect(idleMs).toBeGreaterThanOrEqual(KEEP_ALIVE_TIMEOUT_MS - 50);
    // Node keeps the socket a little (keepAliveTimeoutBuffer, 1 s) past the Keep-Alive timeout it announces.
    expect(idleMs).toBeLessThan(KEEP_ALIVE_TIMEOUT_MS + 2_500);
    expect(connection.received()).toContain(`Keep-Alive: timeout=${KEEP_ALIVE_TIMEOUT_MS / 1000}`);
  });
});
