// Response streaming with our runtime (reference/node-runtime.md, "Response streaming"): what the caller
// receives for streamified handlers, HTTP-integration preludes, and failures reported in the trailers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InvokeOutcome, StreamTrailers } from '../src/runtime-api/index.ts';
import { describeOutcome, startRuntime, stopAllRuntimes, type RuntimeProcess } from './support/runtime-process.ts';

let runtime: RuntimeProcess;

beforeAll(async () => {
  runtime = await startRuntime({ handler: 'index.handler', taskRoot: 'streaming' });
  expect((await runtime.waitForInit()).kind).toBe('ready');
});

afterAll(stopAllRuntimes);

interface Streamed {
  contentType: string;
  body: Buffer;
  trailers: StreamTrailers;
}

const stream = (event: unknown): Promise<Streamed> => streamFrom(runtime, event);

async function streamFrom(from: RuntimeProcess, event: unknown): Promise<Streamed> {
  const outcome: InvokeOutcome = await from.invoke(event);
  if (outcome.kind !== 'streaming') throw new Error(`Expected a streamed response, got ${describeOutcome(outcome)}`);
  const chunks: Buffer[] = [];
  for await (const chunk of outcome.body) chunks.push(chunk as Buffer);
  const { trailers } = await outcome.end;
  return { contentType: outcome.contentType, body: Buffer.concat(chunks), trailers };
}

/**
 * The trailers AWS's client sends for a failed stream: Lambda-Runtime-Function-Error-Type, and
 * Lambda-Runtime-Function-Error-Body as base64 JSON {errorType, errorMessage, trace} (trace: the stack lines).
 */
function expectTrailers(result: Streamed, errorType: string, errorMessage: string): void {
  expect(result.trailers.errorType).toBe(errorType);
  const body = result.trailers.errorBody;
  expect(Object.keys(body ?? {})).toEqual(['errorType', 'errorMessage', 'trace']);
  expect(body).toMatchObject({ errorType, errorMessage });
  expect(body?.trace?.[0]).toBe(`${errorType}: ${errorMessage}`);
}

/** Splits an HTTP-integration body into its JSON prelude and the bytes after the 8 NUL separator. */
function splitPrelude(body: Buffer): { prelude: unknown; rest: string } {
  const separator = body.indexOf(Buffer.alloc(8));
  expect(separator).toBeGreaterThan(0);
  return { prelude: JSON.parse(body.subarray(0, separator).toString()), rest: body.subarray(separator + 8).toString() };
}

describe('a streamified handler', () => {
  it('streams what it writes, as application/octet-stream by default', async () => {
    const result = await stream({ case: 'plain' });
    expect(result).toEqual({ contentType: 'application/octet-stream', body: Buffer.from('hello world'), trailers: {} });
  });

  it('can set the content type before the first write', async () => {
    const result = await stream({ case: 'contentType' });
    expect(result.contentType).toBe('text/plain; charset=utf-8');
    expect(result.body.toString()).toBe('typed');
  });

  it('cannot set the content type after the first write (Runtime.InvalidStreamingOperation)', async () => {
    const result = await stream({ case: 'lateContentType' });
    expect(result.contentType).toBe('application/octet-stream');
    expect(result.body.toString()).toBe('first;Runtime.InvalidStreamingOperation: Cannot set content-type, too late.');
  });

  it('passes the context as the third argument', async () => {
    const result = await stream({ case: 'context' });
    expect(JSON.parse(result.body.toString())).toEqual({ requestId: expect.any(String), remaining: true });
  });

  it('streams more than 6 MB', async () => {
    const bytes = 8 * 1024 * 1024 + 123;
    const result = await stream({ case: 'large', bytes });
    expect(result.body.length).toBe(bytes);
    expect(result.body.every((byte) => byte === 'z'.charCodeAt(0))).toBe(true);
    expect(result.trailers).toEqual({});
  });

  it('fails a stream the handler never ended, once nothing is left that could end it: "Response stream is not finished."', async () => {
    const result = await stream({ case: 'forgotEnd' });
    expect(result.body.toString()).toBe('never ended by the handler');
    expectTrailers(result, 'Error', 'Response stream is not finished.');
  });
});

