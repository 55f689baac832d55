// Which idle environment to evict when the memory budget is full: the Greedy-Dual-Size-Frequency priority of
// FaasCache (Fuerst & Sharma, ASPLOS 2021), keep-alive treated as caching. An environment's priority is
//   clock + frequency × cold-start cost ÷ memory
// so a function invoked often, slow to start and small is kept before one that is rare, quick to start or large.
// The clock rises to each evicted priority, so environments left idle long enough lose to newer ones (aging),
// and the policy degrades to least-recently-used when every function looks alike.

/** A cold start whose cost nobody has measured yet counts as this many ms (Docker's create+start here). */
const DEFAULT_COLD_START_COST_MS = 250;

export class GreedyDualPriority {
  private clock = 0;
  private readonly frequency = new Map<string, number>();
  private readonly coldStartCostMs = new Map<string, number>();

  /** An invoke of the function starts. */
  invoked(functionKey: string): void {
    this.frequency.set(functionKey, (this.frequency.get(functionKey) ?? 0) + 1);
  }

  /** A cold start of the function took this long (container start plus init), ms: the price of evicting it. */
  coldStartCost(functionKey: string, costMs: number): void {
    const previous = this.coldStartCostMs.get(functionKey);
    // A moving average: one slow start on a busy machine should not dominate.
    this.coldStartCostMs.set(functionKey, previous === undefined ? costMs : 0.7 * previous + 0.3 * costMs);
  }

  /** The priority of an environment of this function that goes idle now; the lowest is evicted first. */
  priority(functionKey: string, memoryMb: number): number {
    const frequency = this.frequency.get(functionKey) ?? 1;
    const cost = this.coldStartCostMs.get(functionKey) ?? DEFAULT_COLD_START_COST_MS;
    return this.clock + (frequency * cost) / Math.max(1, memoryMb);
  }

  /** An environment with this priority was evicted: the clock moves up to it. */
  evicted(priority: number): void {
    this.clock = Math.max(this.clock, priority);
  }

  /** The function is gone: its history goes with it. */
  forget(functionKey: string): void {
    this.frequency.delete(functionKey);
    this.coldStartCostMs.delete(functionKey);
  }
}
