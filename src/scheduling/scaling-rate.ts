// Lambda's scaling rate: each function may add `environments` new execution environments every `intervalMs`
// (AWS: 1,000 every 10 s), as a budget refilled continuously rather than reset at interval boundaries, so a
// function that scaled up a minute ago has its whole budget again and one that just burst has to wait for it.

export interface ScalingRate {
  /** New environments a function may add per interval (the bucket's size). */
  environments: number;
  intervalMs: number;
}

export const DEFAULT_SCALING_RATE: ScalingRate = { environments: 1_000, intervalMs: 10_000 };

/** One function's budget: a token bucket, full at first. */
export class ScalingBudget {
  private readonly rate: ScalingRate;
  private readonly now: () => number;
  private tokens: number;
  private updatedAt: number;

  constructor(rate: ScalingRate, now: () => number) {
    this.rate = rate;
    this.now = now;
    this.tokens = rate.environments;
    this.updatedAt = now();
  }

  /** Spends one new environment; false (nothing spent) when the budget has less than one. */
  tryTake(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until one new environment is allowed again. */
  msUntilNext(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : (1 - this.tokens) / this.perMs();
  }

  /** Whether the budget is full again (and can be forgotten). */
  isFull(): boolean {
    this.refill();
    return this.tokens >= this.rate.environments;
  }

  private refill(): void {
    const at = this.now();
    this.tokens = Math.min(this.rate.environments, this.tokens + (at - this.updatedAt) * this.perMs());
    this.updatedAt = at;
  }

  private perMs(): number {
    return this.rate.environments / this.rate.intervalMs;
  }
}
