// Delivers the queued asynchronous events (event-queue.ts) through the one invocation path, as Lambda's internal
// poller does, and decides each one's fate by Lambda's rules (reference: async-invocation.md):
// - a function error (a handler error, a timeout, a crash, out of memory) spends a retry: up to
//   MaximumRetryAttempts (2 by default), about a minute before the first and two before the second;
// - a throttle, or lambkin failing to run the function, spends none: the event goes back with a backoff of 1 s
//   doubling to 5 minutes, until it is older than MaximumEventAgeInSeconds;
// - reserved concurrency 0 sends a new event straight to its failure destination;
// - then the record goes to OnSuccess or OnFailure, and a failed event's payload to the version's dead-letter queue.
// Events of a function, version or alias deleted meanwhile are dropped with a log line. Each function has at most
// `perFunction` deliveries in flight, so one function's backlog never starves another's.
//
// Accepting comes first: while Event invokes keep arriving (one within ACCEPTING_WINDOW_MS), each function gets
// `perFunctionWhileAccepting` deliveries in flight (1 by default), and its full `perFunction` once they pause. A 202 is
// what a caller waits for and a delivery is not; on a machine of few cores the two compete for the same CPU (a
// delivery costs more of it than an accept: measured on 2 cores, full-speed delivery halved the accept rate), and the
// queue exists to absorb a burst and deliver it after. Delivery never stops meanwhile, so a steady stream still
// drains, more slowly.
import type { InvocationHome, InvocationTarget } from '../invocation/invoke-function.ts';
import { invocationTarget, runTarget } from '../invocation/invoke-function.ts';
import { LambdaError } from '../invocation/lambda-error.ts';
import { wholeAnswer } from '../invocation/whole-answer.ts';
import type { AsyncSettings } from './async-settings.ts';
import type { EventQueue, QueuedEvent } from './event-queue.ts';

/** AWS's delays before the first and the second retry after a function error. */
const RETRY_DELAYS_MS = [60_000, 120_000];
const BACKOFF_FIRST_MS = 1_000;
const BACKOFF_MAX_MS = 300_000;
/** An accept this recent means callers are still sending: deliveries hold back (see the top of the file). */
const ACCEPTING_WINDOW_MS = 100;

/** Why an event left the queue without success: the destination record's `condition`. */
export type FailureCondition = 'RetriesExhausted' | 'EventAgeExceeded' | 'ZeroReservedConcurrency';

/** An attempt's result, as the destination record and the dead-letter message tell it. */
export interface AttemptResult {
  executedVersion: string;
  /** Absent on success. */
  functionError?: 'Unhandled';
  /** The function's answer (its result, or the error body). */
  payload: Buffer;
}

/** The settings for an event, and the version's dead-letter target: event-invoke config and DeadLetterConfig. */
export type SettingsFor = (target: InvocationTarget, event: QueuedEvent) => AsyncSettings & { deadLetterTarget?: string };

/** Where results go: destinations and dead-letter queues (src/delivery/destinations.ts). */
export interface ResultSink {
  /** The record of an event's end, to its OnSuccess or OnFailure destination. */
  destination(arn: string, end: EventEnd): Promise<void>;
  /** A failed event's payload, to the version's dead-letter queue. */
  deadLetter(arn: string, end: EventEnd): Promise<void>;
}

/** How an event ended, with what a destination record needs. */
export interface EventEnd {
  event: QueuedEvent;
  /** The qualified ARN of the version that ran (or would have). */
  functionArn: string;
  condition: 'Success' | FailureCondition;
  /** The last attempt's result; absent when none reached the function. */
  result?: AttemptResult;
}

/** What the worker reports, for /metrics and the log. */
export interface DeliveryObserver {
  /** An event was accepted (stored; its caller is answered 202). */
  received?(event: QueuedEvent): void;
  /** An attempt reached the function, `ageMs` after the event was accepted (CloudWatch's AsyncEventAge). */
  attempting?(event: QueuedEvent, ageMs: number): void;
  dropped?(event: QueuedEvent, reason: string): void;
  delivered?(end: EventEnd): void;
  destinationFailed?(arn: string, end: EventEnd, error: unknown): void;
  deadLetterFailed?(arn: string, end: EventEnd, error: unknown): void;
}

