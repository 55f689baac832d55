// EnvironmentPool: the execution environments of every function revision, started on demand, reused while warm
// and torn down when no longer wanted. One environment serves one invoke at a time, so a reserve that finds no
// idle environment starts a new one (a cold start) rather than queueing behind a busy one, as Lambda scales.
//
// What it decides, and with what:
// - how long an idle environment stays (a KeepAlivePolicy: Lambda's fixed 10 minutes by default; the policy may
//   also stop it now and pre-warm a fresh one just before the next invoke is expected);
// - which idle environment to evict when the machine's memory budget is full (Greedy-Dual, greedy-dual.ts), and
//   to refuse (TooManyRequestsException) when only busy ones hold it, rather than queue forever;
// - provisioned concurrency (provisioned-concurrency.ts): environments initialised ahead of time, never reaped.
// Every environment has timers, never a polling loop: a keep-alive while idle, and a maximum lifetime.
import { SHUTDOWN_GRACE_MS } from '../runtime-api/lifecycle.ts';
import type { EnvironmentBackend, EnvironmentSpec } from './backend.ts';
import { logStreamName } from './container-spec.ts';
import { LambdaEnvironmentError } from './errors.ts';
import { GreedyDualPriority } from './greedy-dual.ts';
import { FixedKeepAlive, type KeepAlivePolicy } from './keep-alive.ts';
import type { PoolSnapshot } from './pool-snapshot.ts';
import { PooledEnvironment, type EnvironmentOrigin, type PoolFunction } from './pooled-environment.ts';
import { ProvisionedConcurrency, type ProvisionedStatus } from './provisioned-concurrency.ts';

export { PooledEnvironment, type PoolFunction } from './pooled-environment.ts';

/** Lambda's keep-alive for an idle environment, near enough: about 10 minutes. */
export const DEFAULT_KEEP_ALIVE_MS = 10 * 60_000;
/** Lambda caps an environment's life at hours, even a busy one; we recycle after 2. */
export const DEFAULT_MAX_LIFETIME_MS = 2 * 60 * 60_000;
/**
 * The longest a reserve waits for the backend to start an environment (create and start a container: well under a
 * second on a healthy engine, seconds on a loaded one; in a burst the backend also lets only a few start at once,
 * so the last of 50 on two cores waits for the others). Past it the engine is taken to be away: the invoke fails
 * with ServiceException instead of hanging, and an environment the engine still makes later is stopped.
 */
export const ENVIRONMENT_START_TIMEOUT_MS = 60_000;
/**
 * How long close() waits for starts the engine has not answered yet (an environment's own stop is bounded by its
 * backend). A start answered later stops its environment itself; one never answered leaves at most a container
 * the next host's reaper removes. Lambda's shutdown grace plus room for the engine's round trips (3 s).
 */
export const CLOSE_WAITS_FOR_STARTS_MS = SHUTDOWN_GRACE_MS + 3_000;

export interface EnvironmentPoolOptions {
  /** How long an idle environment is kept warm, when no keepAlivePolicy is given. */
  keepAliveMs?: number;
  /** Decides each idle environment's keep-alive (and pre-warms); a fixed `keepAliveMs` by default. */
  keepAlivePolicy?: KeepAlivePolicy;
  /** How long any environment lives; a busy one is stopped once its invoke ends. */
  maxLifetimeMs?: number;
  /** The most MemorySize (MB) all environments together may hold; unlimited by default. */
  memoryBudgetMb?: number;
}

/** What a reserve may be asked to do before it starts a new environment. */
export interface ReserveOptions {
  /** Called before a cold start (not for a warm environment); throwing refuses the reserve (the scaling rate). */
  beforeColdStart?: () => void;
}

