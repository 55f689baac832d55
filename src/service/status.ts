// GET /lambkin/status: what the service holds now, per function and in total, as JSON for `lambkin status` (and
// for scripts). Built from the function list, the pool's and scheduler's snapshots and the asynchronous event queue's
// depths: plain data in, plain data out.
import type { EnvironmentState, PoolSnapshot } from '../environments/pool-snapshot.ts';
import type { SchedulerSnapshot } from '../scheduling/snapshot.ts';
import type { MappingStatus as MappingRunnerStatus } from '../delivery/mappings/mapping-runner.ts';

/** Where `lambkin serve` answers with its ServiceStatus (JSON), beside the Lambda API. */
export const STATUS_PATH = '/lambkin/status';

/** How long an environment id is shown: Docker's short container id. */
export const SHORT_ID_LENGTH = 12;

export interface StatusFunctionInput {
  /** A function's name ($LATEST), or a version's pool key `name:N` (invocation/environment-key.ts). */
  name: string;
  memorySize: number;
  reservedConcurrency?: number;
  /** Environments the provisioned concurrency configs keep for this version. */
  provisionedConcurrency?: number;
  /** The aliases whose configs provision this version (a config on the version itself is not listed). */
  provisionedByAliases?: string[];
}

/** A function's asynchronous events waiting in the queue (AsyncDelivery.depths()). */
export interface QueueDepth {
  functionName: string;
  /** Events queued: waiting for their first attempt, for a retry, or being delivered now. */
  events: number;
  /** When the oldest of them was accepted (epoch ms). */
  oldestReceivedAt: number;
}

export interface EnvironmentStatus {
  /** The container id, short (12 characters, as `docker ps`). */
  id: string;
  state: EnvironmentState;
  /** Started for provisioned concurrency rather than on demand. */
  provisioned: boolean;
  memoryMb: number;
  /** Invokes served, the one in flight included. */
  invokes: number;
  /** Seconds since the environment was started. */
  ageSeconds: number;
  /** Seconds an idle environment has been waiting (since its last invoke, or its start); null unless idle. */
  idleSeconds: number | null;
}

export interface FunctionStatus {
  name: string;
  /** MemorySize, MB; for a deleted function, its environments' (null when it has none). */
  memoryMb: number | null;
  /** ReservedConcurrentExecutions; null when none is set. */
  reservedConcurrency: number | null;
  /** Provisioned concurrency: requested (as configured) and allocated (ready); null when none is configured. */
  provisionedConcurrency: { requested: number; allocated: number; busy: number } | null;
  /** A version's row: the aliases whose provisioned concurrency it holds (absent: none). */
  provisionedByAliases?: string[];
  /** Invokes in flight. */
  inFlight: number;
  /** Environments held, by state. */
  environmentCounts: Record<EnvironmentState, number>;
  environments: EnvironmentStatus[];
  /**
   * Asynchronous events queued for the function (its versions' and aliases' too: events are queued by function name),
   * delivered or not yet; 0 on a version's row.
   */
  queuedEvents: number;
  /** Seconds since the oldest queued event was accepted; null when none is queued. */
  oldestEventAgeSeconds: number | null;
  /** No longer in the function list, but the pool or the scheduler still holds something of it. */
  deleted: boolean;
}

/** An event source mapping: where it reads, what it runs, and how far behind it is. */
export interface MappingStatus {
  uuid: string;
  /** The queue's or stream's name, out of eventSourceArn. */
  source: string;
  eventSourceArn: string;
  /** The function, with its qualifier when the mapping names one (out of functionArn). */
  functionName: string;
  functionArn: string;
  state: string;
  /** Whether a poller runs for it now. */
  polling: boolean;
  /** Messages (SQS: visible in the queue) or records (Kinesis: not yet processed, an estimate) behind. */
  lag: number;
  /** LastProcessingResult: `No records processed`, `OK`, or `PROBLEM: ...`. */
  lastProcessingResult: string;
  /** Messages or records read, delivered to the function, and failed, since the poller started. */
  polled: number;
  delivered: number;
  failed: number;
}

export interface ServiceStatus {
  /** ISO 8601, when the status was taken. */
  time: string;
  functions: FunctionStatus[];
  /** The event source mappings, in UUID order (a service from before mappings sends none). */
  mappings: MappingStatus[];
  totals: {
    /** The account's concurrency limit (ConcurrentExecutions). */
    accountConcurrencyLimit: number;
    /** UnreservedConcurrentExecutions. */
    unreservedConcurrencyLimit: number;
    /** Invokes in flight across all functions. */
    concurrentExecutions: number;
    environments: number;
    memoryBudgetMb: number;
    memoryInUseMb: number;
  };
}

