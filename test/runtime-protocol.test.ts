// Our runtime's side of the Runtime API on the wire, against a scripted fake API: the headers it sends, the
// headers it reads, and what it does when the API is unreachable or answers nonsense: a clear message and an
// exit, never a hang (reference/runtime-api.md).
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startRuntime, stopAllRuntimes } from './support/runtime-process.ts';

interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  trailers: Record<string, string | undefined>;
}

/** A Runtime API that answers /next from a script and records every request the runtime makes. */
class FakeRuntimeApi {
  readonly requests: RecordedRequest[] = [];
  #server: Server;
  #script: Array<(res: ServerResponse) => void>;
  #postStatus: (url: string) => number;
  #waiters = new Set<() => void>();

  /**
   * `script[i]` answers the i-th /next; later ones are left hanging, as a real API with no events would.
   * Posts are accepted (202) unless `postStatus` says otherwise.
   */
  constructor(script: Array<(res: ServerResponse) => void>, postStatus: (url: string) => number = () => 202) {
    this.#script = script;
    this.#postStatus = postStatus;
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  async listen(): Promise<string> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    return `127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    this.requests.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks), trailers: req.trailers });
    for (const waiter of this.#waiters) waiter();
    if (req.url === '/2018-06-01/runtime/invocation/next') {
      this.#script.shift()?.(res);
      return;
    }
    const status = this.#postStatus(req.url!);
    res
      .writeHead(status, { 'content-type': 'application/json' })
      .end(status === 202 ? '{"status":"OK"}' : '{"errorType":"InternalError","errorMessage":"the API is having a bad day"}');
  }

  /** Resolves with the first recorded request matching `predicate`. */
  waitFor(predicate: (request: RecordedRequest) => boolean, timeoutMs = 10_000): Promise<RecordedRequest> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.requests.find(predicate);
        if (!found) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`No matching request; got ${this.requests.map((r) => `${r.method} ${r.url}`).join(', ')}`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    this.#server.close();
  }
}

const fakes: FakeRuntimeApi[] = [];

afterEach(async () => {
  await stopAllRuntimes();
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

/** Answers a /next with an event. */
const event =
  (requestId: string, body: unknown, headers: Record<string, string> = {}) =>
  (res: ServerResponse) =>
    res
      .writeHead(200, {
        'content-type': 'application/json',
        'lambda-runtime-aws-request-id': requestId,
        'lambda-runtime-deadline-ms': String(Date.now() + 10_000),
        ...headers,
      })
      .end(JSON.stringify(body));

async function fakeApi(script: Array<(res: ServerResponse) => void>, postStatus?: (url: string) => number): Promise<{ fake: FakeRuntimeApi; address: string }> {
  const fake = new FakeRuntimeApi(script, postStatus);
  fakes.push(fake);
  return { fake, address: await fake.listen() };
}

describe('what the runtime sends', () => {
  it('posts errors with Lambda-Runtime-Function-Error-Type, made safe for a header', async () => {
    const { fake, address } = await fakeApi([event('req-1', {})]);
    await startRuntime({ handler: 'index.fails', taskRoot: 'protocol', runtimeApi: address });
    const post = await fake.waitFor((r) => r.url === '/2018-06-01/runtime/invocation/req-1/error');
    expect(post.headers['lambda-runtime-function-error-type']).toBe('Custom%0AType');
    expect(post.headers['content-type']).toBe('application/json');
    expect(JSON.parse(post.body.toString())).toMatchObject({ errorType: 'Custom\nType', errorMessage: 'failed on purpose' });
  });

  it('posts init errors to /runtime/init/error with the error type header, then exits', async () => {
    const { fake, address } = await fakeApi([]);
    const runtime = await startRuntime({ handler: 'missing.handler', taskRoot: 'protocol', runtimeApi: address });
    const post = await fake.waitFor((r) => r.url === '/2018-06-01/runtime/init/error');
    expect(post.method).toBe('POST');
    expect(post.headers['lambda-runtime-function-error-type']).toBe('Runtime.ImportModuleError');
    expect((await runtime.exited).code).not.toBe(0);
    expect(fake.requests.some((r) => r.url.endsWith('/next'))).toBe(false);
  });

  it('streams a response as chunked with the streaming mode and trailer declarations', async () => {
    const { fake, address } = await fakeApi([event('req-s', {})]);
    await startRuntime({ handler: 'index.streams', taskRoot: 'protocol', runtimeApi: address });
    const post = await fake.waitFor((r) => r.url === '/2018-06-01/runtime/invocation/req-s/response');
    expect(post.headers).toMatchObject({
      'lambda-runtime-function-response-mode': 'streaming',
      'transfer-encoding': 'chunked',
      trailer: 'Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body',
      'content-type': 'application/octet-stream',
    });
    expect(post.body.toString()).toBe('part one;part two');
    expect(post.trailers).toEqual({});
  });

  it('sends a mid-stream failure as the error type and base64 JSON body trailers', async () => {
    const { fake, address } = await fakeApi([event('req-f', { fail: true })]);
    await startRuntime({ handler: 'index.streams', taskRoot: 'protocol', runtimeApi: address });
    const post = await fake.waitFor((r) => r.url === '/2018-06-01/runtime/invocation/req-f/response');
    expect(post.body.toString()).toBe('part one;');
    expect(post.trailers['lambda-runtime-function-error-type']).toBe('Error');
    const body = JSON.parse(Buffer.from(post.trailers['lambda-runtime-function-error-body']!, 'base64').toString());
    expect(body).toMatchObject({ errorType: 'Error', errorMessage: 'stream failed' });
    expect(body.trace[0]).toBe('Error: stream failed');
  });
});

describe('what the runtime reads', () => {
  it('exposes Lambda-Runtime-Aws-Tenant-Id as context.tenantId', async () => {
    const { fake, address } = await fakeApi([event('req-t', {}, { 'lambda-runtime-aws-tenant-id': 'tenant-blue' }), event('req-u', {})]);
    await startRuntime({ handler: 'index.tenant', taskRoot: 'protocol', runtimeApi: address });
    const withTenant = await fake.waitFor((r) => r.url.includes('/req-t/response'));
    expect(JSON.parse(withTenant.body.toString())).toEqual({ tenantId: 'tenant-blue' });
    const without = await fake.waitFor((r) => r.url.includes('/req-u/response'));
    expect(JSON.parse(without.body.toString())).toEqual({ tenantId: null });
  });

  it('logs a refused response and carries on with the next event', async () => {
    const { fake, address } = await fakeApi([event('req-a', { n: 1 }), event('req-b', { n: 2 })], (url) => (url.includes('/req-a/') ? 500 : 202));
    const runtime = await startRuntime({ handler: 'index.echo', taskRoot: 'protocol', runtimeApi: address });
    const second = await fake.waitFor((r) => r.url.includes('/req-b/response'));
    expect(JSON.parse(second.body.toString())).toEqual({ n: 2 });
    await runtime.waitForOutput('refused POST /2018-06-01/runtime/invocation/req-a/response with status 500: InternalError: the API is having a bad day');
    expect(runtime.isRunning()).toBe(true);
  });
});

describe('a broken or missing Runtime API', () => {
  it('exits with a clear message when nothing listens at the address, after a short retry', async () => {
    const { address } = await fakeApi([]);
    await Promise.all(fakes.splice(0).map((fake) => fake.close()));
    const startedAt = Date.now();
    const runtime = await startRuntime({ handler: 'index.echo', taskRoot: 'protocol', runtimeApi: address });
    const exit = await runtime.exited;
    expect(exit.code).toBe(1);
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    await runtime.waitForOutput(`Cannot reach the Runtime API at ${address}`);
    expect(runtime.stderr()).toContain('ECONNREFUSED');
  });

  it('exits with a clear message when AWS_LAMBDA_RUNTIME_API is not set', async () => {
    const runtime = await startRuntime({ handler: 'index.echo', taskRoot: 'protocol', runtimeApi: '' });
    expect((await runtime.exited).code).toBe(1);
    await runtime.waitForOutput('AWS_LAMBDA_RUNTIME_API must be host:port');
  });

  it('exits with a clear message when /next answers an error status', async () => {
    const { address } = await fakeApi([(res) => res.writeHead(500).end('internal trouble')]);
    const runtime = await startRuntime({ handler: 'index.echo', taskRoot: 'protocol', runtimeApi: address });
    expect((await runtime.exited).code).toBe(1);
    await runtime.waitForOutput('answered GET /runtime/invocation/next with status 500: internal trouble');
  });

  it('exits with a clear message when /next has no request id', async () => {
    const { address } = await fakeApi([(res) => res.writeHead(200).end('{}')]);
    const runtime = await startRuntime({ handler: 'index.echo', taskRoot: 'protocol', runtimeApi: address });
    expect((await runtime.exited).code).toBe(1);
    await runtime.waitForOutput('without a Lambda-Runtime-Aws-Request-Id header');
  });

  it('exits with a clear message when the API answers something that is not HTTP', async () => {
    const { address } = await fakeApi([
      (res) => {
        res.socket?.end('this is not HTTP at all\r\n\r\n');
      },
    ]);
    const runtime = await startRuntime({ handler: 'index.echo', taskRoot: 'protocol', runtimeApi: address });
    expect((await runtime.exited).code).toBe(1);
    await runtime.waitForOutput(`lambkin runtime: The Runtime API at ${address} answered GET /runtime/invocation/next with something that is not valid HTTP`);
  });
});