export class EnvironmentPool {
  readonly memoryBudgetMb: number;
  private readonly backend: EnvironmentBackend;
  private readonly keepAlive: KeepAlivePolicy;
  private readonly maxLifetimeMs: number;
  private readonly eviction = new GreedyDualPriority();
  private readonly provisioned: ProvisionedConcurrency;
  /** Every environment the pool holds, starting, busy or idle. */
  private readonly all = new Set<PooledEnvironment>();
  /** Idle environments per revision; the most recently released last (reused first, so the rest go cold). */
  private readonly idle = new Map<string, PooledEnvironment[]>();
  /** Starts in progress: close() waits for them, or they would outlive the pool. */
  private readonly starting = new Set<Promise<unknown>>();
  /**
   * Starts the engine has not answered yet, by function: a retire (update, delete) or a newer revision cancels
   * them, so that the environment the engine makes later is not kept for a function that no longer wants it.
   */
  private readonly launches = new Set<Launch>();
  /** Memory of environments asked of the engine but not yet in `all`: the budget counts them already. */
  private pendingMemoryMb = 0;
  /** The latest revision of each function seen, for pre-warms. */
  private readonly latest = new Map<string, PoolFunction>();
  private readonly prewarmTimers = new Map<string, NodeJS.Timeout>();
  private closed = false;

  constructor(backend: EnvironmentBackend, options: EnvironmentPoolOptions = {}) {
    this.backend = backend;
    this.keepAlive = options.keepAlivePolicy ?? new FixedKeepAlive(options.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS);
    this.maxLifetimeMs = options.maxLifetimeMs ?? DEFAULT_MAX_LIFETIME_MS;
    this.memoryBudgetMb = options.memoryBudgetMb ?? Number.POSITIVE_INFINITY;
    this.provisioned = new ProvisionedConcurrency({
      environments: (functionName) => [...this.all].filter((p) => p.functionName === functionName && p.origin === 'provisioned'),
      start: (fn) => this.startAhead(fn, 'provisioned'),
      retire: (pooled) => this.retireOne(pooled),
    });
  }

  /** A warm idle environment of this revision (provisioned first), or a new one. The caller owns it until release(). */
  async reserve(fn: PoolFunction, options: ReserveOptions = {}): Promise<PooledEnvironment> {
    if (this.closed) throw closedError();
    this.retireStale(fn);
    this.latest.set(fn.functionName, fn);
    // The policies learn per function, not per revision: an update does not change when the function is called.
    this.keepAlive.invoked(fn.functionName, performance.now());
    this.eviction.invoked(fn.functionName);
    let pooled = this.takeIdle(fn);
    if (!pooled) {
      const startedAt = performance.now();
      const victims = this.planRoom(fn.spec.memorySizeMb);
      options.beforeColdStart?.();
      this.evict(victims);
      pooled = await this.launch(fn, 'on-demand');
      this.measureColdStart(pooled, startedAt);
    }
    pooled.state = 'busy';
    pooled.invokes += 1;
    return pooled;
  }

  /** Hands an environment back after its invoke: idle again, or stopped if it is dead or retired. */
  release(pooled: PooledEnvironment): void {
    pooled.state = 'idle';
    pooled.lastUsedAt = Date.now();
    if (pooled.retired || pooled.environment.isDead || this.closed) return void this.stop(pooled);
    if (pooled.origin === 'provisioned') return this.makeIdle(pooled, undefined);
    pooled.priority = this.eviction.priority(pooled.functionName, pooled.memoryMb);
    const decision = this.keepAlive.idle(pooled.functionName, performance.now());
    if (decision.prewarmAfterMs > 0) {
      void this.stop(pooled);
      this.schedulePrewarm(pooled.functionName, decision.prewarmAfterMs, decision.keepAliveMs);
    } else if (decision.keepAliveMs <= 0) {
      void this.stop(pooled);
    } else {
      this.makeIdle(pooled, decision.keepAliveMs);
    }
  }

  /**
   * PutProvisionedConcurrencyConfig (0: Delete): this many environments of the revision initialised ahead of time.
   * More are started, surplus ones stopped (idle first); the ones that stay are not replaced.
   */
  provision(fn: PoolFunction, requested: number): void {
    if (this.closed) return;
    this.retireStale(fn);
    this.latest.set(fn.functionName, fn);
    this.provisioned.set(fn, requested);
  }

  provisionedStatus(functionName: string): ProvisionedStatus | undefined {
    return this.provisioned.status(functionName);
  }

