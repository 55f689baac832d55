// One invoke whose result is sent whole (everything but response streaming). It accepts the first
// completion of any kind and ignores the rest, as AWS does: a returned promise settling, the callback,
// context.done/succeed/fail, a crash, or the event loop emptying.
//
// When the response goes out differs by kind (reference/node-runtime.md, "Invocation semantics"):
// - a returned promise, context.done/succeed/fail: at once;
// - the callback: once the event loop is empty if context.callbackWaitsForEmptyEventLoop (the default),
//   else at once;
// - nothing at all by the time the event loop is empty: `null` for a handler that returned no promise
//   (a sync handler, or a callback handler that never called back), Runtime.NodeJsExit for a promise that
//   never settled (nothing is left that could settle it).
// With several invokes at once (multi-concurrency.ts) the event loop never empties (a /next always waits), so the
// callback answers at once whatever callbackWaitsForEmptyEventLoop says (the invoke loop answers a handler that
// returns undefined at once too, as AWS's client does). AWS 4.x refuses callback handlers; lambkin runs them.
import type { CompletionSink, InvokeContext } from './context.ts';
import { neverSettledError, RuntimeError, toErrorBody } from './errors.ts';
import type { InFlightInvoke } from './in-flight.ts';
import type { RuntimeApiClient } from './runtime-api-client.ts';

const RUNNING = 0;
const WAITING_FOR_EMPTY_LOOP = 1;
const DELIVERING = 2;

export type NodeCallback = (error?: unknown, result?: unknown) => void;

export class BufferedInvocation implements InFlightInvoke, CompletionSink {
  readonly requestId: string;
  readonly finished: Promise<void>;
  /** Set once the handler has been called with a context; the callback reads its waiting flag. */
  context: InvokeContext | undefined;
  /** The handler returned a thenable: if the loop empties before it settles, it never will. */
  returnedPromise = false;
  #api: RuntimeApiClient;
  #state = RUNNING;
  #deliver!: () => void;
  #heldError: unknown;
  #heldResult: unknown;
  readonly #loopCanEmpty: boolean;

  /** `loopCanEmpty`: false with several invokes at once, when waiting for the event loop to empty would be forever. */
  constructor(requestId: string, api: RuntimeApiClient, loopCanEmpty = true) {
    this.requestId = requestId;
    this.#api = api;
    this.#loopCanEmpty = loopCanEmpty;
    this.finished = new Promise((resolve) => {
      this.#deliver = resolve;
    });
  }

  /** The value of a returned promise, or of a sync handler. */
  resolveWith(result: unknown): void {
    if (this.#state === RUNNING) this.#send(false, result);
  }

  /** A throw or a rejection: an error even when the thrown value is null or undefined. */
  rejectWith(error: unknown): void {
    if (this.#state === RUNNING) this.#send(true, error);
  }

  /** context.done/succeed/fail: Node's callback convention, answered at once. */
  completeNow(error: unknown, result?: unknown): void {
    if (this.#state !== RUNNING) return;
    if (error === null || error === undefined) this.#send(false, result);
    else this.#send(true, error);
  }

  /** The third handler argument for callback-style handlers. */
  makeCallback(): NodeCallback {
    return (error, result) => {
      if (this.#state !== RUNNING) return;
      if (!this.#loopCanEmpty || this.context?.callbackWaitsForEmptyEventLoop === false) {
        this.completeNow(error, result);
        return;
      }
      // Hold the outcome until the timers, sockets and promises the handler left behind have finished.
      this.#state = WAITING_FOR_EMPTY_LOOP;
      this.#heldError = error;
      this.#heldResult = result;
    };
  }

  onEventLoopEmpty(): void {
    if (this.#state === WAITING_FOR_EMPTY_LOOP) {
      const error = this.#heldError;
      if (error === null || error === undefined) this.#send(false, this.#heldResult);
      else this.#send(true, error);
    } else if (this.#state === RUNNING) {
      if (this.returnedPromise) this.#send(true, neverSettledError(this.requestId));
      else this.#send(false, null);
    }
  }

  abort(error: unknown): Promise<void> {
    // A held callback result has not been sent yet: the crash is this invoke's real outcome.
    if (this.#state === RUNNING || this.#state === WAITING_FOR_EMPTY_LOOP) this.#send(true, error);
    return this.finished;
  }

  #send(isError: boolean, value: unknown): void {
    this.#state = DELIVERING;
    const delivered = isError ? this.#api.postError(this.requestId, toErrorBody(value), value) : this.#postResult(value);
    void delivered.then(this.#deliver); // the posts never reject: a refused one is logged where it is made
  }

  /** Posts the result as JSON (`undefined` as null); one that cannot be serialised becomes the invoke's error. */
  #postResult(value: unknown): Promise<void> {
    let json: string;
    try {
      // JSON.stringify returns undefined for functions and symbols: those are sent as null too.
      json = JSON.stringify(value === undefined ? null : value) ?? 'null';
    } catch {
      // AWS's client (4.x) reports exactly this, whatever JSON.stringify said (a BigInt, a cycle, a throwing toJSON).
      const error = new RuntimeError('Runtime.JSONStringifyError', 'Unable to stringify response body');
      return this.#api.postError(this.requestId, toErrorBody(error), error);
    }
    return this.#api.postResponse(this.requestId, json);
  }
}
