// ConcurrencyScheduler: Lambda's admission decisions for an invoke, before any environment is touched.
// Concurrency is invokes in flight (one environment serves one at a time). A function with reserved concurrency
// may have that many in flight, no more, and no other function can take them (a guarantee and a cap; 0 stops
// every invoke). The others share what is left of the account's limit, which never drops below the unreserved
// minimum (AWS: 100 of 1,000). A cold start also spends the function's scaling-rate budget.
import { DEFAULT_SCALING_RATE, ScalingBudget, type ScalingRate } from './scaling-rate.ts';
import type { SchedulerSnapshot } from './snapshot.ts';
import { LimitError, ThrottleError } from './throttle.ts';

export const DEFAULT_ACCOUNT_LIMIT = 1_000;
export const DEFAULT_UNRESERVED_MINIMUM = 100;
/** A concurrency throttle clears as soon as any invoke ends: ask the caller to come back in a second. */
const CONCURRENCY_RETRY_AFTER_SECONDS = 1;
/** Lambda's message for every throttle; ours adds which limit it was. */
const RATE_EXCEEDED = 'Rate Exceeded.';

export interface SchedulerOptions {
  /** The account's concurrent executions (ConcurrentExecutions). */
  accountLimit?: number;
  /** What reserved concurrency must leave to every other function; at most the account limit. */
  unreservedMinimum?: number;
  scalingRate?: ScalingRate;
  /** Milliseconds on a monotonic clock; performance.now by default. */
  now?: () => number;
}

/** An admitted invoke: it counts as in flight until release(). */
export interface Admission {
  /** The invoke needs a new environment: spends the scaling-rate budget, or throws a ThrottleError. */
  coldStart(): void;
  /** The invoke is over (idempotent). */
  release(): void;
}

export class ConcurrencyScheduler {
  readonly accountLimit: number;
  readonly unreservedMinimum: number;
  private readonly scalingRate: ScalingRate;
  private readonly now: () => number;
  private readonly reservedByFunction = new Map<string, number>();
  private readonly inFlightByFunction = new Map<string, number>();
  private readonly budgets = new Map<string, ScalingBudget>();
  /** Invokes in flight of functions without reserved concurrency: what the unreserved pool holds. */
  private unreservedInFlight = 0;

  constructor(options: SchedulerOptions = {}) {
    this.accountLimit = options.accountLimit ?? DEFAULT_ACCOUNT_LIMIT;
    this.unreservedMinimum = Math.min(options.unreservedMinimum ?? DEFAULT_UNRESERVED_MINIMUM, this.accountLimit);
    this.scalingRate = options.scalingRate ?? DEFAULT_SCALING_RATE;
    this.now = options.now ?? (() => performance.now());
  }

  /** What functions without reserved concurrency share (UnreservedConcurrentExecutions). */
  get unreservedLimit(): number {
    let reserved = 0;
    for (const value of this.reservedByFunction.values()) reserved += value;
    return this.accountLimit - reserved;
  }

  reserved(functionName: string): number | undefined {
    return this.reservedByFunction.get(functionName);
  }

  /**
   * PutFunctionConcurrency (a number) or DeleteFunctionConcurrency (undefined). Refused with a LimitError when it
   * would leave the unreserved pool below its minimum, with Lambda's message.
   */
  setReserved(functionName: string, reserved: number | undefined): void {
    const inFlight = this.inFlightByFunction.get(functionName) ?? 0;
    if (reserved === undefined) {
      // Invokes already in flight move between the pools with their function.
      if (this.reservedByFunction.delete(functionName)) this.unreservedInFlight += inFlight;
      return;
    }
    const others = this.unreservedLimit + (this.reservedByFunction.get(functionName) ?? 0);
    if (others - reserved < this.unreservedMinimum) {
      throw new LimitError(
        "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below " +
          `its minimum value of [${this.unreservedMinimum}].`,
      );
    }
    if (!this.reservedByFunction.has(functionName)) this.unreservedInFlight -= inFlight;
    this.reservedByFunction.set(functionName, reserved);
  }

  /** A deleted function: its reservation returns to the unreserved pool. */
  forget(functionName: string): void {
    this.setReserved(functionName, undefined);
    this.budgets.delete(functionName);
  }

  /** Admits an invoke or throws a ThrottleError naming the limit it would exceed. */
  admit(functionName: string): Admission {
    const reserved = this.reservedByFunction.get(functionName);
    const inFlight = this.inFlightByFunction.get(functionName) ?? 0;
    // Reserved concurrency 0 stops the function: Lambda answers a bare "Rate Exceeded." with no Retry-After, since
    // waiting changes nothing (test_lambda.snapshot.json, test_lambda_concurrency_block).
    if (reserved === 0) throw new ThrottleError('ReservedFunctionConcurrentInvocationLimitExceeded', RATE_EXCEEDED, undefined);
    if (reserved !== undefined && inFlight >= reserved) {
      throw new ThrottleError(
        'ReservedFunctionConcurrentInvocationLimitExceeded',
        `${RATE_EXCEEDED} Function ${functionName} has reserved concurrency ${reserved}, all of it in use.`,
        CONCURRENCY_RETRY_AFTER_SECONDS,
      );
    }
    if (reserved === undefined && this.unreservedInFlight >= this.unreservedLimit) {
      throw new ThrottleError(
        'ConcurrentInvocationLimitExceeded',
        `${RATE_EXCEEDED} The account's unreserved concurrency (${this.unreservedLimit} of ${this.accountLimit}) is all in use.`,
        CONCURRENCY_RETRY_AFTER_SECONDS,
      );
    }
    this.inFlightByFunction.set(functionName, inFlight + 1);
    if (reserved === undefined) this.unreservedInFlight += 1;
    let released = false;
    return {
      coldStart: () => this.spendScalingBudget(functionName),
      release: () => {
        if (released) return;
        released = true;
        const now = (this.inFlightByFunction.get(functionName) ?? 1) - 1;
        if (now === 0) this.inFlightByFunction.delete(functionName);
        else this.inFlightByFunction.set(functionName, now);
        // It counts in its function's pool as of now: setReserved moves invokes in flight between the pools.
        if (!this.reservedByFunction.has(functionName)) this.unreservedInFlight -= 1;
      },
    };
  }

  snapshot(): SchedulerSnapshot {
    const functions: SchedulerSnapshot['functions'] = {};
    let concurrentExecutions = 0;
    for (const [name, inFlight] of this.inFlightByFunction) {
      functions[name] = { inFlight };
      concurrentExecutions += inFlight;
    }
    for (const [name, reserved] of this.reservedByFunction) functions[name] = { inFlight: functions[name]?.inFlight ?? 0, reserved };
    return { accountLimit: this.accountLimit, unreservedLimit: this.unreservedLimit, concurrentExecutions, functions };
  }

  private spendScalingBudget(functionName: string): void {
    let budget = this.budgets.get(functionName);
    if (!budget) {
      budget = new ScalingBudget(this.scalingRate, this.now);
      this.budgets.set(functionName, budget);
    }
    if (budget.tryTake()) return;
    throw new ThrottleError(
      'FunctionInvocationRateLimitExceeded',
      `${RATE_EXCEEDED} Function ${functionName} has added ${this.scalingRate.environments} execution environments ` +
        `in the last ${this.scalingRate.intervalMs / 1000} s, its scaling rate.`,
      budget.msUntilNext() / 1000,
    );
  }
}
