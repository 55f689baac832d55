// The scheduler's decisions on their own, on a clock the test moves: what Lambda admits and what it throttles.
import { describe, expect, it } from 'vitest';
import { ConcurrencyScheduler, ThrottleError } from '../src/scheduling/index.ts';

function throttleOf(run: () => unknown): ThrottleError {
  try {
    run();
  } catch (error) {
    if (error instanceof ThrottleError) return error;
    throw error;
  }
  throw new Error('expected a throttle');
}

describe('ConcurrencyScheduler', () => {
  it('reserved concurrency is a cap for its function and is taken out of everyone else’s pool', () => {
    const scheduler = new ConcurrencyScheduler({ accountLimit: 10, unreservedMinimum: 3 });
    scheduler.setReserved('a', 2);
    expect(scheduler.unreservedLimit).toBe(8);
    const held = [scheduler.admit('a'), scheduler.admit('a')];
    const refusal = throttleOf(() => scheduler.admit('a'));
    expect(refusal.reason).toBe('ReservedFunctionConcurrentInvocationLimitExceeded');
    expect(refusal.retryAfterSeconds).toBe(1);
    // Others share the 8 unreserved, whatever `a` does.
    const others = Array.from({ length: 8 }, () => scheduler.admit('b'));
    expect(throttleOf(() => scheduler.admit('c')).reason).toBe('ConcurrentInvocationLimitExceeded');
    expect(scheduler.snapshot()).toMatchObject({ concurrentExecutions: 10, functions: { a: { inFlight: 2, reserved: 2 }, b: { inFlight: 8 } } });
    held[0]!.release();
    held[0]!.release(); // idempotent
    expect(() => scheduler.admit('a').release()).not.toThrow();
    others[0]!.release();
    expect(() => scheduler.admit('c')).not.toThrow();
  });

  it('reserved 0 stops every invoke; the unreserved minimum bounds what may be reserved', () => {
    const scheduler = new ConcurrencyScheduler({ accountLimit: 10, unreservedMinimum: 3 });
    scheduler.setReserved('off', 0);
    // Lambda's bare words, and no Retry-After: waiting would not help (test_lambda_concurrency_block).
    const stopped = throttleOf(() => scheduler.admit('off'));
    expect(stopped.message).toBe('Rate Exceeded.');
    expect(stopped.retryAfterSeconds).toBeUndefined();
    scheduler.setReserved('a', 7);
    expect(() => scheduler.setReserved('b', 1)).toThrow(/below its minimum value of \[3\]/);
    // Changing a function's own reservation counts only the others'.
    expect(() => scheduler.setReserved('a', 7)).not.toThrow();
    scheduler.forget('a');
    expect(scheduler.unreservedLimit).toBe(10);
  });

  it('invokes in flight move with their function between the reserved and unreserved pools', () => {
    const scheduler = new ConcurrencyScheduler({ accountLimit: 4, unreservedMinimum: 1 });
    const running = [scheduler.admit('a'), scheduler.admit('a')];
    scheduler.setReserved('a', 2); // the two in flight now count against a's reservation, not the shared 2
    scheduler.admit('b');
    scheduler.admit('b');
    expect(throttleOf(() => scheduler.admit('b')).reason).toBe('ConcurrentInvocationLimitExceeded');
    // a's reservation returns to the shared pool with one invoke still in flight: 4 shared, 3 taken.
    running[0]!.release();
    scheduler.setReserved('a', undefined);
    scheduler.admit('b');
    expect(throttleOf(() => scheduler.admit('a')).reason).toBe('ConcurrentInvocationLimitExceeded');
    running[1]!.release();
    scheduler.admit('a');
  });

  it('the scaling rate is a budget of new environments refilled continuously, with Retry-After until the next one', () => {
    let now = 0;
    const scheduler = new ConcurrencyScheduler({ scalingRate: { environments: 3, intervalMs: 30_000 }, now: () => now });
    const admission = scheduler.admit('f');
    admission.coldStart();
    admission.coldStart();
    admission.coldStart();
    const refusal = throttleOf(() => admission.coldStart());
    expect(refusal.reason).toBe('FunctionInvocationRateLimitExceeded');
    expect(refusal.retryAfterSeconds).toBe(10); // one environment every 10 s
    now = 9_999;
    expect(() => admission.coldStart()).toThrow(ThrottleError);
    now = 10_000;
    expect(() => admission.coldStart()).not.toThrow();
    // Another function has a budget of its own.
    expect(() => scheduler.admit('g').coldStart()).not.toThrow();
    now = 1_000_000; // never more than the bucket holds
    for (let i = 0; i < 3; i++) admission.coldStart();
    expect(() => admission.coldStart()).toThrow(ThrottleError);
  });
});
