// The scheduler's refusals, in Lambda's terms. The service turns a ThrottleError into 429
// TooManyRequestsException with its Reason in the body and a Retry-After header, and a LimitError into
// 400 InvalidParameterValueException. (The scheduler knows nothing of HTTP: these are plain errors.)

/** Lambda's Reason values for a throttled invoke. */
export type ThrottleReason = 'ConcurrentInvocationLimitExceeded' | 'ReservedFunctionConcurrentInvocationLimitExceeded' | 'FunctionInvocationRateLimitExceeded';

export class ThrottleError extends Error {
  readonly reason: ThrottleReason;
  /** Whole seconds the caller should wait before trying again (Retry-After); undefined when waiting will not help. */
  readonly retryAfterSeconds: number | undefined;

  constructor(reason: ThrottleReason, message: string, retryAfterSeconds: number | undefined) {
    super(message);
    this.name = 'TooManyRequestsException';
    this.reason = reason;
    this.retryAfterSeconds = retryAfterSeconds === undefined ? undefined : Math.max(1, Math.ceil(retryAfterSeconds));
  }
}

/** A concurrency setting the account's limits cannot hold (InvalidParameterValueException). */
export class LimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidParameterValueException';
  }
}