export interface AsyncDeliveryOptions {
  queue: EventQueue;
  home: InvocationHome;
  settingsFor: SettingsFor;
  results?: ResultSink;
  observer?: DeliveryObserver;
  /**
   * Multiplies every delay (retries, backoff) and the maximum event age alike: 1 (AWS's) by default; tests and
   * impatient users shorten them, keeping Lambda's proportions (with 0.01, retries after 0.6 s and 1.2 s, and the
   * 60 s minimum age is 0.6 s).
   */
  delayScale?: number;
  /** Deliveries in flight per function at most (16 by default). */
  perFunction?: number;
  /** Deliveries in flight per function at most while Event invokes keep arriving (1 by default). */
  perFunctionWhileAccepting?: number;
  /** Deliveries in flight in all (256 by default). */
  total?: number;
  now?: () => number;
}

export class AsyncDelivery {
  private readonly queue: EventQueue;
  private readonly home: InvocationHome;
  private readonly settingsFor: SettingsFor;
  private readonly results: ResultSink | undefined;
  private readonly observer: DeliveryObserver;
  private readonly delayScale: number;
  private readonly perFunction: number;
  private readonly perFunctionWhileAccepting: number;
  /** When the last event was accepted (this.now()'s clock). */
  private lastAcceptAt = Number.NEGATIVE_INFINITY;
  private readonly total: number;
  private readonly now: () => number;
  /** Events being delivered now, by request id: not picked again until their attempt ends. */
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly inFlightByFunction = new Map<string, number>();
  /** The function served first on the next pass: moves on each pass, so none always comes first. */
  private turn = 0;
  private timer: NodeJS.Timeout | undefined;
  private pumping = false;
  private pumpAgain = false;
  private stopped = true;

  constructor(options: AsyncDeliveryOptions) {
    this.queue = options.queue;
    this.home = options.home;
    this.settingsFor = options.settingsFor;
    this.results = options.results;
    this.observer = options.observer ?? {};
    this.delayScale = options.delayScale ?? 1;
    this.perFunction = options.perFunction ?? 16;
    this.perFunctionWhileAccepting = options.perFunctionWhileAccepting ?? 1;
    this.total = options.total ?? 256;
    this.now = options.now ?? Date.now;
  }

  /** Starts delivering: what a previous run left queued (in flight when it stopped, too) is due now. */
  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** Queues an accepted event (resolves once it is on disk to stay) and delivers it when there is room. */
  async accept(event: QueuedEvent): Promise<void> {
    await this.queue.accept(event);
    this.lastAcceptAt = this.now();
    this.observer.received?.(event);
    this.wake();
  }

  /** Events queued per function (delivered or not yet), and the oldest one's receivedAt: for `lambkin status`. */
  depths(): { functionName: string; events: number; oldestReceivedAt: number }[] {
    return this.queue.depths();
  }

  /** Something changed (an event accepted, a delivery ended): deliver what is due if there is room. */
  wake(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    queueMicrotask(() => this.pump());
  }