describe('HttpResponseStream', () => {
  it('sends the JSON prelude and 8 NUL bytes before the body, with the HTTP-integration content type', async () => {
    const result = await stream({ case: 'http' });
    expect(result.contentType).toBe('application/vnd.awslambda.http-integration-response');
    expect(splitPrelude(result.body)).toEqual({
      prelude: { statusCode: 201, headers: { 'x-custom': 'yes' }, cookies: ['session=abc; Secure'] },
      rest: 'created',
    });
  });

  it('sends the prelude even when the handler ends without writing', async () => {
    const result = await stream({ case: 'httpEndOnly' });
    expect(result.contentType).toBe('application/vnd.awslambda.http-integration-response');
    expect(splitPrelude(result.body)).toEqual({ prelude: { statusCode: 204 }, rest: '' });
  });
});

describe('failures', () => {
  it('reports an error thrown mid-stream in the trailers, after the bytes already sent', async () => {
    const result = await stream({ case: 'midError' });
    expect(result.body.toString()).toBe('partial ');
    expect(result.trailers.errorType).toBe('RangeError');
    expect(result.trailers.errorBody).toMatchObject({ errorType: 'RangeError', errorMessage: 'broke mid-stream' });
    expect(result.trailers.errorBody?.trace?.[0]).toBe('RangeError: broke mid-stream');
  });

  it('reports a stream destroyed with an error in the trailers', async () => {
    const result = await stream({ case: 'destroyed' });
    expect(result.body.toString()).toBe('before destroy;');
    expect(result.trailers.errorBody).toMatchObject({ errorType: 'Error', errorMessage: 'destroyed by the handler' });
  });

  it('reports an error thrown before anything was written in the trailers of an empty stream', async () => {
    const result = await stream({ case: 'errorBeforeWrite' });
    expect(result.contentType).toBe('application/octet-stream');
    expect(result.body.length).toBe(0);
    expectTrailers(result, 'TypeError', 'failed before streaming');
  });

  it('sends no prelude when an HTTP-integration handler fails before writing', async () => {
    const result = await stream({ case: 'httpErrorBeforeWrite' });
    expect(result.contentType).toBe('application/vnd.awslambda.http-integration-response');
    expect(result.body.length).toBe(0);
    expectTrailers(result, 'SyntaxError', 'failed before the prelude');
  });

  it('reports a handler promise that can never settle as Runtime.NodeJsExit in the trailers', async () => {
    const result = await stream({ case: 'neverSettles' });
    expect(result.body.toString()).toBe('stuck');
    expect(result.trailers.errorType).toBe('Runtime.NodeJsExit');
  });

  it('keeps serving after failures', async () => {
    expect((await stream({ case: 'plain' })).body.toString()).toBe('hello world');
  });
});

describe('a streamified handler that returns no promise', () => {
  it('fails with "Streaming does not support non-async handlers." in the trailers, after what it wrote', async () => {
    const sync = await startRuntime({ handler: 'index.syncHandler', taskRoot: 'streaming' });
    const result = await streamFrom(sync, {});
    expect(result.body.toString()).toBe('sync;');
    expectTrailers(result, 'Error', 'Streaming does not support non-async handlers.');
  });

  it('keeps a response it ended before returning', async () => {
    const sync = await startRuntime({ handler: 'index.syncEnded', taskRoot: 'streaming' });
    const result = await streamFrom(sync, {});
    expect(result).toEqual({ contentType: 'application/octet-stream', body: Buffer.from('ended synchronously'), trailers: {} });
  });
});

describe('a crash while streaming', () => {
  it('ends the stream with the error in the trailers, then the process exits', async () => {
    const crashing = await startRuntime({ handler: 'index.handler', taskRoot: 'streaming' });
    const outcome = await crashing.invoke({ case: 'crash' });
    if (outcome.kind !== 'streaming') throw new Error(`Expected a streamed response, got ${describeOutcome(outcome)}`);
    const chunks: Buffer[] = [];
    for await (const chunk of outcome.body) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('partial;');
    const { trailers } = await outcome.end;
    expect(trailers.errorBody).toMatchObject({ errorType: 'EvalError', errorMessage: 'crashed mid-stream' });
    expect((await crashing.exited).code).not.toBe(0);
  });
});
