// The invoke being handled right now, if any. Process-wide events (an uncaught exception, an unhandled
// rejection, the event loop running dry) have no link to the code that caused them, so they are attributed
// to whichever invoke is in flight; this module is where they find it.
//
// With several invokes at once (multi-concurrency.ts) such an event cannot be attributed to one of them: a crash
// ends the worker thread, as on AWS, and fails every invoke the worker has in flight (AWS's client leaves them to
// time out; ours answers them with the crash at once). The event loop never runs dry there (a /next is always
// waiting), so nothing waits for it.
import { isMultiConcurrent } from './config.ts';
import { logError } from './logging.ts';

export interface InFlightInvoke {
  readonly requestId: string;
  /** Settles once the invoke's outcome has been delivered to the Runtime API. */
  readonly finished: Promise<void>;
  /** Fails the invoke with `error` unless its outcome is already on its way; resolves when delivered. */
  abort(error: unknown): Promise<void>;
  /** Node.js has nothing left to do (its 'beforeExit'): the point where an invoke waiting for that completes. */
  onEventLoopEmpty(): void;
}

let current: InFlightInvoke | undefined;
// Several invokes at once: every one not yet delivered.
const concurrent: Set<InFlightInvoke> | undefined = isMultiConcurrent() ? new Set() : undefined;

/** Called as an invoke starts. */
export function setInFlight(invoke: InFlightInvoke): void {
  if (concurrent === undefined) {
    current = invoke;
    return;
  }
  concurrent.add(invoke);
  void invoke.finished.then(() => concurrent.delete(invoke));
}

/** The invokes in flight: at most one unless several run at once. */
export function inFlight(): InFlightInvoke[] {
  if (concurrent !== undefined) return [...concurrent];
  return current === undefined ? [] : [current];
}

// Set once the process crashed: the crash (already logged under its own title by process-hooks.ts) is what
// fails the invoke in flight, and AWS does not log it as an "Invoke Error" too.
let crashing = false;

/** process-hooks.ts: the process crashed; the invoke in flight is about to fail with the crash's error. */
export function markCrash(): void {
  crashing = true;
}

/**
 * Called by an invocation just before it reports `error` as its outcome: logs the "Invoke Error" line AWS's
 * client writes for every failed invoke (logging.ts, logError), except for a crash, which AWS logs only as such.
 */
export function reportInvokeError(error: unknown): void {
  if (crashing) return;
  logError('Invoke Error', error);
}
