// The Runtime API server against a runtime played by plain HTTP calls: every answer runtime-api.md lists.
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Client, Pool } from 'undici';
import { RuntimeApiServer, type InvokeOutcome } from '../src/runtime-api/index.ts';

let server: RuntimeApiServer;
let api: Client;
let address: string;

beforeEach(async () => {
  server = new RuntimeApiServer();
  address = await server.listen();
  api = new Client(`http://${address}`);
});

afterEach(async () => {
  await api.close();
  await server.close();
});

async function call(method: 'GET' | 'POST' | 'PUT', path: string, body?: string | Buffer, headers: Record<string, string> = {}) {
  const res = await api.request({ method, path: `/2018-06-01${path}`, body, headers });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) };
}

/** A new runtime process: reset() cut the old one's connections, so the new one opens its own. */
async function newRuntime() {
  server.reset();
  await api.close().catch(() => {});
  api = new Client(`http://${address}`);
}

/** Plays a runtime that takes the next event. */
async function nextEvent() {
  return call('GET', '/runtime/invocation/next');
}

describe('the invoke cycle', () => {
  it('long-polls /next until an event arrives, with every Lambda-Runtime header', async () => {
    let answered = false;
    const next = nextEvent().then((r) => ((answered = true), r));
    const init = await server.waitForInit();
    expect(init.kind).toBe('ready');
    await new Promise((r) => setTimeout(r, 50));
    expect(answered).toBe(false);

    const outcome = server.invoke({
      requestId: 'req-1',
      payload: '{"hello":"world"}',
      timeoutMs: 3000,
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:012345678912:function:fn',
      traceId: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
      clientContext: '{"custom":{"a":1}}',
      cognitoIdentity: '{"cognitoIdentityId":"id","cognitoIdentityPoolId":"pool"}',
    });
    const event = await next;
    expect(event.status).toBe(200);
    expect(event.text).toBe('{"hello":"world"}');
    expect(event.headers['lambda-runtime-aws-request-id']).toBe('req-1');
    const deadline = Number(event.headers['lambda-runtime-deadline-ms']);
    expect(deadline).toBeGreaterThan(Date.now() + 2000);
    expect(deadline).toBeLessThanOrEqual(Date.now() + 3000);
    expect(event.headers['lambda-runtime-invoked-function-arn']).toBe('arn:aws:lambda:us-east-1:012345678912:function:fn');
    expect(event.headers['lambda-runtime-trace-id']).toContain('Root=1-5759e988');
    expect(event.headers['lambda-runtime-client-context']).toBe('{"custom":{"a":1}}');
    expect(event.headers['lambda-runtime-cognito-identity']).toContain('pool');
    expect(event.headers['content-type']).toBe('application/json');
    // Sized, not chunked, as Lambda sends it: a minimal runtime may read exactly Content-Length bytes.
    expect(event.headers['content-length']).toBe('17');
    expect(event.headers['transfer-encoding']).toBeUndefined();

    const posted = await call('POST', '/runtime/invocation/req-1/response', '<b>hi</b>', { 'content-type': 'text/html' });
    expect(posted.status).toBe(202);
    expect(posted.json()).toEqual({ status: 'OK' });
    const result = await outcome;
    expect(result.kind).toBe('success');
    if (result.kind !== 'success') return;
    expect(result.body.toString()).toBe('<b>hi</b>');
    expect(result.contentType).toBe('text/html');
  });

  it('leaves out headers it does not know, and gives each invoke a fresh UUID when none is given', async () => {
    const next = nextEvent();
    void server.invoke({ payload: '{}', timeoutMs: 1000 });
    const event = await next;
    expect(event.headers['lambda-runtime-aws-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(event.headers['lambda-runtime-trace-id']).toBeUndefined();
    expect(event.headers['lambda-runtime-client-context']).toBeUndefined();
  });

  it('counts Init Duration from markInitStart(), unless the init has already ended', async () => {
    await new Promise((r) => setTimeout(r, 150));
    server.markInitStart();
    const next = nextEvent();
    const init = await server.waitForInit();
    expect(init.kind === 'ready' && init.initDurationMs).toBeLessThan(100);
    server.markInitStart();
    expect(await server.waitForInit()).toBe(init);
    void server.invoke({ payload: '{}', timeoutMs: 1000 });
    await next;
  });

  it('queues invokes that arrive while the runtime is busy and serves them in order', async () => {
    const outcomes = [1, 2, 3].map((n) => server.invoke({ requestId: `r${n}`, payload: String(n), timeoutMs: 3000 }));
    for (const n of [1, 2, 3]) {
      const event = await nextEvent();
      expect(event.text).toBe(String(n));
      await call('POST', `/runtime/invocation/r${n}/response`, `"done ${n}"`);
    }
    const bodies = (await Promise.all(outcomes)).map((o) => (o.kind === 'success' ? o.body.toString() : o.kind));
    expect(bodies).toEqual(['"done 1"', '"done 2"', '"done 3"']);
  });

  it('passes a function error on with the runtime body and error type', async () => {
    const next = nextEvent();
    const outcome = server.invoke({ requestId: 'e1', payload: '{}', timeoutMs: 1000 });
    await next;
    const body = JSON.stringify({ errorType: 'TypeError', errorMessage: 'bad', trace: ['TypeError: bad', '    at x'] });
    const posted = await call('POST', '/runtime/invocation/e1/error', body, {
      'lambda-runtime-function-error-type': 'TypeError',
      'lambda-runtime-function-xray-error-cause': '{"exceptions":[]}',
    });
    expect(posted.status).toBe(202);
    const result = await outcome;
    expect(result.kind).toBe('function-error');
    if (result.kind !== 'function-error') return;
    expect(result.error.errorType).toBe('TypeError');
    expect(result.error.errorMessage).toBe('bad');
    expect(JSON.parse(result.body.toString()).trace).toHaveLength(2);
    expect(result.xrayErrorCause).toBe('{"exceptions":[]}');
  });

  it('takes the error type from the header when the body is not JSON', async () => {
    const next = nextEvent();
    const outcome = server.invoke({ requestId: 'e2', payload: '{}', timeoutMs: 1000 });
    await next;
    await call('POST', '/runtime/invocation/e2/error', 'plain words', { 'lambda-runtime-function-error-type': 'Runtime.Custom' });
    const result = await outcome;
    expect(result.kind === 'function-error' && result.error).toEqual({ errorType: 'Runtime.Custom', errorMessage: 'plain words' });
  });
});

describe('refusals', () => {
  it('answers 400 InvalidRequestID for an id that is not in flight', async () => {
    const next = nextEvent();
    void server.invoke({ requestId: 'good', payload: '{}', timeoutMs: 1000 });
    await next;
    const res = await call('POST', '/runtime/invocation/not-it/response', '{}');
    expect(res.status).toBe(400);
    expect(res.json()).toEqual({ errorMessage: 'Invalid request ID', errorType: 'InvalidRequestID' });
  });

  it('answers 403 InvalidStateTransition to a second answer for the same invoke', async () => {
    const next = nextEvent();
    void server.invoke({ requestId: 'once', payload: '{}', timeoutMs: 1000 });
    await next;
    expect((await call('POST', '/runtime/invocation/once/response', '1')).status).toBe(202);
    const again = await call('POST', '/runtime/invocation/once/error', '{}');
    expect(again.status).toBe(403);
    expect(again.json().errorType).toBe('InvalidStateTransition');
  });

  it('accepts /init/error before the first /next and refuses it after', async () => {
    const queued = server.invoke({ requestId: 'q', payload: '{}', timeoutMs: 1000 });
    const body = JSON.stringify({ errorType: 'Runtime.ImportModuleError', errorMessage: "Error: Cannot find module 'x'" });
    const res = await call('POST', '/runtime/init/error', body, { 'lambda-runtime-function-error-type': 'Runtime.ImportModuleError' });
    expect(res.status).toBe(202);
    const init = await server.waitForInit();
    expect(init.kind).toBe('init-error');
    // The invoke that waited for this init gets the init error.
    const outcome = await queued;
    expect(outcome.kind).toBe('init-error');
    expect(outcome.kind === 'init-error' && outcome.error.errorType).toBe('Runtime.ImportModuleError');

    await newRuntime();
    const next = nextEvent();
    void server.invoke({ payload: '{}', timeoutMs: 1000 });
    await next;
    const late = await call('POST', '/runtime/init/error', body);
    expect(late.status).toBe(403);
    expect(late.json().errorType).toBe('InvalidStateTransition');
  });

  it('answers 404 for an unknown path and 405 for a wrong method', async () => {
    expect((await call('GET', '/runtime/nothing')).status).toBe(404);
    const wrong = await call('POST', '/runtime/invocation/next', '');
    expect(wrong.status).toBe(405);
    expect((await call('PUT', '/runtime/init/error', '')).status).toBe(405);
    const outside = await api.request({ method: 'GET', path: '/other' });
    await outside.body.text();
    expect(outside.statusCode).toBe(404);
  });

  it('refuses a response over 6 MB with 413 and tells the caller Function.ResponseSizeTooLarge', async () => {
    const next = nextEvent();
    const outcome = server.invoke({ requestId: 'big', payload: '{}', timeoutMs: 5000 });
    await next;
    const size = 6_291_556 + 10;
    const res = await call('POST', '/runtime/invocation/big/response', Buffer.alloc(size, 0x61));
    expect(res.status).toBe(413);
    expect(res.json()).toEqual({
      errorMessage: 'Exceeded maximum allowed payload size (6291556 bytes).',
      errorType: 'RequestEntityTooLarge',
    });
    const result = await outcome;
    expect(result.kind).toBe('function-error');
    if (result.kind !== 'function-error') return;
    expect(result.error).toEqual({
      errorType: 'Function.ResponseSizeTooLarge',
      // test_lambda.snapshot.json, test_lambda_too_large_response: AWS no longer says the answer's size.
      errorMessage: 'Response payload size exceeded maximum allowed payload size (6291556 bytes).',
    });
    // The environment goes on serving.
    const again = nextEvent();
    const second = server.invoke({ requestId: 'small', payload: '{}', timeoutMs: 1000 });
    await again;
    await call('POST', '/runtime/invocation/small/response', '"ok"');
    expect((await second).kind).toBe('success');
  });

  it('accepts a response of exactly the limit', async () => {
    const next = nextEvent();
    const outcome = server.invoke({ requestId: 'edge', payload: '{}', timeoutMs: 5000 });
    await next;
    const res = await call('POST', '/runtime/invocation/edge/response', Buffer.alloc(6_291_556, 0x61));
    expect(res.status).toBe(202);
    const result = await outcome;
    expect(result.kind === 'success' && result.body.length).toBe(6_291_556);
  });

  it('answers 400 InvalidFunctionResponseMode for an unknown response mode', async () => {
    const next = nextEvent();
    void server.invoke({ requestId: 'm', payload: '{}', timeoutMs: 1000 });
    await next;
    const res = await call('POST', '/runtime/invocation/m/response', 'x', { 'lambda-runtime-function-response-mode': 'sideways' });
    expect(res.status).toBe(400);
    expect(res.json().errorType).toBe('InvalidFunctionResponseMode');
  });

  it('answers pong on /ping', async () => {
    const res = await call('GET', '/ping');
    expect(res.text).toBe('pong');
  });
});

describe('timeouts and exits', () => {
  it('times an invoke out with Sandbox.Timedout and asks the owner to kill the runtime', async () => {
    const killed: string[] = [];
    server.on('timeout', (id: string) => killed.push(id));
    const next = nextEvent();
    const outcome = server.invoke({ requestId: 'slow', payload: '{}', timeoutMs: 200 });
    await next;
    const result = await outcome;
    expect(result.kind).toBe('timeout');
    expect(result.kind === 'timeout' && result.error).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: 'RequestId: slow Error: Task timed out after 0.20 seconds',
    });
    expect(killed).toEqual(['slow']);
    expect(server.needsReset).toBe(true);
    const late = await call('POST', '/runtime/invocation/slow/response', '"late"');
    expect(late.status).toBe(403);
  });

  it('says "Runtime exited without providing a reason" for a runtime that exits with status 0, as Lambda does', async () => {
    // test_lambda.snapshot.json, test_lambda_handler_exit: a handler's sys.exit(0) answers exactly this.
    const next = nextEvent();
    const outcome = server.invoke({ requestId: 'exits', payload: '{}', timeoutMs: 5000 });
    await next;
    server.runtimeExited('exit status 0');
    const result = await outcome;
    expect(result.kind === 'runtime-exit' && result.error).toEqual({
      errorType: 'Runtime.ExitError',
      errorMessage: 'RequestId: exits Error: Runtime exited without providing a reason',
    });
  });

  it('ends an invoke with Runtime.ExitError when the runtime dies, and serves again after reset()', async () => {
    const next = nextEvent();
    const outcome = server.invoke({ requestId: 'dies', payload: '{}', timeoutMs: 5000 });
    await next;
    server.runtimeExited('exit status 1');
    const result = await outcome;
    expect(result.kind === 'runtime-exit' && result.error).toEqual({
      errorType: 'Runtime.ExitError',
      errorMessage: 'RequestId: dies Error: Runtime exited with error: exit status 1',
    });

    await newRuntime();
    const queued = server.invoke({ requestId: 'after', payload: '"x"', timeoutMs: 5000 });
    const event = await nextEvent();
    expect(event.text).toBe('"x"');
    await call('POST', '/runtime/invocation/after/response', '"fine"');
    expect((await queued).kind).toBe('success');
  });

  it("does not take a dead runtime's late /next for the new runtime's first", async () => {
    const stale = new Client(`http://${address}`);
    const late = stale.request({ method: 'GET', path: '/2018-06-01/runtime/invocation/next' }).catch((e: Error) => e);
    await server.waitForInit();
    server.runtimeExited('signal: killed');
    server.reset();
    expect(await late).toBeInstanceOf(Error);
    await stale.close().catch(() => {});
    const outcome = server.invoke({ requestId: 'fresh', payload: '"f"', timeoutMs: 2000 });
    const event = await nextEvent();
    expect(event.headers['lambda-runtime-aws-request-id']).toBe('fresh');
    await call('POST', '/runtime/invocation/fresh/response', '1');
    expect((await outcome).kind).toBe('success');
  });

  it('fails the invokes waiting on an init when the runtime exits before its first /next', async () => {
    const waiting = [server.invoke({ payload: '{}', timeoutMs: 1000 }), server.invoke({ payload: '{}', timeoutMs: 1000 })];
    server.runtimeExited('exit status 127');
    const outcomes = await Promise.all(waiting);
    expect(outcomes.map((o) => o.kind)).toEqual(['runtime-exit', 'runtime-exit']);
    expect((await server.waitForInit()).kind).toBe('runtime-exit');
  });

  it('does not hand an event to a /next whose connection was dropped', async () => {
    const dropped = new Client(`http://${address}`);
    const controller = new AbortController();
    const abandoned = dropped.request({ method: 'GET', path: '/2018-06-01/runtime/invocation/next', signal: controller.signal });
    await server.waitForInit();
    controller.abort();
    await expect(abandoned).rejects.toThrow();
    await dropped.close();
    await new Promise((r) => setTimeout(r, 50));
    const outcome = server.invoke({ requestId: 'kept', payload: '"k"', timeoutMs: 2000 });
    const event = await nextEvent();
    expect(event.headers['lambda-runtime-aws-request-id']).toBe('kept');
    await call('POST', '/runtime/invocation/kept/response', '1');
    expect((await outcome).kind).toBe('success');
  });
});

