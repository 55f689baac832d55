// An invoke's outcome in Invoke's HTTP terms, for `lambkin serve` and the emulator alike: the status, the headers
// (X-Amz-Executed-Version, X-Amz-Function-Error, Content-Type, X-Amz-Log-Result), the body, and for a streamed body
// the trailers that tell a failure after the first byte.
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { JSON_CONTENT_TYPE } from '../http/headers.ts';
import type { InvokeOutcome } from '../runtime-api/types.ts';

/** X-Amz-Log-Result carries at most the last 4 KB of the invoke's log. */
export const LOG_TAIL_BYTES = 4_096;

/** A streamed failure is told in both: the Lambda API's header name, and the Runtime API's with the error type. */
const STREAM_TRAILERS = 'X-Amz-Function-Error, Lambda-Runtime-Function-Error-Type';

export interface InvokeResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer | Readable;
  /** For a streamed body: the trailers, known once the runtime has finished it (none when it ended cleanly). */
  trailers?: Promise<Record<string, string>>;
}

export interface InvokeResponseOptions {
  /** The version that ran, for X-Amz-Executed-Version. */
  executedVersion: string;
  /** The invoke's log when the caller asked for it (X-Amz-Log-Type: Tail); X-Amz-Log-Result is its last 4 KB. */
  logTail?: string | undefined;
}

export function invokeResponse(outcome: InvokeOutcome, options: InvokeResponseOptions): InvokeResponse {
  const headers: Record<string, string> = { 'X-Amz-Executed-Version': options.executedVersion };
  if (options.logTail !== undefined) headers['X-Amz-Log-Result'] = logResult(options.logTail);
  const failed = { ...headers, 'Content-Type': JSON_CONTENT_TYPE, 'X-Amz-Function-Error': 'Unhandled' };
  switch (outcome.kind) {
    case 'success':
      return { status: 200, headers: { ...headers, 'Content-Type': outcome.contentType }, body: outcome.body };
    case 'streaming':
      // Passed through as it arrives; InvokeWithResponseStream's event-stream framing comes later.
      return {
        status: 200,
        headers: { ...headers, 'Content-Type': outcome.contentType, Trailer: STREAM_TRAILERS },
        body: outcome.body,
        trailers: outcome.end.then(
          ({ trailers }): Record<string, string> =>
            trailers.errorType ? { 'X-Amz-Function-Error': 'Unhandled', 'Lambda-Runtime-Function-Error-Type': trailers.errorType } : {},
        ),
      };
    case 'function-error':
    case 'init-error':
      return { status: 200, headers: failed, body: outcome.body };
    case 'timeout':
    case 'runtime-exit':
      return { status: 200, headers: failed, body: Buffer.from(JSON.stringify(outcome.error)) };
  }
}

/** A DryRun: the caller may invoke the function; nothing runs. */
export function dryRunResponse(executedVersion: string): InvokeResponse {
  return { status: 204, headers: { 'X-Amz-Executed-Version': executedVersion }, body: Buffer.alloc(0) };
}

/** The last 4 KB of the log, base64 (a cut through a UTF-8 character is cut as Lambda cuts it: by bytes). */
export function logResult(log: string): string {
  const bytes = Buffer.from(log, 'utf8');
  return bytes.subarray(Math.max(0, bytes.length - LOG_TAIL_BYTES)).toString('base64');
}

/** Writes an invoke's answer; `headers` come first (the caller's x-amzn-RequestId), the response's own after. */
export function writeInvokeResponse(res: ServerResponse, response: InvokeResponse, headers: OutgoingHttpHeaders = {}): void {
  res.writeHead(response.status, { ...headers, ...response.headers });
  const body = response.body;
  if (Buffer.isBuffer(body)) {
    res.end(body);
    return;
  }
  // A broken stream cannot be told in a head already sent: the caller sees the answer cut off.
  body.once('error', () => res.destroy());
  body.pipe(res, { end: false });
  // Both: every byte has gone through the pipe, and the runtime has finished (the trailers are known).
  const trailers = response.trailers ?? Promise.resolve({});
  void Promise.all([finished(body), trailers]).then(
    ([, values]) => {
      // A failure after the first byte can only be told in trailers.
      if (Object.keys(values).length > 0) res.addTrailers(values);
      res.end();
    },
    () => res.destroy(),
  );
}
