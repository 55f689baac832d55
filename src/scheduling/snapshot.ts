// What the scheduler knows at one moment: the limits and the invokes in flight.

export interface SchedulerSnapshot {
  /** The account's concurrency limit (ConcurrentExecutions). */
  accountLimit: number;
  /** What is left for functions without reserved concurrency (UnreservedConcurrentExecutions). */
  unreservedLimit: number;
  /** Invokes in flight across all functions. */
  concurrentExecutions: number;
  functions: Record<string, { inFlight: number; reserved?: number }>;
}
