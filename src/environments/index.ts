// Execution environments: the backend interface, and Docker's implementation of it.
export type * from './backend.ts';
export { DockerBackend, type DockerBackendOptions } from './docker-backend.ts';
export { DockerEnvironment } from './docker-environment.ts';
export { INIT_TIMEOUT_MS, SHUTDOWN_GRACE_MS } from '../runtime-api/lifecycle.ts';
export { LambdaEnvironmentError, type EnvironmentErrorType } from './errors.ts';
export { HOST_ADDRESS_ENV, detectHostAddress, type HostAddress } from './host-address.ts';
export { OWNER_LABEL, OWNER_PID_LABEL, OWNER_HOST_LABEL, FUNCTION_LABEL } from './labels.ts';
export { Reaper, isProcessAlive } from './reaper.ts';
export { RESERVED_VARIABLES, environmentVariables, logStreamName, nanoCpusFor } from './container-spec.ts';
export {
  EnvironmentPool,
  PooledEnvironment,
  DEFAULT_KEEP_ALIVE_MS,
  DEFAULT_MAX_LIFETIME_MS,
  type EnvironmentPoolOptions,
  type PoolFunction,
  type ReserveOptions,
} from './pool.ts';
export { FixedKeepAlive, type KeepAliveDecision, type KeepAlivePolicy } from './keep-alive.ts';
export { HybridHistogramKeepAlive, type HybridKeepAliveOptions } from './hybrid-keep-alive.ts';
export { GreedyDualPriority } from './greedy-dual.ts';
export type { ProvisionedStatus } from './provisioned-concurrency.ts';
export type * from './pool-snapshot.ts';
export { InMemoryLogSink, type LogSink, type LogEvent, type LogEventFacts } from './log-sink.ts';
export { FileLogSink, functionLogDirectory, functionLogFiles, logStreamFileName, type FileLogSinkOptions } from './file-log-sink.ts';
