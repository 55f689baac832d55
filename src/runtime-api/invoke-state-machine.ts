// One execution environment's invoke state machine: init → ready → (invoke → respond)* → dead → reset → init …
// It owns the queue of invokes waiting for the runtime, the parked `/next` long-polls, the invokes in flight and
// their deadlines. By default (maxConcurrency 1, classic Lambda) one invoke is in flight at a time and the runtime
// may only ask for the next once it has answered; with maxConcurrency N (Lambda Managed Instances,
// AWS_LAMBDA_MAX_CONCURRENCY) up to N are in flight at once, each answered on its own by request id, and any number
// of `/next` may wait (served first come, first served). It knows nothing of HTTP: server.ts translates requests
// into calls here, and the environment's owner (emulator, pool) drives it through RuntimeApiServer's in-process API.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { invalidRequestId, invalidStateTransition, runtimeExitError, sandboxTimedOut } from './errors.ts';
import type { ErrorBody, InitOutcome, InvokeOutcome, InvokeRequest, StreamTrailers } from './types.ts';

/** What a `/next` answer carries. */
export interface DispatchedEvent {
  requestId: string;
  payload: Buffer | string;
  headers: Record<string, string>;
}

/** A parked `/next` request: called once, with the event to send. */
export type NextWaiter = (event: DispatchedEvent) => void;

/** A refusal for the runtime: HTTP status and the error body. */
export interface Refusal {
  status: number;
  body: ErrorBody;
}

interface QueuedInvoke {
  requestId: string;
  request: InvokeRequest;
  resolve: (outcome: InvokeOutcome) => void;
}

/** The invoke handed to the runtime and not yet finished. */
export interface InFlightInvoke extends QueuedInvoke {
  startedAt: number;
  timer: NodeJS.Timeout;
  /** Set once the runtime has begun answering (a response or error body is being read or streamed). */
  answering: boolean;
  /** Ends a streamed response early (timeout, runtime exit) with these trailers. */
  abortStream?: (trailers: StreamTrailers) => void;
}

// Ids of invokes that finished recently, so a late second answer is told "wrong state" (403) rather than
// "unknown id" (400). A handful per concurrent invoke is enough: a runtime only ever talks about invokes it was
// just given.
const RECENT_IDS_PER_SLOT = 32;

export class InvokeStateMachine extends EventEmitter {
  private readonly maxConcurrency: number;
  private readonly recentIdsKept: number;
  private readonly queue: QueuedInvoke[] = [];
  /** Invokes handed to the runtime and not yet finished, by request id (at most maxConcurrency). */
  private readonly inFlight = new Map<string, InFlightInvoke>();
  /** Parked `/next` long-polls, oldest first (at most one when maxConcurrency is 1). */
  private readonly parkedNext: NextWaiter[] = [];
  private readonly recentIds: string[] = [];

  private initStartedAt = performance.now();
  private initOutcome: InitOutcome | undefined;
  private initWaiters: Array<(outcome: InitOutcome) => void> = [];
  /**
   * After a runtime exit or an init failure (and, with one invoke at a time, a timeout) nothing is dispatched
   * until reset().
   */
  private dead = false;

