export { ConcurrencyScheduler, DEFAULT_ACCOUNT_LIMIT, DEFAULT_UNRESERVED_MINIMUM, type Admission, type SchedulerOptions } from './concurrency-scheduler.ts';
export { DEFAULT_SCALING_RATE, ScalingBudget, type ScalingRate } from './scaling-rate.ts';
export type { SchedulerSnapshot } from './snapshot.ts';
export { LimitError, ThrottleError, type ThrottleReason } from './throttle.ts';
