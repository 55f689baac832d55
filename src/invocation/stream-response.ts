// An invoke's outcome as InvokeWithResponseStream answers it: event-stream messages (eventstream.ts), a PayloadChunk
// for each chunk of the function's answer as the runtime sends it, then one InvokeComplete that tells how it ended.
// The HTTP status is always 200 once the function has run: a failure can only be told in the stream.
import { Readable } from 'node:stream';
import { JSON_CONTENT_TYPE } from '../http/headers.ts';
import type { InvokeOutcome, StreamTrailers } from '../runtime-api/types.ts';
import { encodeEvent } from './eventstream.ts';
import { logResult } from './invoke-response.ts';

export const EVENT_STREAM_CONTENT_TYPE = 'application/vnd.amazon.eventstream';

/** InvokeWithResponseStreamCompleteEvent: all absent on success (LogResult only when the caller asked for it). */
export interface InvokeComplete {
  ErrorCode?: string;
  ErrorDetails?: string;
  LogResult?: string;
}

/** What InvokeComplete says of a function that answered in one piece and failed (AWS's FunctionError for Invoke). */
const UNHANDLED = 'Unhandled';

export function payloadChunk(chunk: Uint8Array): Buffer {
  return encodeEvent('PayloadChunk', 'application/octet-stream', chunk);
}

export function invokeComplete(complete: InvokeComplete): Buffer {
  return encodeEvent('InvokeComplete', JSON_CONTENT_TYPE, Buffer.from(JSON.stringify(complete)));
}

export interface StreamResponseOptions {
  /**
   * The invoke's log when the caller asked for it (X-Amz-Log-Type: Tail): InvokeComplete's LogResult is its last 4 KB.
   * A promise for a streamed answer, whose log ends (END, REPORT) only after its last chunk.
   */
  logTail?: string | Promise<string> | undefined;
}

/**
 * The messages for `outcome`, produced as the function's answer arrives: a streamed answer's chunks are framed one by
 * one (a reader gets each as soon as the runtime sent it), a buffered answer is one chunk.
 */
export function streamResponseBody(outcome: InvokeOutcome, options: StreamResponseOptions = {}): Readable {
  // objectMode off: each frame is handed on as the bytes it is, without being merged with or split from others.
  const messages = Readable.from(frames(outcome, options), { objectMode: false });
  // Closed early (the caller went away): the function's stream is let go of at once, not at its next chunk, so the
  // runtime's upload is drained instead of stalling on a reader that is gone.
  if (outcome.kind === 'streaming') messages.once('close', () => outcome.body.destroy());
  return messages;
}

async function* frames(outcome: InvokeOutcome, options: StreamResponseOptions): AsyncGenerator<Buffer> {
  const logged = options.logTail;
  const log = logged === undefined ? {} : { LogResult: logResult(typeof logged === 'string' ? logged : '') };
  switch (outcome.kind) {
    case 'success':
      if (outcome.body.length > 0) yield payloadChunk(outcome.body);
      yield invokeComplete(log);
      return;
    case 'streaming': {
      for await (const chunk of outcome.body) yield payloadChunk(chunk as Buffer);
      const { trailers } = await outcome.end;
      const finalLog = logged === undefined ? {} : { LogResult: logResult(await logged) };
      yield invokeComplete({ ...streamedError(trailers), ...finalLog });
      return;
    }
    case 'function-error':
    case 'init-error':
      // The error as the runtime posted it, as Invoke would have answered it with X-Amz-Function-Error: Unhandled.
      yield invokeComplete({ ErrorCode: UNHANDLED, ErrorDetails: outcome.body.toString('utf8'), ...log });
      return;
    case 'timeout':
    case 'runtime-exit':
      // Lambda's own errors (Sandbox.Timedout, Runtime.ExitError): their type is the code, their message the details.
      yield invokeComplete({ ErrorCode: outcome.error.errorType, ErrorDetails: outcome.error.errorMessage, ...log });
      return;
  }
}

/** A failure after the first chunk, as the runtime told it in its trailers (its error type, its error body). */
function streamedError(trailers: StreamTrailers): InvokeComplete {
  if (trailers.errorType === undefined) return {};
  return {
    ErrorCode: trailers.errorType,
    ...(trailers.errorBody !== undefined ? { ErrorDetails: JSON.stringify(trailers.errorBody) } : {}),
  };
}
