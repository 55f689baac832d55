// The invoke being handled right now, if any. Process-wide events (an uncaught exception, an unhandled
// rejection, the event loop running dry) have no link to the code that caused them, so they are attributed
// to whichever invoke is in flight; this module is where they find it.

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