describe('streamed responses', () => {
  /** Streams a response the way a runtime does: chunked, with the error trailers declared up front. */
  function streamResponse(requestId: string, mode = 'streaming') {
    const [host, port] = [address.split(':')[0], Number(address.split(':')[1])];
    const req = httpRequest({
      host,
      port,
      method: 'POST',
      path: `/2018-06-01/runtime/invocation/${requestId}/response`,
      headers: {
        'Lambda-Runtime-Function-Response-Mode': mode,
        'Content-Type': 'application/vnd.awslambda.http-integration-response',
        'Transfer-Encoding': 'chunked',
        Trailer: 'Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body',
      },
    });
    const answered = new Promise<number>((resolve, reject) => {
      req.once('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.once('error', reject);
    });
    answered.catch(() => {}); // tests that cut the stream short do not await the answer
    return { req, answered };
  }

  async function firstChunk(outcome: InvokeOutcome): Promise<string> {
    if (outcome.kind !== 'streaming') throw new Error(`expected a stream, got ${outcome.kind}`);
    const [chunk] = (await once(outcome.body, 'data')) as [Buffer];
    outcome.body.resume();
    return String(chunk);
  }

  it('hands the caller each chunk as it arrives, before the runtime has finished', async () => {
    const next = nextEvent();
    const outcome = server.invoke({ requestId: 's1', payload: '{}', timeoutMs: 5000 });
    await next;
    const { req, answered } = streamResponse('s1');
    req.write('first;');
    const result = await outcome;
    expect(result.kind).toBe('streaming');
    if (result.kind !== 'streaming') return;
    expect(result.contentType).toBe('application/vnd.awslambda.http-integration-response');
    const chunks: string[] = [];
    result.body.on('data', (c: Buffer) => chunks.push(String(c)));
    // The first chunk reaches the caller while the runtime is still streaming (the request is not ended yet).
    await vi.waitFor(() => expect(chunks.join('')).toBe('first;'));
    req.end('second');
    const end = await result.end;
    expect(chunks.join('')).toBe('first;second');
    expect(end.trailers).toEqual({});
    expect(await answered).toBe(202);
  });

  it('reports a mid-stream error from the trailers', async () => {
    const next = nextEvent();
    const outcome = server.invoke({ requestId: 's2', payload: '{}', timeoutMs: 5000 });
    await next;
    const { req, answered } = streamResponse('s2');
    req.write('partial');
    const first = await firstChunk(await outcome);
    expect(first).toBe('partial');
    const errorBody = { errorType: 'Error', errorMessage: 'stream broke', trace: [] };
    req.addTrailers({
      'Lambda-Runtime-Function-Error-Type': 'Error',
      'Lambda-Runtime-Function-Error-Body': Buffer.from(JSON.stringify(errorBody)).toString('base64'),
    });
    req.end();
    const result = await outcome;
    if (result.kind !== 'streaming') throw new Error('not a stream');
    const end = await result.end;
    expect(end.trailers.errorType).toBe('Error');
    expect(end.trailers.errorBody).toEqual(errorBody);
    expect(await answered).toBe(202);
  });

  it('lets a stream run past 6 MB', async () => {
    const next = nextEvent();
    const outcome = server.invoke({ requestId: 's3', payload: '{}', timeoutMs: 10_000 });
    await next;
    const { req, answered } = streamResponse('s3');
    const chunk = Buffer.alloc(1024 * 1024, 0x62);
    req.write(chunk);
    const result = await outcome;
    if (result.kind !== 'streaming') throw new Error('not a stream');
    let total = 0;
    result.body.on('data', (c: Buffer) => (total += c.length));
    for (let i = 1; i < 8; i++) req.write(chunk);
    req.end();
    await result.end;
    expect(total).toBe(8 * 1024 * 1024);
    expect(await answered).toBe(202);
  });

  it('ends a stream with Sandbox.Timedout in its trailers when the deadline passes', async () => {
    const next = nextEvent();
    const outcome = server.invoke({ requestId: 's4', payload: '{}', timeoutMs: 300 });
    await next;
    const { req } = streamResponse('s4');
    req.on('error', () => {});
    req.write('slow start');
    const result = await outcome;
    if (result.kind !== 'streaming') throw new Error('not a stream');
    result.body.resume();
    const end = await result.end;
    expect(end.trailers.errorType).toBe('Sandbox.Timedout');
    req.destroy();
  });

  it('still finishes the invoke when the caller stops reading the stream', async () => {
    const next = nextEvent();
    const outcome = server.invoke({ requestId: 's5', payload: '{}', timeoutMs: 5000 });
    await next;
    const { req, answered } = streamResponse('s5');
    req.write('a');
    const result = await outcome;
    if (result.kind !== 'streaming') throw new Error('not a stream');
    result.body.destroy();
    for (let i = 0; i < 40; i++) req.write(Buffer.alloc(64 * 1024));
    req.end();
    expect(await answered).toBe(202);
    expect((await result.end).trailers).toEqual({});
  });
});

describe('several invokes at once (maxConcurrency, as Lambda Managed Instances)', () => {
  let multi: RuntimeApiServer;
  let workers: Pool;
  const opened: Array<{ close(): Promise<void> }> = [];

  /** A server that hands out up to `maxConcurrency` invokes at once, and a runtime with a connection per request. */
  async function startMulti(maxConcurrency: number) {
    multi = new RuntimeApiServer({ maxConcurrency });
    opened.push(multi);
    workers = new Pool(`http://${await multi.listen()}`, { connections: 16 });
    opened.push(workers); // after the server, whose close() cuts the polls still parked
  }

  afterEach(async () => {
    for (const each of opened.splice(0)) await each.close();
  });

  async function ask(method: 'GET' | 'POST', path: string, body?: string, headers: Record<string, string> = {}) {
    const res = await workers.request({ method, path: `/2018-06-01${path}`, body, headers });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) };
  }

  const next = () => ask('GET', '/runtime/invocation/next');
  const idOf = (event: { headers: Record<string, unknown> }) => String(event.headers['lambda-runtime-aws-request-id']);
  const answer = (requestId: string, body: string) => ask('POST', `/runtime/invocation/${requestId}/response`, body);
  const settled = (promise: Promise<unknown>) => Promise.race([promise.then(() => true), pause(100).then(() => false)]);

  it('hands each parked /next a different event, at most maxConcurrency in flight, answered by id in any order', async () => {
    await startMulti(3);
    const polls = [next(), next(), next(), next()];
    await multi.waitForInit();
    const outcomes = [1, 2, 3, 4, 5].map((n) => multi.invoke({ requestId: `r${n}`, payload: `{"n":${n}}`, timeoutMs: 5000 }));
    const firstThree = await Promise.all(polls.slice(0, 3));
    // First come, first served: the three oldest polls get the three oldest events, one each.
    expect(firstThree.map(idOf)).toEqual(['r1', 'r2', 'r3']);
    expect(firstThree.map((event) => event.text)).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
    expect(multi.inFlightCount).toBe(3);
    expect(multi.isBusy).toBe(true);
    // The fourth poll waits while three are in flight.
    expect(await settled(polls[3]!)).toBe(false);

    expect((await answer('r2', '"two"')).status).toBe(202);
    expect(idOf(await polls[3]!)).toBe('r4');
    expect(multi.inFlightCount).toBe(3);
    for (const [id, body] of [
      ['r3', '"three"'],
      ['r4', '"four"'],
      ['r1', '"one"'],
    ] as const) {
      expect((await answer(id, body)).status).toBe(202);
    }
    expect(multi.isBusy).toBe(false);
    const bodies = (await Promise.all(outcomes.slice(0, 4))).map((o) => (o.kind === 'success' ? o.body.toString() : o.kind));
    expect(bodies).toEqual(['"one"', '"two"', '"three"', '"four"']);

    // The fifth waited for a /next; it gets it now.
    const fifth = await next();
    expect(idOf(fifth)).toBe('r5');
    await answer('r5', '"five"');
    expect((await outcomes[4]!).kind).toBe('success');
  });

  it('answers 400 for an id never handed out and 403 for a second answer, while others are in flight', async () => {
    await startMulti(2);
    const polls = [next(), next()];
    const outcomes = ['a', 'b'].map((requestId) => multi.invoke({ requestId, payload: '{}', timeoutMs: 5000 }));
    await Promise.all(polls);
    expect((await answer('nobody', '1')).status).toBe(400);
    expect((await answer('a', '1')).status).toBe(202);
    const again = await ask('POST', '/runtime/invocation/a/error', '{}');
    expect(again.status).toBe(403);
    expect(again.json().errorType).toBe('InvalidStateTransition');
    // b is untouched by the refusals.
    expect((await answer('b', '2')).status).toBe(202);
    expect((await Promise.all(outcomes)).map((o) => o.kind)).toEqual(['success', 'success']);
  });

  it('times an invoke out alone: Sandbox.Timedout for its caller, the others served, the runtime not killed', async () => {
    await startMulti(2);
    const kills: string[] = [];
    const timeouts: string[] = [];
    multi.on('timeout', (id: string) => kills.push(id));
    multi.on('invoke-timeout', (id: string) => timeouts.push(id));
    const polls = [next(), next()];
    const slow = multi.invoke({ requestId: 'slow', payload: '{}', timeoutMs: 200 });
    const fine = multi.invoke({ requestId: 'fine', payload: '{}', timeoutMs: 5000 });
    await Promise.all(polls);

    const timedOut = await slow;
    expect(timedOut.kind === 'timeout' && timedOut.error).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: 'RequestId: slow Error: Task timed out after 0.20 seconds',
    });
    expect(timeouts).toEqual(['slow']);
    expect(kills).toEqual([]);
    expect(multi.needsReset).toBe(false);
    expect((await answer('slow', '"late"')).status).toBe(403);

    expect((await answer('fine', '"ok"')).status).toBe(202);
    expect((await fine).kind).toBe('success');
    // Its slot is free again: a new invoke is handed out.
    const poll = next();
    const after = multi.invoke({ requestId: 'after', payload: '{}', timeoutMs: 5000 });
    expect(idOf(await poll)).toBe('after');
    await answer('after', '1');
    expect((await after).kind).toBe('success');
  });

  it('fails every invoke in flight and queued with Runtime.ExitError when the runtime exits, and serves again after reset()', async () => {
    await startMulti(3);
    const polls = [next(), next(), next()];
    const inFlight = ['x1', 'x2', 'x3'].map((requestId) => multi.invoke({ requestId, payload: '{}', timeoutMs: 5000 }));
    await Promise.all(polls);
    const queued = multi.invoke({ requestId: 'x4', payload: '"q"', timeoutMs: 5000 });
    multi.runtimeExited('exit status 1');
    const outcomes = await Promise.all([...inFlight, queued]);
    expect(outcomes.map((o) => o.kind === 'runtime-exit' && o.error)).toEqual(
      ['x1', 'x2', 'x3', 'x4'].map((id) => ({
        errorType: 'Runtime.ExitError',
        errorMessage: `RequestId: ${id} Error: Runtime exited with error: exit status 1`,
      })),
    );
    expect(multi.needsReset).toBe(true);
    expect(multi.inFlightCount).toBe(0);

    // A new runtime: reset() cut the old one's connections, so it opens its own.
    multi.reset();
    workers = new Pool(`http://${multi.address}`, { connections: 16 });
    opened.push(workers);
    const poll = next();
    const after = multi.invoke({ requestId: 'x5', payload: '"again"', timeoutMs: 5000 });
    expect((await poll).text).toBe('"again"');
    await answer('x5', '1');
    expect((await after).kind).toBe('success');
  });

  it('fails a queued invoke when the runtime exits while none is in flight', async () => {
    await startMulti(2);
    const poll = next();
    const first = multi.invoke({ requestId: 'y1', payload: '{}', timeoutMs: 5000 });
    await poll;
    await answer('y1', '1');
    expect((await first).kind).toBe('success');
    // The runtime has not asked again: this one queues, and dies with the runtime.
    const queued = multi.invoke({ requestId: 'y2', payload: '{}', timeoutMs: 5000 });
    multi.runtimeExited('signal: killed');
    const outcome = await queued;
    expect(outcome.kind === 'runtime-exit' && outcome.error.errorMessage).toBe('RequestId: y2 Error: Runtime exited with error: signal: killed');
  });

  it('fails the init on the first /init/error and refuses a second one 403', async () => {
    await startMulti(4);
    const waiting = multi.invoke({ payload: '{}', timeoutMs: 1000 });
    const body = JSON.stringify({ errorType: 'Runtime.ImportModuleError', errorMessage: 'no module' });
    expect((await ask('POST', '/runtime/init/error', body)).status).toBe(202);
    expect((await ask('POST', '/runtime/init/error', body)).status).toBe(403);
    expect((await multi.waitForInit()).kind).toBe('init-error');
    expect((await waiting).kind).toBe('init-error');
  });

  it('streams two responses at once, and drains and refuses a timed-out one so the runtime keeps its connection', async () => {
    await startMulti(2);
    const polls = [next(), next()];
    const quick = multi.invoke({ requestId: 'quick', payload: '{}', timeoutMs: 5000 });
    const late = multi.invoke({ requestId: 'late', payload: '{}', timeoutMs: 300 });
    await Promise.all(polls);
    const quickStream = streamTo(multi.address, 'quick');
    const lateStream = streamTo(multi.address, 'late');
    quickStream.req.write('q1');
    lateStream.req.write('l1');
    const [quickOutcome, lateOutcome] = await Promise.all([quick, late]);
    if (quickOutcome.kind !== 'streaming' || lateOutcome.kind !== 'streaming') throw new Error('not streams');
    const quickText = text(quickOutcome.body);
    const lateText = text(lateOutcome.body);

    expect((await lateOutcome.end).trailers.errorType).toBe('Sandbox.Timedout');
    expect(await lateText).toBe('l1');
    // The runtime lives on: the rest of its late stream is read and refused.
    lateStream.req.end('l2');
    expect(await lateStream.answered).toBe(403);

    quickStream.req.end('q2');
    expect(await quickStream.answered).toBe(202);
    expect(await quickText).toBe('q1q2');
    expect((await quickOutcome.end).trailers).toEqual({});
  });

  it('refuses a second /next with one invoke at a time (the default), while one waits or an invoke is in flight', async () => {
    await startMulti(1);
    const first = next();
    await multi.waitForInit();
    const waiting = await next();
    expect(waiting.status).toBe(403);
    expect(waiting.json().errorMessage).toBe('State transition is not allowed: /next is already waiting');
    const outcome = multi.invoke({ requestId: 'one', payload: '{}', timeoutMs: 5000 });
    await first;
    expect(multi.isBusy).toBe(true);
    const busy = await next();
    expect(busy.status).toBe(403);
    expect(busy.json().errorMessage).toBe('State transition is not allowed: /next called before the current invoke was answered');
    await answer('one', '1');
    expect((await outcome).kind).toBe('success');
  });

  it('takes only a whole number of at least 1', () => {
    for (const maxConcurrency of [0, -1, 1.5, Number.NaN]) {
      expect(() => new RuntimeApiServer({ maxConcurrency })).toThrow(RangeError);
    }
  });
});

function pause(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Reads a stream to its end as text. */
async function text(body: NodeJS.ReadableStream): Promise<string> {
  let all = '';
  for await (const chunk of body) all += String(chunk);
  return all;
}

/** Streams a response to `address` as a runtime does, on a connection of its own. */
function streamTo(address: string, requestId: string) {
  const colon = address.lastIndexOf(':');
  const req = httpRequest({
    host: address.slice(0, colon),
    port: Number(address.slice(colon + 1)),
    method: 'POST',
    path: `/2018-06-01/runtime/invocation/${requestId}/response`,
    agent: false,
    headers: { 'Lambda-Runtime-Function-Response-Mode': 'streaming', 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' },
  });
  const answered = new Promise<number>((resolve, reject) => {
    req.once('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', reject);
  });
  return { req, answered };
}