  /** `maxConcurrency`: how many invokes the runtime may have in flight at once (a whole number, 1 or more). */
  constructor(maxConcurrency = 1) {
    super();
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1) {
      throw new RangeError(`maxConcurrency must be a whole number of at least 1, got ${maxConcurrency}`);
    }
    this.maxConcurrency = maxConcurrency;
    this.recentIdsKept = RECENT_IDS_PER_SLOT * maxConcurrency;
  }

  // --- The owner's side -------------------------------------------------------------------------------------

  invoke(request: InvokeRequest): Promise<InvokeOutcome> {
    return new Promise((resolve) => {
      this.queue.push({ requestId: request.requestId ?? randomUUID(), request, resolve });
      this.dispatch();
    });
  }

  waitForInit(): Promise<InitOutcome> {
    if (this.initOutcome) return Promise.resolve(this.initOutcome);
    return new Promise((resolve) => this.initWaiters.push(resolve));
  }

  /** The runtime process went away. `reason` in Lambda's words: `exit status 1`, `signal: killed`. */
  runtimeExited(reason: string): void {
    if (this.dead) return;
    this.dead = true;
    this.parkedNext.length = 0;
    const hadInFlight = this.inFlight.size > 0;
    // Every invoke the runtime had taken dies with it.
    for (const invoke of [...this.inFlight.values()]) {
      this.finish(invoke, {
        kind: 'runtime-exit',
        requestId: invoke.requestId,
        error: runtimeExitError(invoke.requestId, reason),
        durationMs: performance.now() - invoke.startedAt,
      });
    }
    const diedInInit = !hadInFlight && !this.initOutcome;
    // Died during init: whoever waits for this init learns it now, and so do the invokes queued behind it, so that a
    // runtime which exits at once fails its callers instead of leaving them hanging.
    if (diedInInit) {
      this.settleInit({ kind: 'runtime-exit', error: runtimeExitError(undefined, reason), initDurationMs: performance.now() - this.initStartedAt });
    }
    // After the init, one invoke at a time, an invoke queued behind the one that died waits for the runtime that
    // replaces it (reset(), as the emulator does at once). Several at a time, the queue is whatever the owner sent
    // beyond the runtime's capacity: it fails too, so that nothing hangs on an environment whose owner may never
    // replace its runtime (a pool discards it) until a deadline that has not even started.
    if (diedInInit || this.maxConcurrency > 1) {
      this.failQueued((requestId) => ({ kind: 'runtime-exit', requestId, error: runtimeExitError(requestId, reason), durationMs: 0 }));
    }
  }

  /** A new runtime process is starting: a fresh init phase. Queued invokes go to it once it is ready. */
  reset(): void {
    this.dead = false;
    this.parkedNext.length = 0;
    this.initOutcome = undefined;
    this.initStartedAt = performance.now();
  }

  /**
   * The runtime process has just started: Init Duration counts from now. Without effect once the init has ended,
   * so an owner that learns of the start late cannot erase a first /next that came before.
   */
  markInitStart(): void {
    if (!this.initOutcome) this.initStartedAt = performance.now();
  }

  /** Fails everything still waiting; used on shutdown. */
  shutdown(reason: string): void {
    this.runtimeExited(reason);
    this.failQueued((requestId) => ({
      kind: 'runtime-exit',
      requestId,
      error: runtimeExitError(requestId, reason),
      durationMs: 0,
    }));
    if (!this.initOutcome) {
      this.settleInit({
        kind: 'runtime-exit',
        error: runtimeExitError(undefined, reason),
        initDurationMs: performance.now() - this.initStartedAt,
      });
    }
  }

  get isDead(): boolean {
    return this.dead;
  }

  /** True when the runtime has as many invokes in flight as it may have: a new one would queue. */
  get isBusy(): boolean {
    return this.inFlight.size >= this.maxConcurrency;
  }

  /** How many invokes the runtime has taken and not yet finished. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  // --- The runtime's side (called by the HTTP layer) --------------------------------------------------------

  /** GET /next. Returns a refusal, or undefined when the waiter was accepted (answered now or later). */
  next(waiter: NextWaiter): Refusal | undefined {
    if (this.dead) return { status: 403, body: invalidStateTransition('the environment is shutting down') };
    // One invoke at a time: the runtime asks for the next only once it has answered, and asks once. With several,
    // its workers ask while others' invokes run, and each waits its turn.
    if (this.maxConcurrency === 1) {
      if (this.inFlight.size > 0) {
        return { status: 403, body: invalidStateTransition('/next called before the current invoke was answered') };
      }
      if (this.parkedNext.length > 0) return { status: 403, body: invalidStateTransition('/next is already waiting') };
    }
    if (!this.initOutcome) this.settleInit({ kind: 'ready', initDurationMs: performance.now() - this.initStartedAt });
    this.parkedNext.push(waiter);
    this.dispatch();
    return undefined;
  }

  /** A parked `/next` whose connection went away: forget it, so no event is handed to a closed socket. */
  cancelNext(waiter: NextWaiter): void {
    const index = this.parkedNext.indexOf(waiter);
    if (index !== -1) this.parkedNext.splice(index, 1);
  }

  /** The runtime starts answering invoke `requestId` (response or error). */
  beginAnswer(requestId: string): InFlightInvoke | Refusal {
    const invoke = this.inFlight.get(requestId);
    if (!invoke) {
      return this.recentIds.includes(requestId)
        ? { status: 403, body: invalidStateTransition(`invoke ${requestId} has already been answered`) }
        : { status: 400, body: invalidRequestId() };
    }
    if (invoke.answering) {
      return { status: 403, body: invalidStateTransition(`invoke ${requestId} is already being answered`) };
    }
    invoke.answering = true;
    return invoke;
  }

  /** The runtime's answer could not be read (it disconnected half-way): the invoke may be answered again. */
  abandonAnswer(invoke: InFlightInvoke): void {
    if (this.inFlight.get(invoke.requestId) === invoke) invoke.answering = false;
  }

  /**
   * The owner gave up on this init (it ran past the init timeout): everyone waiting on it gets `error`. The
   * owner then kills the runtime; its exit changes nothing more.
   */
  abandonInit(error: ErrorBody): void {
    if (this.initOutcome || this.dead) return;
    this.failInit(error, Buffer.from(JSON.stringify(error)));
  }

  /** POST /init/error. */
  initError(error: ErrorBody, body: Buffer): Refusal | undefined {
    if (this.initOutcome) {
      return { status: 403, body: invalidStateTransition('/init/error after the runtime called /next') };
    }
    this.failInit(error, body);
    return undefined;
  }

  /** Ends the invoke in flight with `outcome`. Streamed invokes resolve early and end through their stream. */
  finish(invoke: InFlightInvoke, outcome: InvokeOutcome): void {
    if (this.inFlight.get(invoke.requestId) !== invoke) return;
    clearTimeout(invoke.timer);
    this.inFlight.delete(invoke.requestId);
    this.recentIds.push(invoke.requestId);
    if (this.recentIds.length > this.recentIdsKept) this.recentIds.shift();
    if (outcome.kind === 'timeout' || outcome.kind === 'runtime-exit') {
      // A timeout ends the environment only when it runs one invoke at a time (see timedOut()).
      if (outcome.kind === 'runtime-exit' || this.maxConcurrency === 1) this.dead = true;
      invoke.abortStream?.({ errorType: outcome.error.errorType, errorBody: outcome.error });
    }
    invoke.resolve(outcome);
    this.dispatch();
  }

  /**
   * A streamed answer has started: the caller gets the stream now; the invoke stays in flight (its deadline
   * still runs) until `end` settles.
   */
  startStream(invoke: InFlightInvoke, body: Readable, contentType: string, abort: (t: StreamTrailers) => void) {
    invoke.abortStream = abort;
    let settleEnd!: (value: { trailers: StreamTrailers; durationMs: number }) => void;
    const end = new Promise<{ trailers: StreamTrailers; durationMs: number }>((resolve) => (settleEnd = resolve));
    invoke.resolve({ kind: 'streaming', requestId: invoke.requestId, body, contentType, end });
    // From here on the invoke's promise is settled; finishing only clears the slot.
    invoke.resolve = () => {};
    return (trailers: StreamTrailers) => {
      const durationMs = performance.now() - invoke.startedAt;
      settleEnd({ trailers, durationMs });
      this.finish(invoke, { kind: 'success', requestId: invoke.requestId, body: Buffer.alloc(0), contentType, durationMs });
    };
  }

  // --- Internals ---------------------------------------------------------------------------------------------

  private dispatch(): void {
    while (!this.dead && this.queue.length > 0 && this.parkedNext.length > 0 && this.inFlight.size < this.maxConcurrency) {
      this.dispatchOne(this.parkedNext.shift()!, this.queue.shift()!);
    }
  }

  private dispatchOne(waiter: NextWaiter, queued: QueuedInvoke): void {
    const { request, requestId } = queued;
    const deadline = Date.now() + request.timeoutMs;
    const invoke: InFlightInvoke = {
      ...queued,
      startedAt: performance.now(),
      answering: false,
      timer: setTimeout(() => this.timedOut(invoke), request.timeoutMs),
    };
    this.inFlight.set(requestId, invoke);

    const headers: Record<string, string> = {
      'Lambda-Runtime-Aws-Request-Id': requestId,
      'Lambda-Runtime-Deadline-Ms': String(deadline),
      'Content-Type': request.contentType ?? 'application/json',
    };
    if (request.invokedFunctionArn) headers['Lambda-Runtime-Invoked-Function-Arn'] = request.invokedFunctionArn;
    if (request.traceId) headers['Lambda-Runtime-Trace-Id'] = request.traceId;
    if (request.clientContext) headers['Lambda-Runtime-Client-Context'] = request.clientContext;
    if (request.cognitoIdentity) headers['Lambda-Runtime-Cognito-Identity'] = request.cognitoIdentity;
    waiter({ requestId, payload: request.payload, headers });
  }

  /**
   * The invoke's caller gets Sandbox.Timedout, and a late answer for it is refused (403: already answered).
   * One invoke at a time: the runtime may still be running the handler, and nothing else runs there, so the owner
   * kills it ('timeout') and the next invoke gets a fresh one, as Lambda resets the sandbox. Several at a time: the
   * invoke fails alone and the environment keeps serving ('invoke-timeout', the owner kills nothing). Killing the
   * runtime would fail every other invoke in flight for one slow handler, which loses far more than a handler that
   * runs on unseen; its slot is free again, and the runtime itself decides when it can take more (it asks /next).
   */
  private timedOut(invoke: InFlightInvoke): void {
    this.finish(invoke, {
      kind: 'timeout',
      requestId: invoke.requestId,
      error: sandboxTimedOut(invoke.requestId, invoke.request.timeoutMs),
      durationMs: performance.now() - invoke.startedAt,
    });
    this.emit(this.maxConcurrency === 1 ? 'timeout' : 'invoke-timeout', invoke.requestId);
  }

  /** Init failed: the environment is dead, and the invokes waiting for it get the init error. */
  private failInit(error: ErrorBody, body: Buffer): void {
    const initDurationMs = performance.now() - this.initStartedAt;
    this.dead = true;
    this.settleInit({ kind: 'init-error', error, body, initDurationMs });
    this.failQueued((requestId) => ({ kind: 'init-error', requestId, error, body, durationMs: initDurationMs }));
  }

  private settleInit(outcome: InitOutcome): void {
    this.initOutcome = outcome;
    const waiters = this.initWaiters;
    this.initWaiters = [];
    for (const resolve of waiters) resolve(outcome);
  }

  private failQueued(outcomeFor: (requestId: string) => InvokeOutcome): void {
    const queued = this.queue.splice(0);
    for (const entry of queued) entry.resolve(outcomeFor(entry.requestId));
  }
}
