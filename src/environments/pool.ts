// EnvironmentPool: the execution environments of every function revision, started on demand, reused while warm
// and torn down when no longer wanted. One environment serves one invoke at a time, so a reserve that finds no
// idle environment starts a new one (a cold start) rather than queueing behind a busy one, as Lambda scales.
// Every environment has two timers, never a polling loop: a keep-alive while idle, and a maximum lifetime.
import type { Environment, EnvironmentBackend, EnvironmentSpec } from './backend.ts';
import { LambdaEnvironmentError } from './errors.ts';

/** Lambda's keep-alive for an idle environment, near enough: about 10 minutes. */
export const DEFAULT_KEEP_ALIVE_MS = 10 * 60_000;
/** Lambda caps an environment's life at hours, even a busy one; we recycle after 2. */
export const DEFAULT_MAX_LIFETIME_MS = 2 * 60 * 60_000;

export interface EnvironmentPoolOptions {
  /** How long an idle environment is kept warm before it is stopped. */
  keepAliveMs?: number;
  /** How long any environment lives; a busy one is stopped once its invoke ends. */
  maxLifetimeMs?: number;
}

/** What a reserve needs: which function revision, and how to start an environment of it. */
export interface PoolFunction {
  functionName: string;
  /** Changes whenever the code or configuration does (Lambda's RevisionId): environments of another are stale. */
  revision: string;
  spec: EnvironmentSpec;
}

/** One environment as the pool holds it. `invokes` counts the invokes reserved on it, this one included. */
export class PooledEnvironment {
  readonly environment: Environment;
  readonly functionName: string;
  readonly revision: string;
  invokes = 0;
  /** Born busy: a new environment is started for the reserve that asked for it. */
  busy = true;
  /** Marked for stopping (update, lifetime, close): never handed out again. */
  retired = false;
  keepAliveTimer: NodeJS.Timeout | undefined;
  lifetimeTimer: NodeJS.Timeout | undefined;

  constructor(environment: Environment, fn: PoolFunction) {
    this.environment = environment;
    this.functionName = fn.functionName;
    this.revision = fn.revision;
  }

  /** The first invoke on an environment is the one that waited for its init (Lambda's cold start). */
  get isFirstInvoke(): boolean {
    return this.invokes === 1;
  }
}

export class EnvironmentPool {
  private readonly backend: EnvironmentBackend;
  private readonly keepAliveMs: number;
  private readonly maxLifetimeMs: number;
  /** Every environment the pool holds, busy or idle. */
  private readonly all = new Set<PooledEnvironment>();
  /** Idle environments per revision; the most recently released last (reused first, so the rest go cold). */
  private readonly idle = new Map<string, PooledEnvironment[]>();
  /** Cold starts in progress: close() waits for them, or they would outlive the pool. */
  private readonly starting = new Set<Promise<PooledEnvironment>>();
  private closed = false;

  constructor(backend: EnvironmentBackend, options: EnvironmentPoolOptions = {}) {
    this.backend = backend;
    this.keepAliveMs = options.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS;
    this.maxLifetimeMs = options.maxLifetimeMs ?? DEFAULT_MAX_LIFETIME_MS;
  }

  /** A warm idle environment of this revision, or a new one. The caller owns it until release(). */
  async reserve(fn: PoolFunction): Promise<PooledEnvironment> {
    if (this.closed) throw closedError();
    this.retireStale(fn);
    const warm = this.takeIdle(fn);
    const pooled = warm ?? (await this.startEnvironment(fn));
    pooled.busy = true;
    pooled.invokes += 1;
    return pooled;
  }

  /** Hands an environment back after its invoke: idle again, or stopped if it is dead or retired. */
  release(pooled: PooledEnvironment): void {
    pooled.busy = false;
    if (pooled.retired || pooled.environment.isDead || this.closed) return void this.stop(pooled);
    const stack = this.idle.get(keyOf(pooled)) ?? [];
    stack.push(pooled);
    this.idle.set(keyOf(pooled), stack);
    pooled.keepAliveTimer = unrefTimer(() => this.stop(pooled), this.keepAliveMs);
  }

