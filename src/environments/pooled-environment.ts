// One execution environment as the pool holds it: the environment, where it came from, its state and timers.
import type { Environment, EnvironmentSpec } from './backend.ts';
import type { EnvironmentSnapshot, EnvironmentState } from './pool-snapshot.ts';

/**
 * Why the environment exists. `on-demand`: started for the invoke that asked (a cold start). `prewarm`: started
 * ahead of an expected invoke by the keep-alive policy. `provisioned`: provisioned concurrency, never reaped for
 * idleness. Only an on-demand environment's first invoke waited for its init.
 */
/**
 * Credentials that expire must outlast any invoke that starts on the environment: its whole timeout and a minute
 * more, and never less than this. An environment is not handed an invoke past that point, and is retired at it.
 */
export const CREDENTIALS_MIN_REMAINING_MS = 5 * 60_000;

export type EnvironmentOrigin = 'on-demand' | 'prewarm' | 'provisioned';

/** What a reserve needs: which function revision, and how to start an environment of it. */
export interface PoolFunction {
  functionName: string;
  /** Changes whenever the code or configuration does (Lambda's RevisionId): environments of another are stale. */
  revision: string;
  spec: EnvironmentSpec;
}

export class PooledEnvironment {
  readonly environment: Environment;
  readonly functionName: string;
  readonly revision: string;
  readonly origin: EnvironmentOrigin;
  readonly memoryMb: number;
  readonly startedAt = Date.now();
  /** Invokes reserved on it, the one in flight included. */
  invokes = 0;
  /** Starting: initialising ahead of time (pre-warm, provisioned); an on-demand one is born busy. */
  state: EnvironmentState;
  /** Marked for stopping (update, lifetime, close, fewer provisioned): never handed out again. */
  retired = false;
  lastUsedAt: number | undefined;
  /** Greedy-Dual priority, set when it goes idle: the lowest is evicted first. */
  priority = 0;
  keepAliveTimer: NodeJS.Timeout | undefined;
  lifetimeTimer: NodeJS.Timeout | undefined;

  constructor(environment: Environment, fn: PoolFunction, origin: EnvironmentOrigin) {
    this.environment = environment;
    this.functionName = fn.functionName;
    this.revision = fn.revision;
    this.origin = origin;
    this.memoryMb = fn.spec.memorySizeMb;
    this.state = origin === 'on-demand' ? 'busy' : 'starting';
  }

  /** Epoch ms after which the environment's credentials are too close to expiry to start an invoke; undefined if they never expire. */
  get credentialsUsableUntil(): number | undefined {
    const { credentials, timeoutSeconds } = this.environment.spec;
    if (credentials?.expiresAt === undefined) return undefined;
    return credentials.expiresAt - Math.max(CREDENTIALS_MIN_REMAINING_MS, timeoutSeconds * 1000 + 60_000);
  }

  get busy(): boolean {
    return this.state === 'busy';
  }

  /** The invoke that started this environment on demand waited for its init: Lambda's cold start. */
  get isColdStart(): boolean {
    return this.origin === 'on-demand' && this.invokes === 1;
  }

  snapshot(): EnvironmentSnapshot {
    return {
      id: this.environment.id,
      functionName: this.functionName,
      state: this.state,
      provisioned: this.origin === 'provisioned',
      memoryMb: this.memoryMb,
      invokes: this.invokes,
      startedAt: this.startedAt,
      ...(this.lastUsedAt !== undefined ? { lastUsedAt: this.lastUsedAt } : {}),
    };
  }
}
