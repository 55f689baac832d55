// An event source mapping as lambkin keeps it, and what its pollers are given: the shared vocabulary of the control
// plane (src/service/handlers/event-source-mappings.ts, storage), the runner that keeps one poller per enabled mapping
// (mapping-runner.ts) and the pollers themselves (sqs-poller.ts, kinesis-poller.ts). Lambda's pull model: a poller
// reads batches from the source and runs the function on each through the one invocation path (invoke-batch.ts).

export type MappingState = 'Creating' | 'Enabling' | 'Enabled' | 'Disabling' | 'Disabled' | 'Updating' | 'Deleting';

/** The sources lambkin polls. */
export type MappingSource = 'sqs' | 'kinesis';

export interface EventSourceMappingRecord {
  uuid: string;
  /** The function's name, without qualifier. */
  functionName: string;
  /** The version or alias the mapping names (FunctionName `name:qualifier`); absent: $LATEST. */
  qualifier?: string;
  /** As AWS answers it: qualified when the mapping names a qualifier. */
  functionArn: string;
  eventSourceArn: string;
  source: MappingSource;
  state: MappingState;
  /** `USER_INITIATED` (SQS) or `User action` (streams), as AWS says it. */
  stateTransitionReason: string;
  /** Epoch seconds (with a fraction), as AWS answers. */
  lastModified: number;
  /** `No records processed`, `OK`, or `PROBLEM: ...` (a source unreachable, a function failing). */
  lastProcessingResult: string;
  batchSize: number;
  maximumBatchingWindowInSeconds: number;
  /** FilterCriteria as given: each Pattern a JSON text. */
  filterCriteria?: { Filters: { Pattern: string }[] };
  /** `["ReportBatchItemFailures"]` or []. */
  functionResponseTypes: string[];
  /** SQS: ScalingConfig.MaximumConcurrency (2–1000): the most batches in flight at once. */
  maximumConcurrency?: number;
  // Streams (Kinesis) only:
  startingPosition?: 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP';
  /** Epoch seconds, for AT_TIMESTAMP. */
  startingPositionTimestamp?: number;
  parallelizationFactor?: number;
  bisectBatchOnFunctionError?: boolean;
  /** -1: until the record expires. */
  maximumRetryAttempts?: number;
  /** -1: no limit. */
  maximumRecordAgeInSeconds?: number;
  tumblingWindowInSeconds?: number;
  /** DestinationConfig.OnFailure.Destination (streams): SQS, SNS or S3 ARN. */
  onFailureDestination?: string;
  tags?: Record<string, string>;
}

/** Where stream pollers keep their place: per mapping and shard, durably, so a restart resumes where it stopped. */
export interface CheckpointStore {
  /** The last sequence number whose record was processed (delivered or skipped), or undefined: none yet. */
  get(mappingUuid: string, shardId: string): string | undefined;
  /** Records that `sequenceNumber` and everything before it in the shard are done (durable when it returns). */
  set(mappingUuid: string, shardId: string, sequenceNumber: string): void;
  /** A finished (closed and fully read) shard: its children may start. */
  finish(mappingUuid: string, shardId: string): void;
  isFinished(mappingUuid: string, shardId: string): boolean;
  /** Forgets a deleted mapping's checkpoints. */
  forget(mappingUuid: string): void;
}

/** What a poller reports, for `lambkin status` and /metrics. */
export interface PollerStats {
  /** Messages or records behind: the queue's visible messages, the streams' records not yet processed (estimate). */
  lag: number;
  polled: number;
  delivered: number;
  failed: number;
}

/** One enabled mapping's poller: started once, stopped when the mapping is disabled, updated or deleted. */
export interface Poller {
  start(): void;
  /** Stops polling; resolves once the batches in flight have ended (or been abandoned to the source's own redelivery). */
  stop(): Promise<void>;
  stats(): PollerStats;
}

/** What the runner gives a poller it starts. */
export interface PollerDeps {
  mapping: EventSourceMappingRecord;
  /** Where batches run: the one invocation path (invoke-batch.ts invokeBatch(home, mapping, payload)). */
  home: import('../../invocation/invoke-function.ts').InvocationHome;
  checkpoints: CheckpointStore;
  /** Streams' on-failure destinations (SQS, SNS): src/delivery/destinations.ts's send(arn, record). */
  destinations?: { send(destinationArn: string, record: unknown): Promise<void> };
  /** The mapping's LastProcessingResult changed (`OK`, `PROBLEM: ...`): the runner stores it. */
  report(lastProcessingResult: string): void;
  /** The mapping's FilterCriteria compiled (filter-criteria.ts): whether a record's filterable form matches; absent: all do. */
  matches?: (filterable: unknown) => boolean;
  now?: () => number;
}

export type PollerFactory = (deps: PollerDeps) => Poller;
