// How long an idle environment is kept, as a policy the pool asks each time an environment goes idle. A fixed
// keep-alive (Lambda's ~10 minutes) is the default; the hybrid histogram policy of "Serverless in the Wild"
// (hybrid-keep-alive.ts) learns each function's idle times instead. The trace study (bench/trace-study.ts, on tools/trace/) replays the
// same policy objects the pool runs, so what it measures is what `lambkin serve` does.

/** What to do with an environment that has just gone idle. */
export interface KeepAliveDecision {
  /**
   * 0: keep this environment idle for `keepAliveMs`. Greater than 0: the next invoke is not expected before then,
   * so stop the environment now and start a fresh one (pre-warm) this many ms from now, kept for `keepAliveMs`.
   */
  prewarmAfterMs: number;
  /** How long the kept (or pre-warmed) environment stays idle before it is stopped. 0: stop it now. */
  keepAliveMs: number;
}

export interface KeepAlivePolicy {
  /** An invoke of the function starts (warm or cold), at `now` (ms on any monotonic clock). */
  invoked(functionKey: string, now: number): void;
  /** An environment of the function has just gone idle, at `now`: how long to keep it. */
  idle(functionKey: string, now: number): KeepAliveDecision;
}

/** Lambda's own policy: every idle environment is kept for the same time, and nothing is pre-warmed. */
export class FixedKeepAlive implements KeepAlivePolicy {
  readonly keepAliveMs: number;

  constructor(keepAliveMs: number) {
    this.keepAliveMs = keepAliveMs;
  }

  invoked(): void {}

  idle(): KeepAliveDecision {
    return { prewarmAfterMs: 0, keepAliveMs: this.keepAliveMs };
  }
}
