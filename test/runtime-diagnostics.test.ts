// The runtime's own Runtime API traffic is invisible to the function's tracing (issue 12): a handler that
// subscribes at init to the diagnostics channels of undici and node:http (as OpenTelemetry's instrumentations and
// Powertools' Tracer do) sees none of the runtime's /next, /response, /error, streamed responses or /init/error,
// while the requests the handler makes itself are seen. node:net's one channel, net.client.socket, is counted too:
// the runtime's one connection opens before the handler loads, and streamed responses borrow it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InvokeOutcome } from '../src/runtime-api/index.ts';
import { describeOutcome, startRuntime, stopAllRuntimes, type RuntimeProcess } from './support/runtime-process.ts';

interface Seen {
  total: number;
  channels: Record<string, number>;
}

let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((_request, response) => response.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  await stopAllRuntimes();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function start(handler: string): Promise<RuntimeProcess> {
  const runtime = await startRuntime({ handler, taskRoot: 'diagnostics' });
  expect((await runtime.waitForInit()).kind).toBe('ready');
  return runtime;
}

function bufferedResult(outcome: InvokeOutcome): { before: Seen; after: Seen } {
  if (outcome.kind !== 'success') throw new Error(`Expected a success, got ${describeOutcome(outcome)}`);
  return JSON.parse(outcome.body.toString());
}

async function streamedResult(outcome: InvokeOutcome): Promise<{ body: string; errorType: string | undefined }> {
  if (outcome.kind !== 'streaming') throw new Error(`Expected a streamed response, got ${describeOutcome(outcome)}`);
  const chunks: Buffer[] = [];
  for await (const chunk of outcome.body) chunks.push(chunk as Buffer);
  const { trailers } = await outcome.end;
  return { body: Buffer.concat(chunks).toString(), errorType: trailers.errorType };
}

const diagnosticsLines = (runtime: RuntimeProcess): string[] => runtime.stderr().match(/^diagnostics message: .*$/gm) ?? [];

describe('a handler subscribed to the HTTP diagnostics channels', () => {
  it('sees none of the runtime’s requests over three invokes, a failed one among them', async () => {
    const runtime = await start('index.handler');
    bufferedResult(await runtime.invoke({}));
    expect((await runtime.invoke({ fail: true })).kind).toBe('function-error');
    const third = bufferedResult(await runtime.invoke({}));
    expect(third.before).toEqual({ total: 0, channels: {} });
    expect(third.after).toEqual({ total: 0, channels: {} });
    expect(diagnosticsLines(runtime)).toEqual([]);
  });

  it('sees the requests the handler makes itself (fetch and node:http)', async () => {
    const runtime = await start('index.handler');
    bufferedResult(await runtime.invoke({}));
    const { before, after } = bufferedResult(await runtime.invoke({ fetchUrl: url }));
    expect(before.total).toBe(0);
    expect(after.channels).toMatchObject({
      'undici:request:create': 1,
      'undici:client:sendHeaders': 1,
      'undici:request:headers': 1,
      'http.client.request.start': 1,
      'http.client.response.finish': 1,
    });
    // The handler's requests are seen, and only they: the runtime's later ones add nothing.
    const next = bufferedResult(await runtime.invoke({}));
    expect(next.before).toEqual(after);
  });

  it('sees none of a streamed response’s requests, clean or failed in the trailers', async () => {
    const runtime = await start('index.streamer');
    await streamedResult(await runtime.invoke({}));
    const failed = await streamedResult(await runtime.invoke({ fail: true }));
    expect(failed.errorType).toBe('Error');
    const third = await streamedResult(await runtime.invoke({}));
    expect(third.body.startsWith('>')).toBe(true);
    expect(JSON.parse(third.body.slice(1))).toEqual({ total: 0, channels: {} });
    expect(diagnosticsLines(runtime)).toEqual([]);
  });

  it('sees nothing of the init error report', async () => {
    const runtime = await startRuntime({ handler: 'init-error.handler', taskRoot: 'diagnostics' });
    const init = await runtime.waitForInit();
    expect(init.kind).toBe('init-error');
    await runtime.exited;
    expect(runtime.output()).toContain('failing at init on purpose');
    expect(diagnosticsLines(runtime)).toEqual([]);
  });
});
