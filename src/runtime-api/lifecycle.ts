// Lambda's lifecycle limits, and the watchdog that enforces the init limit: the emulator (one runtime process in
// its container) and the host's environments (one runtime per container) both serve this Runtime API, so both
// take the limits and the init rule from here rather than keep copies that could drift apart.
import { initTimedOut } from './errors.ts';
import type { ErrorBody, InitOutcome } from './types.ts';

/** Lambda's init phase limit. */
export const INIT_TIMEOUT_MS = 10_000;
/** Lambda's grace between SIGTERM and SIGKILL at shutdown (with extensions; 500 ms without). */
export const SHUTDOWN_GRACE_MS = 2_000;

/** What the watchdog needs of a Runtime API server. */
export interface InitPhase {
  waitForInit(): Promise<InitOutcome>;
  abandonInit(error: ErrorBody): void;
}

/**
 * Watches one init phase: if the runtime has neither asked for an event nor failed by `timeoutMs`, the init fails
 * with Sandbox.Timedout (for whoever waits on it, queued invokes included) and `onTimedOut` kills the runtime.
 */
export class InitWatchdog {
  private readonly timer: NodeJS.Timeout;
  private ended = false;

  constructor(phase: InitPhase, timeoutMs: number, onTimedOut: () => void) {
    this.timer = setTimeout(() => {
      phase.abandonInit(initTimedOut(timeoutMs));
      onTimedOut();
    }, timeoutMs);
    void phase.waitForInit().then(() => {
      this.ended = true;
      clearTimeout(this.timer);
    });
  }

  /** The init has ended: the first `/next`, `/init/error`, the runtime's exit, or the limit. */
  get initEnded(): boolean {
    return this.ended;
  }

  /** The runtime is gone or being stopped: nothing left to watch. */
  cancel(): void {
    clearTimeout(this.timer);
  }
}
