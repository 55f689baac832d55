// One invoke of a streamified handler, called as (event, responseStream, context). Loaded on the first
// streamed invoke only, so functions that never stream do not pay for it at start-up.
//
// The response is finished by the first of: the handler ending the stream; the stream failing or the
// handler throwing/rejecting (the error goes in the trailers, or to /error if nothing was sent yet);
// context.done/succeed/fail; a crash; or the event loop emptying, which ends the stream for a handler that
// returned but forgot end(), and reports Runtime.NodeJsExit for a promise that can no longer settle.
import type { CompletionSink } from './context.ts';
import { neverSettledError, toErrorBody } from './errors.ts';
import type { InFlightInvoke } from './in-flight.ts';
import { StreamedResponseRequest } from './response-request.ts';
import { ResponseStream, type ResponseStreamOwner } from './response-stream.ts';
import type { RuntimeApiClient } from './runtime-api-client.ts';

export class StreamingInvocation implements InFlightInvoke, CompletionSink, ResponseStreamOwner {
  readonly requestId: string;
  readonly finished: Promise<void>;
  readonly responseStream: ResponseStream;
  /** The handler's returned promise is still pending. */
  handlerPending = false;
  #api: RuntimeApiClient;
  #request: StreamedResponseRequest;
  #running = true;
  #deliver!: () => void;

  constructor(requestId: string, api: RuntimeApiClient, highWaterMark: number | undefined) {
    this.requestId = requestId;
    this.#api = api;
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
    if (result === null || (typeof result !== 'object' && typeof result !== 'function')) return;
    const then = (result as { then?: unknown }).then;
    if (typeof then !== 'function') return;
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
    const body = toErrorBody(error);
    // Further writes from the handler go nowhere; destroying without an error emits no 'error' event.
    this.responseStream.destroy();
    const delivered = this.#request.started ? this.#request.end(body) : this.#api.postError(this.requestId, body, error);
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
    else this.#endStream();
  }

  /** Ends the stream on the handler's behalf, through end() so that buffered writes go out first. */
  #endStream(): void {
    if (this.#running && !this.responseStream.writableEnded) this.responseStream.end();
  }
}