  /**
   * Stops taking events; resolves once the deliveries in flight have ended, or after `graceMs` (0 by default) if some
   * have not: their events stay queued and are delivered again at the next start (at least once).
   */
  async stop(graceMs = 0): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([Promise.allSettled([...this.inFlight.values()]), grace]);
    clearTimeout(timer);
  }

  /** Deliveries in flight now. */
  get deliveriesInFlight(): number {
    return this.inFlight.size;
  }

  private pump(): void {
    try {
      do {
        this.pumpAgain = false;
        this.dispatchDue();
      } while (this.pumpAgain && !this.stopped);
    } finally {
      this.pumping = false;
    }
    this.scheduleNext();
  }

  /** Starts deliveries of due events, taking one per function in turn, up to the limits. */
  private dispatchDue(): void {
    if (this.stopped || this.inFlight.size >= this.total) return;
    const now = this.now();
    const functions = this.queue.dueFunctions(now);
    if (functions.length === 0) return;
    const start = this.turn++ % functions.length;
    const perFunction = now - this.lastAcceptAt < ACCEPTING_WINDOW_MS ? this.perFunctionWhileAccepting : this.perFunction;
    // Round robin, one event of each function per round, so that one function's backlog cannot crowd out another's.
    const active = [...functions.slice(start), ...functions.slice(0, start)];
    while (active.length > 0 && this.inFlight.size < this.total) {
      for (let i = 0; i < active.length && this.inFlight.size < this.total; ) {
        const name = active[i]!;
        const room = perFunction - (this.inFlightByFunction.get(name) ?? 0);
        const [event] = room > 0 ? this.queue.take(name, now, 1) : [];
        if (event) {
          this.begin(event);
          i++;
        } else active.splice(i, 1);
      }
    }
  }

  private begin(event: QueuedEvent): void {
    const name = event.functionName;
    this.inFlightByFunction.set(name, (this.inFlightByFunction.get(name) ?? 0) + 1);
    const attempt = this.attempt(event)
      // Not a refusal or a function's error (those are handled): a fault of lambkin's. The event is put back, as a
      // throttle would be, rather than left taken (and so not delivered again until a restart).
      .catch(() =>
        this.queue.reschedule(event.requestId, {
          dueAt: this.now() + BACKOFF_FIRST_MS * this.delayScale,
          invokes: event.invokes,
          requeues: event.requeues + 1,
        }),
      )
      .finally(() => {
        this.inFlight.delete(event.requestId);
        const left = (this.inFlightByFunction.get(name) ?? 1) - 1;
        if (left > 0) this.inFlightByFunction.set(name, left);
        else this.inFlightByFunction.delete(name);
        this.wake();
      });
    this.inFlight.set(event.requestId, attempt);
  }

  /** Wakes when the next event is due (it may be due now, but wait for room). */
  private scheduleNext(): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    const next = this.queue.nextDueAt();
    if (next === undefined) return;
    // Events already due wait for a delivery to end (which wakes this); one second bounds the wait regardless.
    const now = this.now();
    let wait = Math.min(Math.max(next - now, this.inFlight.size > 0 ? 1_000 : 0), 60_000);
    // Held back while accepting: full speed again as soon as the accepts pause.
    const accepting = this.lastAcceptAt + ACCEPTING_WINDOW_MS - now;
    if (accepting > 0) wait = Math.min(wait, accepting + 1);
    this.timer = setTimeout(() => this.wake(), wait);
    this.timer.unref();
  }

  /** One attempt at an event: its end, or its next attempt, written back to the queue. */
  private async attempt(event: QueuedEvent): Promise<void> {
    let target: InvocationTarget;
    try {
      target = await invocationTarget(this.home, qualifiedName(event), null);
    } catch (error) {
      return this.refused(event, undefined, error);
    }
    const settings = this.settingsFor(target, event);
    const functionArn = `${target.fn.arn}:${target.executedVersion}`;
    if (this.now() - event.receivedAt > this.maxAgeMs(settings)) {
      return this.finish({ event, functionArn, condition: 'EventAgeExceeded', ...lastResultOf(event) }, settings);
    }
    let result: AttemptResult;
    const ageMs = this.now() - event.receivedAt;
    try {
      const run = await runTarget(this.home, target, {
        requestId: event.requestId,
        payload: event.payload,
        logTail: false,
        ...(event.traceId !== undefined ? { traceId: event.traceId } : {}),
      });
      // It reached the function (a throttled try never does): CloudWatch's AsyncEventAge counts these alone.
      this.observer.attempting?.(event, ageMs);
      result = { executedVersion: run.executedVersion, ...(await wholeAnswer(run.outcome)) };
    } catch (error) {
      return this.refused(event, { settings, functionArn }, error);
    }
    const invokes = event.invokes + 1;
    if (result.functionError === undefined) {
      return this.finish({ event: { ...event, invokes }, functionArn, condition: 'Success', result }, settings);
    }
    const retriesUsed = invokes - 1;
    if (retriesUsed >= settings.maximumRetryAttempts) {
      return this.finish({ event: { ...event, invokes }, functionArn, condition: 'RetriesExhausted', result }, settings);
    }
    const delay = (RETRY_DELAYS_MS[retriesUsed] ?? RETRY_DELAYS_MS.at(-1)!) * this.delayScale;
    this.queue.reschedule(event.requestId, { dueAt: this.now() + delay, invokes, requeues: event.requeues, lastResult: JSON.stringify(serialised(result)) });
  }

  /** The attempt did not reach the function: dropped, sent to failure (reserved concurrency 0), or put back. */
  private async refused(
    event: QueuedEvent,
    found: { settings: AsyncSettings & { deadLetterTarget?: string }; functionArn: string } | undefined,
    error: unknown,
  ): Promise<void> {
    const refusal = error instanceof LambdaError ? error : undefined;
    // Not found when resolved: the function, version or alias was deleted since the event was accepted.
    if (!found && refusal?.status === 404) {
      this.queue.remove(event.requestId);
      this.observer.dropped?.(event, `${refusal.type}: ${refusal.message}`);
      return;
    }
    // Reserved concurrency 0: waiting changes nothing (the throttle says so by giving no Retry-After).
    if (found && refusal?.status === 429 && refusal.headers['Retry-After'] === undefined) {
      return this.finish({ event, functionArn: found.functionArn, condition: 'ZeroReservedConcurrency' }, found.settings);
    }
    const backoff = Math.min(BACKOFF_FIRST_MS * 2 ** event.requeues, BACKOFF_MAX_MS) * this.delayScale;
    const dueAt = this.now() + backoff;
    if (found && dueAt - event.receivedAt > this.maxAgeMs(found.settings)) {
      return this.finish({ event, functionArn: found.functionArn, condition: 'EventAgeExceeded', ...lastResultOf(event) }, found.settings);
    }
    this.queue.reschedule(event.requestId, { dueAt, invokes: event.invokes, requeues: event.requeues + 1 });
  }

  /** MaximumEventAgeInSeconds on the worker's clock: scaled as the delays are, so that a shortened run keeps their proportions. */
  private maxAgeMs(settings: AsyncSettings): number {
    return settings.maximumEventAgeInSeconds * 1000 * this.delayScale;
  }

  /** The event's end: its record to the destination that wants it, a failure's payload to the dead-letter queue. */
  private async finish(end: EventEnd, settings: AsyncSettings & { deadLetterTarget?: string }): Promise<void> {
    const destination = end.condition === 'Success' ? settings.onSuccess : settings.onFailure;
    const sends: Promise<void>[] = [];
    if (destination && this.results) {
      sends.push(this.results.destination(destination, end).catch((error: unknown) => this.observer.destinationFailed?.(destination, end, error)));
    }
    const deadLetter = settings.deadLetterTarget;
    if (end.condition !== 'Success' && deadLetter && this.results) {
      sends.push(this.results.deadLetter(deadLetter, end).catch((error: unknown) => this.observer.deadLetterFailed?.(deadLetter, end, error)));
    }
    // A destination that cannot be reached is told to the observer and never holds the event: it is done either way.
    await Promise.all(sends);
    this.queue.remove(end.event.requestId);
    this.observer.delivered?.(end);
  }
}

/** The FunctionName an event was sent to: `name` or `name:qualifier`. */
function qualifiedName(event: QueuedEvent): string {
  return event.qualifier === undefined ? event.functionName : `${event.functionName}:${event.qualifier}`;
}

/** An attempt's result as the queue keeps it (JSON text). */
function serialised(result: AttemptResult): Record<string, string> {
  return {
    executedVersion: result.executedVersion,
    ...(result.functionError ? { functionError: result.functionError } : {}),
    payload: result.payload.toString('base64'),
  };
}

/** The last attempt's result kept with the event, for a record that must carry it (EventAgeExceeded). */
function lastResultOf(event: QueuedEvent): { result?: AttemptResult } {
  if (event.lastResult === undefined) return {};
  const kept = JSON.parse(event.lastResult) as { executedVersion: string; functionError?: 'Unhandled'; payload: string };
  return {
    result: {
      executedVersion: kept.executedVersion,
      ...(kept.functionError ? { functionError: kept.functionError } : {}),
      payload: Buffer.from(kept.payload, 'base64'),
    },
  };
}