  /**
   * After an update or a delete: idle environments stop now, busy ones when their invoke ends. Provisioned
   * concurrency goes too; after an update the caller provisions the new revision again.
   */
  retire(functionName: string): void {
    this.provisioned.forget(functionName);
    this.latest.delete(functionName); // nothing pre-warms a deleted function; an updated one is seen again at its next reserve
    for (const pooled of this.all) if (pooled.functionName === functionName) this.retireOne(pooled);
    for (const launch of this.launches) if (launch.functionName === functionName) launch.cancelled = true;
    this.cancelPrewarm(functionName);
  }

  /** How many environments the pool holds for a function (all revisions), busy and idle (starting counts as idle). */
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

  /** The sum of MemorySize over every environment held or being started, MB. */
  get memoryInUseMb(): number {
    let total = this.pendingMemoryMb;
    for (const pooled of this.all) total += pooled.memoryMb;
    return total;
  }

  snapshot(): PoolSnapshot {
    return {
      memoryBudgetMb: this.memoryBudgetMb,
      memoryInUseMb: this.memoryInUseMb,
      environments: [...this.all].map((pooled) => pooled.snapshot()),
      provisioned: this.provisioned.snapshot(),
    };
  }

  /** Host shutdown: every environment gets Lambda's shutdown (SIGTERM, SIGKILL after the grace period). */
  async close(): Promise<void> {
    this.closed = true;
    for (const name of [...this.prewarmTimers.keys()]) this.cancelPrewarm(name);
    // Environments still initialising are stopped with the rest: waiting for their init could take its whole limit.
    // Starts the engine had not answered yet stop themselves once it does (they see the pool closed), but an
    // engine that does not answer must not hold up the host's shutdown.
    let startsTimer: NodeJS.Timeout | undefined;
    const starts = Promise.race([
      Promise.allSettled([...this.starting]),
      new Promise((resolve) => (startsTimer = setTimeout(resolve, CLOSE_WAITS_FOR_STARTS_MS))),
    ]);
    await Promise.all([...[...this.all].map((pooled) => this.stop(pooled)), starts]);
    clearTimeout(startsTimer);
    await Promise.all([...this.all].map((pooled) => this.stop(pooled)));
  }

  /**
   * Puts an environment on its revision's idle stack: on top (reused first) after an invoke; at the bottom when it
   * was started ahead of time and never used, so that it backs up the environments already warm rather than taking
   * over from them (the keep-alive policy learns each position's idle times).
   */
  private makeIdle(pooled: PooledEnvironment, keepAliveMs: number | undefined): void {
    pooled.state = 'idle';
    const stack = this.idle.get(keyOf(pooled)) ?? [];
    if (pooled.invokes === 0) stack.unshift(pooled);
    else stack.push(pooled);
    this.idle.set(keyOf(pooled), stack);
    if (keepAliveMs !== undefined) pooled.keepAliveTimer = unrefTimer(() => this.stop(pooled), keepAliveMs);
  }

