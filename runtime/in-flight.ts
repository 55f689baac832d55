// The invoke being handled right now, if any. Process-wide events (an uncaught exception, an unhandled
// rejection, the event loop running dry) have no link to the code that caused them, so they are attributed
// to whichever invoke is in flight; this module is where they find it.
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

export function setInFlight(invoke: InFlightInvoke | undefined): void {
  current = invoke;
}

export function inFlight(): InFlightInvoke | undefined {
  return current;
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
