// InvokeWithResponseStream through the real @aws-sdk/client-lambda (which checks every event-stream CRC, so a framing
// mistake fails the read) against the in-process service, functions run by our own runtime as child processes: the
// chunks as the function writes them (the first one before the function has finished), a buffered answer as one
// chunk, failures told in InvokeComplete, the log tail, versions, and the refusals that come before any stream.
import {
  InvokeWithResponseStreamCommand,
  type InvokeWithResponseStreamCommandInput,
  type InvokeWithResponseStreamCommandOutput,
  PublishVersionCommand,
} from '@aws-sdk/client-lambda';
import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeEventMessage } from '../src/invocation/eventstream.ts';
import { makeZip } from '../tools/zip.ts';
import { createActiveFunction, ROLE } from './support/lambda-fixtures.ts';
import { failure, useLocalService } from './support/local-service.ts';
import { ProcessInvoker } from './support/process-invoker.ts';

const STREAMING_HANDLER = `
export const handler = awslambda.streamifyResponse(async (event, stream, context) => {
  stream.setContentType('text/plain');
  if (event.case === 'hang') {
    stream.write('started ');
    // Kept alive (an empty promise alone lets Node exit): only the timeout ends it.
    await new Promise(() => setInterval(() => {}, 1_000));
  }
  if (event.case === 'flood') {
    // Far more than the pipes between here and a caller hold: it only finishes if someone reads or drains it.
    stream.write('one ');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const block = 'x'.repeat(1 << 20);
    for (let i = 0; i < 64; i++) {
      if (!stream.write(block)) await new Promise((resolve) => stream.once('drain', resolve));
    }
    stream.end();
    return;
  }
  if (event.case === 'fail') {
    stream.write('partial ');
    await new Promise((resolve) => setTimeout(resolve, 50));
    throw new RangeError('stream gave up');
  }
  stream.write('one ');
  console.log('streamed the first chunk');
  await new Promise((resolve) => setTimeout(resolve, 500));
  stream.write('two ');
  await new Promise((resolve) => setTimeout(resolve, 50));
  stream.end('three');
});
`;

const BUFFERED_HANDLER = `
export const handler = async (event, context) => {
  if (event.case === 'throw') throw new TypeError('handler says no');
  if (event.case === 'log') console.log('hello from the handler');
  return { received: event, requestId: context.awsRequestId, clientContext: context.clientContext ?? null };
};
`;

const ZIP = makeZip([
  { name: 'stream.mjs', content: STREAMING_HANDLER },
  { name: 'index.mjs', content: BUFFERED_HANDLER },
]);

const invoker = new ProcessInvoker();
afterAll(() => invoker.close());
/** Each finished invoke (the service tells its metrics once a stream has ended): function name and whether it failed. */
const finished: { name: string; error: boolean; durationMs: number }[] = [];
const metrics = {
  contentType: 'text/plain',
  render: async () => '',
  invoked: (name: string, facts: { error: boolean; durationMs: number }) => finished.push({ name, error: facts.error, durationMs: facts.durationMs }),
  throttled: () => {},
};
const local = useLocalService('lambkin-response-stream-', () => ({ invoker, metrics }));

const create = (FunctionName: string, Handler: string, Timeout?: number) =>
  createActiveFunction(local.lambda, {
    FunctionName,
    Role: ROLE,
    Runtime: 'nodejs24.x',
    Handler,
    Code: { ZipFile: ZIP },
    ...(Timeout !== undefined ? { Timeout } : {}),
  });

interface Received {
  output: InvokeWithResponseStreamCommandOutput;
  /** Each PayloadChunk's text, with the ms since the request was sent when it arrived. */
  chunks: { text: string; atMs: number }[];
  complete: { ErrorCode?: string; ErrorDetails?: string; LogResult?: string } | undefined;
  completeAtMs: number;
}

async function invokeStream(input: Partial<InvokeWithResponseStreamCommandInput> & { event?: unknown }): Promise<Received> {
  const { event, ...rest } = input;
  const started = performance.now();
  const output = await local.lambda.send(
    new InvokeWithResponseStreamCommand({
      FunctionName: 'streamer',
      ...(event === undefined ? {} : { Payload: Buffer.from(JSON.stringify(event)) }),
      ...rest,
    }),
  );
  const received: Received = { output, chunks: [], complete: undefined, completeAtMs: Number.NaN };
  for await (const message of output.EventStream ?? []) {
    const atMs = performance.now() - started;
    if (message.PayloadChunk) received.chunks.push({ text: Buffer.from(message.PayloadChunk.Payload ?? []).toString('utf8'), atMs });
    if (message.InvokeComplete) {
      expect(received.complete, 'one InvokeComplete').toBeUndefined();
      received.complete = message.InvokeComplete;
      received.completeAtMs = atMs;
    }
  }
  return received;
}

