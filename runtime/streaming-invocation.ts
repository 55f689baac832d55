// One invoke of a streamified handler, called as (event, responseStream, context). Loaded on the first
// streamed invoke only, so functions that never stream do not pay for it at start-up.
//
// The response is finished by the first of: the handler ending the stream; the stream failing or the
// handler throwing/rejecting; context.done/succeed/fail; a crash; or the event loop emptying. Every failure
// goes in the trailers of the streamed POST, also when nothing was written yet (then without the
// HTTP-integration prelude), as AWS's client (4.x) reports them, with its messages:
// - a handler that returns no promise: Error "Streaming does not support non-async handlers." (unless it had
//   already ended the stream);
// - a handler whose promise resolved but that never ended the stream, once the event loop is empty (nothing
//   is left that could end it): Error "Response stream is not finished.";
// - a promise that can no longer settle: Runtime.NodeJsExit.
import type { CompletionSink } from './context.ts';
import { neverSettledError, toErrorBody } from './errors.ts';
import { reportInvokeError, type InFlightInvoke } from './in-flight.ts';
import { StreamedResponseRequest } from './response-request.ts';
import { ResponseStream, type ResponseStreamOwner } from './response-stream.ts';
import type { RuntimeApiClient } from './runtime-api-client.ts';

const NOT_ASYNC = 'Streaming does not support non-async handlers.';
const NOT_FINISHED = 'Response stream is not finished.';

export class StreamingInvocation implements InFlightInvoke, CompletionSink, ResponseStreamOwner {
  readonly requestId: string;
  readonly finished: Promise<void>;
  readonly responseStream: ResponseStream;
  /** The handler's returned promise is still pending. */
  handlerPending = false;
  #request: StreamedResponseRequest;
  #running = true;
  #deliver!: () => void;

  constructor(requestId: string, api: RuntimeApiClient, highWaterMark: number | undefined) {
    this.requestId = requestId;
    this.finished = new Promise((resolve) => {
      this.#deliver = resolve;
    });
    this.#request = new StreamedResponseRequest(api.address, requestId);
    this.#request.onBroken = () => {
      if (!this.#running) return;
      this.#running = false;
      this.responseStream.destroy();
      this.#deliver();
    };
    this.responseStream = new ResponseStream(this.#request, this, highWaterMark);
  }

  /** Follows what the handler returned: a rejection fails the stream; a resolution waits for end(). */
  followResult(result: unknown): void {
    const then = result === null || (typeof result !== 'object' && typeof result !== 'function') ? undefined : (result as { then?: unknown }).then;
    if (typeof then !== 'function') {
      if (!this.responseStream.writableEnded) this.fail(new Error(NOT_ASYNC));
      return;
    }
    this.handlerPending = true;
    then.call(
      result,
      () => {
        this.handlerPending = false;
      },
      (error: unknown) => {
        this.handlerPending = false;
        this.fail(error);
      },
    );
  }

  fail(error: unknown): void {
    if (!this.#running) return;
    this.#running = false;
    reportInvokeError(error); // the "Invoke Error" log line (in-flight.ts); buffered invokes log theirs at api.postError
    const body = toErrorBody(error);
    this.responseStream.startWithoutPrelude();
    // Further writes from the handler go nowhere; destroying without an error emits no 'error' event.
    this.responseStream.destroy();
    const delivered = this.#request.end(body);
    void delivered.then(this.#deliver); // the posts never reject: a refused one is logged where it is made
  }

  onStreamEnded(): Promise<void> {
    if (!this.#running) return this.finished;
    this.#running = false;
    const delivered = this.#request.end();
    void delivered.then(this.#deliver); // the posts never reject: a refused one is logged where it is made
    return delivered;
  }

  onStreamFailed(error: unknown): void {
    this.fail(error);
  }

  onStreamClosedEarly(): void {
    if (!this.#running) return;
    this.responseStream.startIfNeeded();
    void this.onStreamEnded();
  }

  completeNow(error: unknown): void {
    if (error !== null && error !== undefined) this.fail(error);
    else this.#endStream();
  }

  abort(error: unknown): Promise<void> {
    this.fail(error);
    return this.finished;
  }

  onEventLoopEmpty(): void {
    if (!this.#running) return;
    if (this.handlerPending) this.fail(neverSettledError(this.requestId));
    else if (!this.responseStream.writableEnded) this.fail(new Error(NOT_FINISHED));
  }

  /** Ends the stream on the handler's behalf, through end() so that buffered writes go out first. */
  #endStream(): void {
    if (this.#running && !this.responseStream.writableEnded) this.responseStream.end();
  }
}
