// Provisioned concurrency: keeps the requested number of environments of a function revision initialised ahead
// of time (AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency). A change of the number starts or stops only
// the difference; the environments that stay are not replaced (LocalStack replaces them all). One that dies, or
// reaches its lifetime, is replaced. The pool owns the environments; this keeps the count and the status.
import type { ProvisionedSnapshot } from './pool-snapshot.ts';
import type { PoolFunction, PooledEnvironment } from './pooled-environment.ts';

/** The StatusReason of a provisioned-concurrency config whose environments fail their init. */
export const FUNCTION_INIT_FAILURE = 'FUNCTION_ERROR_INIT_FAILURE';

/** GetProvisionedConcurrencyConfig's view. */
export interface ProvisionedStatus {
  requested: number;
  /** Environments initialised and ready, busy or idle. */
  allocated: number;
  /** Of those, the idle ones. */
  available: number;
  status: 'IN_PROGRESS' | 'READY' | 'FAILED';
  statusReason?: string;
}

export interface ProvisionedHooks {
  /** The pool's provisioned environments of a function, in any state. */
  environments(functionName: string): PooledEnvironment[];
  /** Starts one and waits for its init: false when it failed its init. Rejects when it could not be started. */
  start(fn: PoolFunction): Promise<boolean>;
  /** Stops it now if idle, after its invoke if busy. */
  retire(pooled: PooledEnvironment): void;
}

interface Entry {
  fn: PoolFunction;
  requested: number;
  /** Starts in flight (launch and init). */
  starting: number;
  failure: string | undefined;
}

export class ProvisionedConcurrency {
  private readonly hooks: ProvisionedHooks;
  private readonly entries = new Map<string, Entry>();

  constructor(hooks: ProvisionedHooks) {
    this.hooks = hooks;
  }

  /** Sets the number (0 removes the configuration and its environments). */
  set(fn: PoolFunction, requested: number): void {
    const name = fn.functionName;
    if (requested <= 0) {
      this.entries.delete(name);
      for (const pooled of this.hooks.environments(name)) this.hooks.retire(pooled);
      return;
    }
    const entry = this.entries.get(name);
    if (entry && entry.fn.revision === fn.revision) {
      entry.requested = requested;
      entry.failure = undefined;
    } else {
      // A new revision (or a first configuration): the old revision's environments go, new ones are started.
      for (const pooled of this.hooks.environments(name)) if (pooled.revision !== fn.revision) this.hooks.retire(pooled);
      this.entries.set(name, { fn, requested, starting: entry?.fn.revision === fn.revision ? entry.starting : 0, failure: undefined });
    }
    this.reconcile(name);
  }

  /** The function was updated or deleted: its configuration goes (the service sets it again for the new revision). */
  forget(functionName: string): void {
    this.entries.delete(functionName);
  }

  /** Starts or stops environments until the number matches the request. */
  reconcile(functionName: string): void {
    const entry = this.entries.get(functionName);
    if (!entry) return;
    const ready = this.ready(entry);
    let surplus = ready.length + entry.starting - entry.requested;
    // Surplus: idle ones stop first; busy ones finish their invoke. Starts in flight reconcile when they land.
    const byCost = [...ready].sort((a, b) => Number(a.busy) - Number(b.busy));
    for (const pooled of byCost) {
      if (surplus <= 0) break;
      this.hooks.retire(pooled);
      surplus -= 1;
    }
    if (entry.failure !== undefined) return; // no retry loop on a function whose init fails
    for (; surplus < 0; surplus += 1) this.startOne(entry);
  }

  status(functionName: string): ProvisionedStatus | undefined {
    const entry = this.entries.get(functionName);
    if (!entry) return undefined;
    const ready = this.ready(entry);
    const allocated = Math.min(ready.length, entry.requested);
    const available = ready.filter((pooled) => !pooled.busy).length;
    const status = entry.failure !== undefined ? 'FAILED' : allocated >= entry.requested ? 'READY' : 'IN_PROGRESS';
    return { requested: entry.requested, allocated, available, status, ...(entry.failure !== undefined ? { statusReason: entry.failure } : {}) };
  }

  snapshot(): ProvisionedSnapshot[] {
    return [...this.entries.entries()].map(([functionName, entry]) => {
      const ready = this.ready(entry);
      return { functionName, requested: entry.requested, allocated: ready.length, busy: ready.filter((pooled) => pooled.busy).length };
    });
  }

  private ready(entry: Entry): PooledEnvironment[] {
    return this.hooks
      .environments(entry.fn.functionName)
      .filter((pooled) => !pooled.retired && pooled.revision === entry.fn.revision && pooled.state !== 'starting');
  }

  private startOne(entry: Entry): void {
    entry.starting += 1;
    const landed = (failure: string | undefined) => {
      entry.starting -= 1;
      if (this.entries.get(entry.fn.functionName) !== entry) return;
      if (failure !== undefined) entry.failure ??= failure;
      this.reconcile(entry.fn.functionName);
    };
    this.hooks.start(entry.fn).then(
      // Lambda's StatusReason for a function whose init fails is this code alone (what Terraform and the SDKs
      // show users: "status reason: FUNCTION_ERROR_INIT_FAILURE").
      (ok) => landed(ok ? undefined : FUNCTION_INIT_FAILURE),
      (error: unknown) => landed((error as Error).message ?? String(error)),
    );
  }
}