const text = (received: Received) => received.chunks.map((chunk) => chunk.text).join('');

describe('InvokeWithResponseStream', () => {
  it('streams a streaming function chunk by chunk, the first before the function has finished', async () => {
    await create('streamer', 'stream.handler');
    const received = await invokeStream({});
    expect(received.output.$metadata.httpStatusCode).toBe(200);
    expect(received.output.ExecutedVersion).toBe('$LATEST');
    expect(received.output.ResponseStreamContentType).toBe('application/vnd.amazon.eventstream');
    expect(text(received)).toBe('one two three');
    expect(received.chunks[0]?.text).toBe('one ');
    expect(received.chunks.length).toBeGreaterThanOrEqual(2);
    // The function waits 500 ms after its first write: that write must have arrived well before the end.
    expect(received.completeAtMs - received.chunks[0]!.atMs).toBeGreaterThan(400);
    expect(received.complete).toEqual({});
  });

  it('answers a buffered function as one chunk, under the request id the function saw', async () => {
    await create('buffered', 'index.handler');
    const clientContext = { custom: { tenant: 'a' } };
    const received = await invokeStream({
      FunctionName: 'buffered',
      event: { hello: 'world' },
      ClientContext: Buffer.from(JSON.stringify(clientContext)).toString('base64'),
    });
    expect(received.chunks).toHaveLength(1);
    const body = JSON.parse(text(received));
    expect(body.received).toEqual({ hello: 'world' });
    expect(body.clientContext).toMatchObject(clientContext);
    expect(body.requestId).toBe(received.output.$metadata.requestId);
    expect(received.complete).toEqual({});
  });

  it('ends a stream that fails midway with InvokeComplete carrying the error', async () => {
    await create('streamer', 'stream.handler');
    const received = await invokeStream({ event: { case: 'fail' } });
    expect(received.output.$metadata.httpStatusCode).toBe(200);
    expect(text(received)).toBe('partial ');
    expect(received.complete?.ErrorCode).toBe('RangeError');
    expect(JSON.parse(received.complete?.ErrorDetails ?? '{}')).toMatchObject({ errorType: 'RangeError', errorMessage: 'stream gave up' });
  });

  it('ends a stream that never finishes at the function timeout, with the timeout in InvokeComplete', async () => {
    await create('streamer', 'stream.handler', 1);
    const received = await invokeStream({ event: { case: 'hang' } });
    expect(text(received)).toBe('started ');
    expect(received.complete?.ErrorCode).toBe('Sandbox.Timedout');
    expect(JSON.parse(received.complete?.ErrorDetails ?? '{}')).toMatchObject({ errorType: 'Sandbox.Timedout' });
    expect(received.completeAtMs).toBeGreaterThan(900);
  });

  it("lets go of the function's stream when the caller goes away, so the function finishes instead of stalling", async () => {
    await create('streamer', 'stream.handler', 20);
    finished.length = 0;
    const abort = new AbortController();
    const output = await local.lambda.send(
      new InvokeWithResponseStreamCommand({ FunctionName: 'streamer', Payload: Buffer.from(JSON.stringify({ case: 'flood' })) }),
      { abortSignal: abort.signal },
    );
    for await (const message of output.EventStream ?? []) {
      expect(Buffer.from(message.PayloadChunk?.Payload ?? []).toString('utf8')).toBe('one ');
      abort.abort();
      break;
    }
    // 64 MB nobody reads: without draining, the runtime would stall on its upload until the 20 s timeout.
    const deadline = Date.now() + 10_000;
    while (finished.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(finished).toEqual([{ name: 'streamer', error: false, durationMs: expect.any(Number) }]);
    expect(finished[0]!.durationMs).toBeLessThan(10_000);
  });

  it('answers a DryRun with 204 and runs nothing', async () => {
    await create('buffered', 'index.handler');
    const output = await local.lambda.send(new InvokeWithResponseStreamCommand({ FunctionName: 'buffered', InvocationType: 'DryRun' }));
    expect(output.$metadata.httpStatusCode).toBe(204);
    expect(output.ExecutedVersion).toBe('$LATEST');
  });

  it('tells a buffered function error in InvokeComplete, with no chunk', async () => {
    await create('buffered', 'index.handler');
    const received = await invokeStream({ FunctionName: 'buffered', event: { case: 'throw' } });
    expect(received.output.$metadata.httpStatusCode).toBe(200);
    expect(received.chunks).toEqual([]);
    expect(received.complete?.ErrorCode).toBe('Unhandled');
    expect(JSON.parse(received.complete?.ErrorDetails ?? '{}')).toMatchObject({ errorType: 'TypeError', errorMessage: 'handler says no' });
  });

  it('returns the log tail in InvokeComplete when asked for it', async () => {
    await create('buffered', 'index.handler');
    const received = await invokeStream({ FunctionName: 'buffered', event: { case: 'log' }, LogType: 'Tail' });
    const log = Buffer.from(received.complete?.LogResult ?? '', 'base64').toString('utf8');
    expect(log).toContain('hello from the handler');
    expect(log).toContain(`END RequestId: ${received.output.$metadata.requestId}`);
    const without = await invokeStream({ FunctionName: 'buffered', event: { case: 'log' } });
    expect(without.complete?.LogResult).toBeUndefined();
  });

  it("returns a streamed answer's whole log in InvokeComplete: its output, END and REPORT, written after the last chunk", async () => {
    await create('streamed-log', 'stream.handler');
    const received = await invokeStream({ FunctionName: 'streamed-log', LogType: 'Tail' });
    const log = Buffer.from(received.complete?.LogResult ?? '', 'base64').toString('utf8');
    const id = received.output.$metadata.requestId;
    expect(log).toContain(`START RequestId: ${id}`);
    expect(log).toContain('streamed the first chunk');
    expect(log).toContain(`END RequestId: ${id}`);
    expect(log).toMatch(new RegExp(`REPORT RequestId: ${id}\\tDuration: `));
  });

  it('runs a published version named by its qualifier', async () => {
    await create('buffered', 'index.handler');
    const published = await local.lambda.send(new PublishVersionCommand({ FunctionName: 'buffered' }));
    expect(published.Version).toBe('1');
    const byQualifier = await invokeStream({ FunctionName: 'buffered', Qualifier: '1', event: { n: 1 } });
    expect(byQualifier.output.ExecutedVersion).toBe('1');
    expect(JSON.parse(text(byQualifier)).received).toEqual({ n: 1 });
    const byName = await invokeStream({ FunctionName: 'buffered:1', event: { n: 2 } });
    expect(byName.output.ExecutedVersion).toBe('1');
  });

  it('refuses an unknown function with the JSON error Invoke answers, before any stream', async () => {
    const error = await failure(invokeStream({ FunctionName: 'missing' }));
    expect(error.name).toBe('ResourceNotFoundException');
    expect(error.$metadata.httpStatusCode).toBe(404);
    expect(error.message).toBe('Function not found: arn:aws:lambda:us-east-1:123456789012:function:missing:$LATEST');
  });

  it('refuses the Event invocation type, which the operation does not have', async () => {
    await create('buffered', 'index.handler');
    const error = await failure(invokeStream({ FunctionName: 'buffered', InvocationType: 'Event' as 'RequestResponse' }));
    expect(error.name).toBe('ValidationException');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.message).toBe(
      "1 validation error detected: Value 'Event' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [RequestResponse, DryRun]",
    );
  });
});

describe('event-stream encoder', () => {
  it('writes messages the SDK codec decodes, both CRCs checked', () => {
    const codec = new EventStreamCodec(toUtf8, fromUtf8);
    const payload = Buffer.from('héllo, stream');
    const frame = encodeEventMessage({ ':event-type': 'PayloadChunk', ':message-type': 'event', ':content-type': 'application/octet-stream' }, payload);
    const decoded = codec.decode(frame);
    expect(Buffer.from(decoded.body).toString('utf8')).toBe('héllo, stream');
    expect(decoded.headers).toEqual({
      ':event-type': { type: 'string', value: 'PayloadChunk' },
      ':message-type': { type: 'string', value: 'event' },
      ':content-type': { type: 'string', value: 'application/octet-stream' },
    });
    // The same bytes as the SDK's own encoder writes for the same message.
    expect(Buffer.from(codec.encode(decoded))).toEqual(frame);
    // A flipped payload byte breaks the message CRC.
    const corrupt = Buffer.from(frame);
    corrupt[corrupt.length - 6]! ^= 0xff;
    expect(() => codec.decode(corrupt)).toThrow(/checksum/i);
  });
});
