// One shard of a Kinesis mapping, read in order: records gathered with GetRecords until BatchSize (times the
// ParallelizationFactor) or the MaximumBatchingWindowInSeconds, run (stream-batch-runner.ts), then checkpointed, so a
// restart resumes after the last batch done (a batch cut short by a stop is read again: at most one batch twice).
// Records that miss the mapping's FilterCriteria are never run, but the checkpoint moves past them.
//
// ParallelizationFactor N: the records of a round go to N lanes by partition key, each lane's batches in order, the
// lanes at once; the round is checkpointed when every lane is done. A key's records stay in order, as on AWS.
// The shard ends when GetRecords answers without a NextShardIterator (closed by resharding, read to its end).
import {
  ExpiredIteratorException,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type KinesisClient,
  type ShardIteratorType,
} from '@aws-sdk/client-kinesis';
import { createHash } from 'node:crypto';
import { filterableRecord, type KinesisEventRecord, kinesisEventRecord, type StreamRecord } from './kinesis-record.ts';
import { runStreamBatch, type StreamBatchContext } from './stream-batch-runner.ts';

/** How long a shard with nothing new waits before reading again (AWS reads each shard about once a second). */
const IDLE_READ_MS = 250;
/** GetRecords' own limit. */
const MAX_READ = 10_000;

export interface ShardReaderOptions {
  kinesis: KinesisClient;
  shardId: string;
  /** Where the shard is read from when it has no checkpoint. */
  start: { type: ShardIteratorType; timestamp?: Date };
  awsRegion: string;
  /** The function's execution role, read afresh for each round (it may change). */
  role(): Promise<string>;
  batch: StreamBatchContext;
  signal: AbortSignal;
  /** Records read but not yet checkpointed, and MillisBehindLatest, for stats(). */
  progress: { unprocessed: number; millisBehindLatest: number };
}

export async function readShard(options: ShardReaderOptions): Promise<void> {
  const reader = new ShardReader(options);
  await reader.run();
}

class ShardReader {
  readonly #options: ShardReaderOptions;
  /** The last sequence number read (kept or not): a new iterator resumes after it. */
  #position: string | undefined;
  #failures = 0;

  constructor(options: ShardReaderOptions) {
    this.#options = options;
    const { deps } = options.batch;
    this.#position = deps.checkpoints.get(deps.mapping.uuid, options.shardId);
  }