  /** Starts an environment; the budget counts its memory from now, and close() waits for it. */
  private launch(fn: PoolFunction, origin: EnvironmentOrigin): Promise<PooledEnvironment> {
    const memoryMb = fn.spec.memorySizeMb;
    this.pendingMemoryMb += memoryMb;
    // The log stream is named here, once per environment (as CloudWatch names one per environment), rather than
    // by whoever builds the spec for every reserve.
    const spec: EnvironmentSpec = {
      ...fn.spec,
      logStreamName: fn.spec.logStreamName ?? logStreamName(fn.spec.functionVersion ?? '$LATEST'),
      ...(origin === 'provisioned' ? { initializationType: 'provisioned-concurrency' as const } : {}),
    };
    let gaveUp = false;
    const launch: Launch = { functionName: fn.functionName, revision: fn.revision, cancelled: false };
    this.launches.add(launch);
    const starting = (async () => {
      try {
        const environment = await this.backend.start(spec);
        this.launches.delete(launch);
        if (this.closed || gaveUp) {
          await environment.stop();
          throw closedError();
        }
        // Retired while the engine was making it: one started ahead of time is not wanted any more (stopped now,
        // not after an init nobody waits for); an on-demand one still serves the invoke that asked, then stops.
        if (launch.cancelled && origin !== 'on-demand') {
          await environment.stop();
          throw new LambdaEnvironmentError('ServiceException', `The environment of ${fn.functionName} was no longer wanted once started`);
        }
        const pooled = new PooledEnvironment(environment, fn, origin);
        pooled.retired = launch.cancelled;
        this.all.add(pooled);
        // A crash while idle (or an engine restart) must take it out of the pool, not wait for the next reserve.
        void environment.exited.then(() => this.forget(pooled));
        // Its credentials, when they expire, end its life before the maximum does (a provisioned one is replaced).
        const usableUntil = pooled.credentialsUsableUntil;
        const lifetimeMs = usableUntil === undefined ? this.maxLifetimeMs : Math.min(this.maxLifetimeMs, Math.max(0, usableUntil - Date.now()));
        pooled.lifetimeTimer = unrefTimer(() => {
          this.retireOne(pooled);
          if (pooled.origin === 'provisioned') this.provisioned.reconcile(pooled.functionName);
        }, lifetimeMs);
        return pooled;
      } finally {
        this.launches.delete(launch);
        this.pendingMemoryMb -= memoryMb;
      }
    })();
    this.track(starting);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        gaveUp = true;
        reject(
          new LambdaEnvironmentError(
            'ServiceException',
            `The Docker engine did not start an environment for ${fn.functionName} within ${ENVIRONMENT_START_TIMEOUT_MS / 1000} s`,
          ),
        );
      }, ENVIRONMENT_START_TIMEOUT_MS);
    });
    return Promise.race([starting, late]).finally(() => clearTimeout(timer));
  }

  /**
   * What a cold start of the function cost, the environment's start and its init (whatever its outcome): the
   * eviction policy keeps the idle environments of costly functions longer.
   */
  private measureColdStart(pooled: PooledEnvironment, startedAt: number): void {
    void pooled.environment.waitForInit().then(() => this.eviction.coldStartCost(pooled.functionName, performance.now() - startedAt));
  }

  /**
   * Starts an environment ahead of any invoke (pre-warm or provisioned) and waits for its init before it becomes
   * idle: an invoke never takes one still initialising. Resolves false when it could not be made ready.
   */
  private startAhead(fn: PoolFunction, origin: 'prewarm' | 'provisioned', keepAliveMs?: number): Promise<boolean> {
    const ready = (async () => {
      if (this.closed) return false;
      this.evict(this.planRoom(fn.spec.memorySizeMb));
      const pooled = await this.launch(fn, origin);
      const init = await pooled.environment.waitForInit();
      if (init.kind !== 'ready' || pooled.retired || this.closed) {
        void this.stop(pooled);
        return false;
      }
      if (origin === 'prewarm') pooled.priority = this.eviction.priority(pooled.functionName, pooled.memoryMb);
      this.makeIdle(pooled, keepAliveMs);
      return true;
    })();
    this.track(ready);
    return ready;
  }

  private schedulePrewarm(functionName: string, afterMs: number, keepAliveMs: number): void {
    this.cancelPrewarm(functionName);
    const timer = unrefTimer(() => {
      this.prewarmTimers.delete(functionName);
      const fn = this.latest.get(functionName);
      if (!fn || this.idle.get(keyOf(fn))?.length) return;
      // A pre-warm that finds no room, or fails its init, is simply a cold start later.
      this.startAhead(fn, 'prewarm', keepAliveMs).catch(() => {});
    }, afterMs);
    this.prewarmTimers.set(functionName, timer);
  }

  private cancelPrewarm(functionName: string): void {
    clearTimeout(this.prewarmTimers.get(functionName));
    this.prewarmTimers.delete(functionName);
  }

  /**
   * The idle environments to evict so that `memoryMb` more fits the budget, lowest priority first; provisioned
   * ones are never evicted. Throws TooManyRequestsException when even evicting all of them would not be enough.
   */
  private planRoom(memoryMb: number): PooledEnvironment[] {
    let free = this.memoryBudgetMb - this.memoryInUseMb;
    if (free >= memoryMb) return [];
    const candidates = [...this.idle.values()]
      .flat()
      .filter((pooled) => pooled.origin !== 'provisioned')
      .sort((a, b) => a.priority - b.priority);
    const victims: PooledEnvironment[] = [];
    for (const pooled of candidates) {
      victims.push(pooled);
      free += pooled.memoryMb;
      if (free >= memoryMb) return victims;
    }
    throw new LambdaEnvironmentError(
      'TooManyRequestsException',
      `Rate Exceeded. lambkin's memory budget (${this.memoryBudgetMb} MB) is held by busy or provisioned environments: ` +
        `${memoryMb} MB more does not fit. Raise --memory-budget or lower the functions' MemorySize.`,
    );
  }

  private evict(victims: PooledEnvironment[]): void {
    for (const pooled of victims) {
      this.eviction.evicted(pooled.priority);
      void this.stop(pooled);
    }
  }

  private takeIdle(fn: PoolFunction): PooledEnvironment | undefined {
    const stack = this.idle.get(keyOf(fn));
    if (!stack) return undefined;
    // Provisioned environments first: they are paid for, and on-demand ones are what overflow goes to.
    for (const provisionedFirst of [true, false]) {
      for (let at = stack.length - 1; at >= 0; at -= 1) {
        const pooled = stack[at]!;
        if (provisionedFirst && pooled.origin !== 'provisioned') continue;
        stack.splice(at, 1);
        clearTimeout(pooled.keepAliveTimer);
        if (!pooled.environment.isDead && !pooled.retired && credentialsUsable(pooled)) return pooled;
        void this.stop(pooled);
      }
    }
    return undefined;
  }

  /** Environments of the function's earlier revisions serve no one again: the code or configuration changed. */
  private retireStale(fn: PoolFunction): void {
    for (const pooled of this.all) {
      if (pooled.functionName === fn.functionName && pooled.revision !== fn.revision) this.retireOne(pooled);
    }
    for (const launch of this.launches) {
      if (launch.functionName === fn.functionName && launch.revision !== fn.revision) launch.cancelled = true;
    }
  }

  /** Idle ones stop now, and so do ones still initialising ahead of time (nobody waits for them); busy ones after their invoke. */
  private retireOne(pooled: PooledEnvironment): void {
    pooled.retired = true;
    if (pooled.state === 'idle' || pooled.state === 'starting') void this.stop(pooled);
  }

  private stop(pooled: PooledEnvironment): Promise<void> {
    this.forget(pooled);
    // Stopping is best effort: an engine error here leaves the container to the backend's close() and reaper.
    return pooled.environment.stop().catch(() => {});
  }

  private forget(pooled: PooledEnvironment): void {
    if (!this.all.delete(pooled)) return;
    const diedOnItsOwn = !pooled.retired;
    pooled.retired = true;
    clearTimeout(pooled.keepAliveTimer);
    clearTimeout(pooled.lifetimeTimer);
    const stack = this.idle.get(keyOf(pooled));
    if (stack) {
      const at = stack.indexOf(pooled);
      if (at !== -1) stack.splice(at, 1);
      if (stack.length === 0) this.idle.delete(keyOf(pooled));
    }
    // A provisioned environment that died is replaced, as Lambda keeps the number.
    if (pooled.origin === 'provisioned' && diedOnItsOwn && !this.closed) this.provisioned.reconcile(pooled.functionName);
  }

  private track(promise: Promise<unknown>): void {
    this.starting.add(promise);
    const done = () => void this.starting.delete(promise);
    promise.then(done, done);
  }
}

/** A start the engine has not answered yet. */
interface Launch {
  functionName: string;
  revision: string;
  /** The function was retired (or moved to another revision) meanwhile: what the engine makes is not kept. */
  cancelled: boolean;
}

function closedError(): LambdaEnvironmentError {
  return new LambdaEnvironmentError('ServiceException', 'The environment pool is closed: lambkin is shutting down');
}

/** Its credentials outlast an invoke started now (a late lifetime timer must not let one through). */
function credentialsUsable(pooled: PooledEnvironment): boolean {
  const usableUntil = pooled.credentialsUsableUntil;
  return usableUntil === undefined || Date.now() < usableUntil;
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
