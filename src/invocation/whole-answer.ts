// An invoke's answer read whole, for fronts that have no caller to stream to (asynchronous delivery, event source
// pollers): the function's result, or its error body marked as a function error. A streamed answer is read to its
// end; a failure the runtime told in its trailers is a function error, as it is to a synchronous caller.
import type { InvokeOutcome } from '../runtime-api/types.ts';

export interface WholeAnswer {
  /** `Unhandled` when the function failed (thrown, timed out, crashed, out of memory, failed its init). */
  functionError?: 'Unhandled';
  /** The result, or the error body. */
  payload: Buffer;
}

export async function wholeAnswer(outcome: InvokeOutcome): Promise<WholeAnswer> {
  switch (outcome.kind) {
    case 'success':
      return { payload: outcome.body };
    case 'streaming': {
      const chunks: Buffer[] = [];
      for await (const chunk of outcome.body) chunks.push(Buffer.from(chunk as Uint8Array));
      const { trailers } = await outcome.end;
      return trailers.errorType === undefined ? { payload: Buffer.concat(chunks) } : { functionError: 'Unhandled', payload: Buffer.concat(chunks) };
    }
    case 'function-error':
    case 'init-error':
      return { functionError: 'Unhandled', payload: outcome.body };
    case 'timeout':
    case 'runtime-exit':
      return { functionError: 'Unhandled', payload: Buffer.from(JSON.stringify(outcome.error)) };
  }
}