export function buildStatus(
  functions: StatusFunctionInput[],
  pool: PoolSnapshot,
  scheduler: SchedulerSnapshot,
  now = Date.now(),
  queue: readonly QueueDepth[] = [],
  mappings: readonly MappingRunnerStatus[] = [],
): ServiceStatus {
  const listed = new Map(functions.map((fn) => [fn.name, fn]));
  // A version's key (`name:N`) belongs to its function: listed while the function is.
  const isListed = (key: string) => listed.has(key) || listed.has(key.split(':')[0]!);
  // Functions just deleted may still have environments draining or invokes in flight: they show, marked deleted.
  const names = new Set<string>(listed.keys());
  for (const env of pool.environments) names.add(env.functionName);
  for (const p of pool.provisioned) names.add(p.functionName);
  for (const name of Object.keys(scheduler.functions)) names.add(name);
  // A deleted function's events stay queued until the worker comes to them (and drops them).
  for (const depth of queue) names.add(depth.functionName);
  const depths = new Map(queue.map((depth) => [depth.functionName, depth]));

  const provisioned = new Map(pool.provisioned.map((p) => [p.functionName, p]));
  const result: FunctionStatus[] = [];
  for (const name of [...names].sort()) {
    const fn = listed.get(name);
    const envs = pool.environments.filter((env) => env.functionName === name).sort((a, b) => a.startedAt - b.startedAt || a.id.localeCompare(b.id));
    const counts: Record<EnvironmentState, number> = { starting: 0, idle: 0, busy: 0 };
    for (const env of envs) counts[env.state] += 1;

    const held = provisioned.get(name);
    const requested = fn?.provisionedConcurrency ?? held?.requested;
    const reserved = fn?.reservedConcurrency ?? scheduler.functions[name]?.reserved;
    const depth = depths.get(name);
    result.push({
      name,
      memoryMb: fn?.memorySize ?? envs[0]?.memoryMb ?? null,
      reservedConcurrency: reserved ?? null,
      provisionedConcurrency: requested !== undefined || held ? { requested: requested ?? 0, allocated: held?.allocated ?? 0, busy: held?.busy ?? 0 } : null,
      inFlight: scheduler.functions[name]?.inFlight ?? 0,
      environmentCounts: counts,
      environments: envs.map((env) => ({
        id: env.id.slice(0, SHORT_ID_LENGTH),
        state: env.state,
        provisioned: env.provisioned,
        memoryMb: env.memoryMb,
        invokes: env.invokes,
        ageSeconds: seconds(now - env.startedAt),
        idleSeconds: env.state === 'idle' ? seconds(now - (env.lastUsedAt ?? env.startedAt)) : null,
      })),
      ...(fn?.provisionedByAliases?.length ? { provisionedByAliases: fn.provisionedByAliases } : {}),
      queuedEvents: depth?.events ?? 0,
      oldestEventAgeSeconds: depth ? seconds(now - depth.oldestReceivedAt) : null,
      deleted: !isListed(name),
    });
  }

  return {
    time: new Date(now).toISOString(),
    functions: result,
    mappings: mappings.map(mappingStatus),
    totals: {
      accountConcurrencyLimit: scheduler.accountLimit,
      unreservedConcurrencyLimit: scheduler.unreservedLimit,
      concurrentExecutions: scheduler.concurrentExecutions,
      environments: pool.environments.length,
      memoryBudgetMb: pool.memoryBudgetMb,
      memoryInUseMb: pool.memoryInUseMb,
    },
  };
}

function mappingStatus(m: MappingRunnerStatus): MappingStatus {
  return {
    uuid: m.uuid,
    source: sourceName(m.eventSourceArn),
    eventSourceArn: m.eventSourceArn,
    functionName: functionNameOf(m.functionArn),
    functionArn: m.functionArn,
    state: m.state,
    polling: m.polling,
    lag: m.lag,
    lastProcessingResult: m.lastProcessingResult,
    polled: m.polled,
    delivered: m.delivered,
    failed: m.failed,
  };
}

/** A queue's name (`arn:aws:sqs:r:a:NAME`) or a stream's (`arn:aws:kinesis:r:a:stream/NAME`); the ARN if neither. */
export function sourceName(arn: string): string {
  const resource = arn.split(':').slice(5).join(':');
  if (resource === '') return arn;
  const slash = resource.indexOf('/');
  return slash === -1 ? resource : resource.slice(slash + 1);
}

/** `arn:aws:lambda:r:a:function:NAME[:QUALIFIER]` → `NAME[:QUALIFIER]`; the ARN if it is not a function's. */
export function functionNameOf(functionArn: string): string {
  const parts = functionArn.split(':');
  return parts[5] === 'function' && parts[6] ? parts.slice(6).join(':') : functionArn;
}

/** Whole seconds, never negative (clocks read at slightly different moments). */
function seconds(ms: number): number {
  return Math.max(0, Math.floor(ms / 1000));
}