  /** After an update or a delete: idle environments stop now, busy ones when their invoke ends. */
  retire(functionName: string): void {
    for (const pooled of this.all) if (pooled.functionName === functionName) this.retireOne(pooled);
  }

  /** How many environments the pool holds for a function (all revisions), busy and idle. */
  count(functionName: string): { busy: number; idle: number } {
    let busy = 0;
    let idle = 0;
    for (const pooled of this.all) {
      if (pooled.functionName !== functionName) continue;
      if (pooled.busy) busy += 1;
      else idle += 1;
    }
    return { busy, idle };
  }

  /** Host shutdown: every environment gets Lambda's shutdown (SIGTERM, SIGKILL after the grace period). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.starting]);
    await Promise.all([...this.all].map((pooled) => this.stop(pooled)));
  }

  private startEnvironment(fn: PoolFunction): Promise<PooledEnvironment> {
    const starting = this.launch(fn);
    this.starting.add(starting);
    const forget = () => void this.starting.delete(starting);
    starting.then(forget, forget);
    return starting;
  }

  private async launch(fn: PoolFunction): Promise<PooledEnvironment> {
    const environment = await this.backend.start(fn.spec);
    if (this.closed) {
      await environment.stop();
      throw closedError();
    }
    const pooled = new PooledEnvironment(environment, fn);
    this.all.add(pooled);
    // A crash while idle (or an engine restart) must take it out of the pool, not wait for the next reserve.
    void environment.exited.then(() => this.forget(pooled));
    pooled.lifetimeTimer = unrefTimer(() => this.retireOne(pooled), this.maxLifetimeMs);
    return pooled;
  }

  private takeIdle(fn: PoolFunction): PooledEnvironment | undefined {
    const stack = this.idle.get(keyOf(fn));
    while (stack && stack.length > 0) {
      const pooled = stack.pop()!;
      clearTimeout(pooled.keepAliveTimer);
      if (!pooled.environment.isDead && !pooled.retired) return pooled;
      void this.stop(pooled);
    }
    return undefined;
  }

  /** Environments of the function's earlier revisions serve no one again: the code or configuration changed. */
  private retireStale(fn: PoolFunction): void {
    for (const pooled of this.all) {
      if (pooled.functionName === fn.functionName && pooled.revision !== fn.revision) this.retireOne(pooled);
    }
  }

  private retireOne(pooled: PooledEnvironment): void {
    pooled.retired = true;
    if (!pooled.busy) void this.stop(pooled);
  }

  private stop(pooled: PooledEnvironment): Promise<void> {
    this.forget(pooled);
    // Stopping is best effort: an engine error here leaves the container to the backend's close() and reaper.
    return pooled.environment.stop().catch(() => {});
  }

  private forget(pooled: PooledEnvironment): void {
    pooled.retired = true;
    clearTimeout(pooled.keepAliveTimer);
    clearTimeout(pooled.lifetimeTimer);
    this.all.delete(pooled);
    const stack = this.idle.get(keyOf(pooled));
    if (!stack) return;
    const at = stack.indexOf(pooled);
    if (at !== -1) stack.splice(at, 1);
    if (stack.length === 0) this.idle.delete(keyOf(pooled));
  }
}

function closedError(): LambdaEnvironmentError {
  return new LambdaEnvironmentError('ServiceException', 'The environment pool is closed: lambkin is shutting down');
}

function keyOf(fn: { functionName: string; revision: string }): string {
  return `${fn.functionName}\n${fn.revision}`;
}

/** A timer that does not keep the host process alive on its own. */
function unrefTimer(callback: () => void, ms: number): NodeJS.Timeout {
  const timer = setTimeout(callback, ms);
  timer.unref();
  return timer;
}