  async run(): Promise<void> {
    const { batch } = this.#options;
    let iterator = await this.#newIterator();
    while (iterator !== undefined && !batch.stopped()) {
      const round = await this.#gather(iterator);
      if (round === undefined) return;
      iterator = round.next;
      if (round.records.length > 0) {
        if ((await this.#process(round.records)) === 'stopped') return;
        const { deps } = batch;
        deps.checkpoints.set(deps.mapping.uuid, this.#options.shardId, round.records[round.records.length - 1]!.SequenceNumber!);
        this.#options.progress.unprocessed -= round.records.length;
      }
      if (round.next === undefined) {
        const { deps } = batch;
        deps.checkpoints.finish(deps.mapping.uuid, this.#options.shardId);
      }
    }
  }

  /** Reads until a round is full or its window has passed; undefined: stopped. `next` undefined: the shard ended. */
  async #gather(from: string): Promise<{ records: StreamRecord[]; next: string | undefined } | undefined> {
    const { batch, kinesis, progress, signal } = this.#options;
    const { mapping } = batch.deps;
    const capacity = Math.min(MAX_READ, mapping.batchSize * (mapping.parallelizationFactor ?? 1));
    const windowMs = mapping.maximumBatchingWindowInSeconds * 1000;
    const records: StreamRecord[] = [];
    let iterator: string | undefined = from;
    let firstAt: number | undefined;
    while (!batch.stopped()) {
      let answer: GetRecordsCommandOutput;
      try {
        answer = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: capacity - records.length, StreamARN: mapping.eventSourceArn }), {
          abortSignal: signal,
        });
        this.#failures = 0;
      } catch (error) {
        if (batch.stopped()) return undefined;
        if (!(error instanceof ExpiredIteratorException)) {
          batch.report(`PROBLEM: ${errorText(error)}`);
          await batch.sleep(Math.min(5000, 200 * 2 ** this.#failures++));
        }
        iterator = await this.#newIterator();
        if (iterator === undefined) return undefined;
        continue;
      }
      const read = answer.Records ?? [];
      if (read.length > 0) {
        records.push(...read);
        this.#position = read[read.length - 1]!.SequenceNumber;
        progress.unprocessed += read.length;
        batch.stats.polled += read.length;
        firstAt ??= batch.now();
      }
      progress.millisBehindLatest = answer.MillisBehindLatest ?? 0;
      iterator = answer.NextShardIterator;
      if (iterator === undefined || records.length >= capacity) return { records, next: iterator };
      if (firstAt !== undefined && batch.now() - firstAt >= windowMs) return { records, next: iterator };
      if (read.length === 0 || (answer.MillisBehindLatest ?? 0) === 0) await batch.sleep(read.length === 0 ? IDLE_READ_MS : Math.min(IDLE_READ_MS, windowMs));
    }
    return undefined;
  }

  /** Runs a round's matching records in batches, in lanes by partition key. */
  async #process(read: StreamRecord[]): Promise<'done' | 'stopped'> {
    const { batch, shardId, awsRegion } = this.#options;
    const { mapping, matches } = batch.deps;
    const source = { shardId, invokeIdentityArn: await this.#options.role(), awsRegion, eventSourceArn: mapping.eventSourceArn };
    const records = read.map((record) => kinesisEventRecord(record, source)).filter((record) => matches === undefined || matches(filterableRecord(record)));
    const lanes = splitIntoLanes(records, mapping.parallelizationFactor ?? 1);
    const results = await Promise.all(
      lanes.map(async (lane) => {
        for (let i = 0; i < lane.length; i += mapping.batchSize) {
          if ((await runStreamBatch(batch, lane.slice(i, i + mapping.batchSize))) === 'stopped') return 'stopped';
        }
        return 'done';
      }),
    );
    return results.includes('stopped') ? 'stopped' : 'done';
  }

  /** An iterator after the last record read, or at the mapping's starting position; undefined: stopped meanwhile. */
  async #newIterator(): Promise<string | undefined> {
    const { batch, kinesis, shardId, start, signal } = this.#options;
    const { mapping } = batch.deps;
    while (!batch.stopped()) {
      try {
        const answer = await kinesis.send(
          new GetShardIteratorCommand({
            StreamARN: mapping.eventSourceArn,
            ShardId: shardId,
            ...(this.#position !== undefined
              ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: this.#position }
              : { ShardIteratorType: start.type, ...(start.timestamp ? { Timestamp: start.timestamp } : {}) }),
          }),
          { abortSignal: signal },
        );
        this.#failures = 0;
        return answer.ShardIterator;
      } catch (error) {
        if (batch.stopped()) return undefined;
        batch.report(`PROBLEM: ${errorText(error)}`);
        await batch.sleep(Math.min(5000, 200 * 2 ** this.#failures++));
      }
    }
    return undefined;
  }
}

/** N lanes by a hash of the partition key (a key always in the same lane), each in shard order; empty lanes left out. */
function splitIntoLanes(records: KinesisEventRecord[], factor: number): KinesisEventRecord[][] {
  if (factor <= 1) return records.length > 0 ? [records] : [];
  const lanes: KinesisEventRecord[][] = Array.from({ length: factor }, () => []);
  for (const record of records) {
    const lane = createHash('md5').update(record.kinesis.partitionKey).digest().readUInt32BE(0) % factor;
    lanes[lane]!.push(record);
  }
  return lanes.filter((lane) => lane.length > 0);
}

export function errorText(error: unknown): string {
  const { name, message } = error as Error;
  return name && name !== 'Error' ? `${name}: ${message}` : String(message ?? error);
}
