// What the pool holds at one moment, for `lambkin status`, /metrics and the scheduler: plain data, no handles.

export type EnvironmentState = 'starting' | 'idle' | 'busy';

export interface EnvironmentSnapshot {
  /** The container id. */
  id: string;
  functionName: string;
  state: EnvironmentState;
  /** Started for provisioned concurrency (never reaped for idleness) rather than on demand. */
  provisioned: boolean;
  memoryMb: number;
  /** Invokes served, the one in flight included. */
  invokes: number;
  /** Epoch ms. */
  startedAt: number;
  /** Epoch ms of the last invoke's end; undefined before the first. */
  lastUsedAt?: number;
}

export interface ProvisionedSnapshot {
  functionName: string;
  /** ProvisionedConcurrentExecutions as the user asked. */
  requested: number;
  /** Provisioned environments initialised and ready (busy or idle). */
  allocated: number;
  /** Of those, the ones serving an invoke now. */
  busy: number;
}

export interface PoolSnapshot {
  /** The machine's memory budget for environments, MB. */
  memoryBudgetMb: number;
  /** The sum of MemorySize over every environment held (starting, idle and busy), MB. */
  memoryInUseMb: number;
  environments: EnvironmentSnapshot[];
  provisioned: ProvisionedSnapshot[];
}
