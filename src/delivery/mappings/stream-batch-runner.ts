// One stream batch run to its end, as Lambda runs a shard's batches: the shard waits on it. A function error retries
// the same records (from the lowest reported failure under ReportBatchItemFailures) until they succeed, the retries
// run out (MaximumRetryAttempts; -1: no limit) or the oldest record is older than MaximumRecordAgeInSeconds (-1: until
// it would expire from the stream). BisectBatchOnFunctionError halves a failing batch first, each half run on its own
// (a split is not a retry), down to the one record that fails. Given up, a batch's on-failure record goes to the
// mapping's OnFailure destination and the shard moves on. Throttles and refusals are retried with backoff, not counted.
import { invokeBatch, type BatchOutcome } from './invoke-batch.ts';
import { type FailureCondition, type KinesisEventRecord, onFailureRecord } from './kinesis-record.ts';
import type { PollerDeps, PollerStats } from './mapping.ts';
import { readBatchResponse } from './stream-batch-response.ts';

/** How long Kinesis keeps a record by default: a batch retried "until it expires" is given up after this. */
export const RECORD_EXPIRY_MS = 24 * 3600 * 1000;

export interface StreamBatchContext {
  deps: PollerDeps;
  shardId: string;
  stats: PollerStats;
  now(): number;
  stopped(): boolean;
  /** Waits `ms`, or less when the poller stops. */
  sleep(ms: number): Promise<void>;
  /** The mapping's LastProcessingResult, told only when it changes. */
  report(result: string): void;
}

/** 'stopped': the poller stopped before the batch ended; it is not done (a restart reads it again). */
export async function runStreamBatch(context: StreamBatchContext, records: KinesisEventRecord[]): Promise<'done' | 'stopped'> {
  const pending: KinesisEventRecord[][] = [records];
  while (pending.length > 0) {
    const result = await runUntilSplitOrEnd(context, pending[0]!);
    if (result === 'stopped') return 'stopped';
    pending.splice(0, 1, ...(result === 'done' ? [] : result));
  }
  return 'done';
}

/** Runs one batch until it is done (succeeded or given up), or it is split in two halves to run in its place. */
async function runUntilSplitOrEnd(context: StreamBatchContext, records: KinesisEventRecord[]): Promise<'done' | 'stopped' | KinesisEventRecord[][]> {
  const { deps } = context;
  const { mapping } = deps;
  const maxRetries = mapping.maximumRetryAttempts ?? -1;
  let batch = records;
  let retries = 0;
  let invokes = 0;
  let refusals = 0;
  let last: BatchOutcome | undefined;
  for (;;) {
    if (context.stopped()) return 'stopped';
    if (tooOld(context, batch)) {
      await giveUp(context, batch, 'RecordAgeExceeded', invokes, last);
      return 'done';
    }
    const outcome = await invokeBatch(deps.home, mapping, Buffer.from(JSON.stringify({ Records: batch })));
    if (outcome.kind === 'refused') {
      if (last === undefined || last.kind === 'refused') last = outcome;
      if (outcome.error.type !== 'TooManyRequestsException') context.report(`PROBLEM: ${outcome.error.type}: ${outcome.error.message}`);
      await context.sleep(backoff(200, refusals++, 5000));
      continue;
    }
    invokes++;
    last = outcome;
    const failedFrom = firstFailed(mapping.functionResponseTypes, outcome, batch);
    if (failedFrom === undefined) {
      context.stats.delivered += batch.length;
      context.report('OK');
      return 'done';
    }
    context.stats.delivered += failedFrom;
    const failing = batch.slice(failedFrom);
    context.stats.failed += failing.length;
    context.report('PROBLEM: Function call failed');
    if (tooOld(context, failing)) {
      await giveUp(context, failing, 'RecordAgeExceeded', invokes, last);
      return 'done';
    }
    if (mapping.bisectBatchOnFunctionError && failing.length > 1) {
      const half = Math.ceil(failing.length / 2);
      return [failing.slice(0, half), failing.slice(half)];
    }
    if (maxRetries !== -1 && retries >= maxRetries) {
      await giveUp(context, failing, 'RetryAttemptsExhausted', invokes, last);
      return 'done';
    }
    retries++;
    batch = failing;
    await context.sleep(backoff(100, retries - 1, 2000));
  }
}

/** The index of the first record to run again; undefined: the whole batch is done. */
function firstFailed(responseTypes: string[], outcome: BatchOutcome, batch: KinesisEventRecord[]): number | undefined {
  if (outcome.kind === 'function-error') return 0;
  if (outcome.kind !== 'success' || !responseTypes.includes('ReportBatchItemFailures')) return undefined;
  const response = readBatchResponse(
    outcome.payload,
    batch.map((record) => record.kinesis.sequenceNumber),
  );
  if (response.kind === 'done') return undefined;
  return response.kind === 'all-failed' ? 0 : response.index;
}

function tooOld(context: StreamBatchContext, batch: KinesisEventRecord[]): boolean {
  const maxAgeSeconds = context.deps.mapping.maximumRecordAgeInSeconds ?? -1;
  const limitMs = maxAgeSeconds === -1 ? RECORD_EXPIRY_MS : maxAgeSeconds * 1000;
  const oldest = Math.min(...batch.map((record) => record.kinesis.approximateArrivalTimestamp * 1000));
  return context.now() - oldest > limitMs;
}

async function giveUp(
  context: StreamBatchContext,
  records: KinesisEventRecord[],
  condition: FailureCondition,
  invokeCount: number,
  last: BatchOutcome | undefined,
): Promise<void> {
  const { mapping, destinations } = context.deps;
  const destination = mapping.onFailureDestination;
  if (destination === undefined || destinations === undefined) return;
  const record = onFailureRecord({
    records,
    shardId: context.shardId,
    streamArn: mapping.eventSourceArn,
    functionArn: mapping.functionArn,
    condition,
    invokeCount,
    last,
    now: context.now(),
  });
  try {
    await destinations.send(destination, record);
  } catch (error) {
    // Lambda, too, drops the record when its destination cannot take it; the mapping's result says so.
    context.report(`PROBLEM: ${(error as Error).message}`);
  }
}

function backoff(baseMs: number, attempt: number, capMs: number): number {
  return Math.min(capMs, baseMs * 2 ** attempt);
}
