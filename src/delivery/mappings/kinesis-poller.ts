// A Kinesis stream's event source mapping: every shard read in order by its own reader (kinesis-shard-reader.ts), the
// stream's shards listed again every few seconds so that new ones (resharding's children, once their parents are read
// to the end) are picked up. The stream is reached with the AWS SDK v3 and its standard endpoint settings
// (AWS_ENDPOINT_URL_KINESIS, AWS_ENDPOINT_URL): real Kinesis, LocalStack or kinesis-mock alike. HTTP/1.1, as the
// Kinesis client's default HTTP/2 handler cannot talk to kinesis-mock's plain port (and GetRecords needs no HTTP/2).
import { KinesisClient, ListShardsCommand, type Shard, type ShardIteratorType } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { setTimeout as sleep } from 'node:timers/promises';
import { continuesAParent, shardsToStart } from './kinesis-shards.ts';
import { errorText, readShard } from './kinesis-shard-reader.ts';
import type { Poller, PollerDeps, PollerFactory, PollerStats } from './mapping.ts';
import type { StreamBatchContext } from './stream-batch-runner.ts';

/** How often the stream's shards are listed again. */
const LIST_SHARDS_MS = 5000;

export const kinesisPoller: PollerFactory = (deps) => new KinesisPoller(deps);

export class KinesisPoller implements Poller {
  readonly #deps: PollerDeps;
  readonly #kinesis: KinesisClient;
  readonly #region: string;
  readonly #abort = new AbortController();
  readonly #stats: PollerStats = { lag: 0, polled: 0, delivered: 0, failed: 0 };
  readonly #readers = new Map<string, { done: Promise<void>; progress: { unprocessed: number; millisBehindLatest: number } }>();
  #discovery: Promise<void> | undefined;
  /** Wakes the discovery loop early: a shard ended, its children may start. */
  #wake: (() => void) | undefined;
  #lastResult: string | undefined;
  #stopping: Promise<void> | undefined;

  constructor(deps: PollerDeps) {
    this.#deps = deps;
    // arn:aws:kinesis:REGION:ACCOUNT:stream/NAME
    this.#region = deps.mapping.eventSourceArn.split(':')[3] || 'us-east-1';
    this.#kinesis = new KinesisClient({ region: this.#region, requestHandler: new NodeHttpHandler(), maxAttempts: 2 });
  }

  start(): void {
    this.#discovery ??= this.#discover();
  }

  stop(): Promise<void> {
    return (this.#stopping ??= (async () => {
      this.#abort.abort();
      this.#wake?.();
      await this.#discovery;
      await Promise.all([...this.#readers.values()].map((reader) => reader.done));
      this.#kinesis.destroy();
    })());
  }

  stats(): PollerStats {
    let lag = 0;
    for (const { progress } of this.#readers.values()) lag += progress.unprocessed + (progress.unprocessed === 0 && progress.millisBehindLatest > 0 ? 1 : 0);
    return { ...this.#stats, lag };
  }

  /** Shards being read now (tests wait for them before writing records a LATEST mapping must see). */
  readingShards(): string[] {
    return [...this.#readers.keys()];
  }

  #stopped = () => this.#abort.signal.aborted;

  async #discover(): Promise<void> {
    let failures = 0;
    while (!this.#stopped()) {
      let shards: Shard[];
      try {
        shards = await this.#listShards();
        failures = 0;
      } catch (error) {
        if (this.#stopped()) return;
        this.#report(`PROBLEM: Cannot access stream ${this.#deps.mapping.eventSourceArn}. ${errorText(error)}`);
        await this.#sleep(Math.min(5000, 200 * 2 ** failures++));
        continue;
      }
      this.#startReaders(shards);
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        setTimeout(resolve, LIST_SHARDS_MS).unref();
      });
    }
  }

  #startReaders(shards: Shard[]): void {
    const { mapping, checkpoints } = this.#deps;
    const isFinished = (shardId: string) => checkpoints.isFinished(mapping.uuid, shardId);
    for (const shard of shardsToStart(shards, { reading: new Set(this.#readers.keys()), isFinished })) {
      const shardId = shard.ShardId!;
      const progress = { unprocessed: 0, millisBehindLatest: 0 };
      const done = readShard({
        kinesis: this.#kinesis,
        shardId,
        start: continuesAParent(shard, isFinished) ? { type: 'TRIM_HORIZON' } : this.#startingPosition(),
        awsRegion: this.#region,
        role: () => this.#role(),
        batch: this.#batchContext(shardId),
        signal: this.#abort.signal,
        progress,
      })
        .catch((error: unknown) => this.#report(`PROBLEM: ${errorText(error)}`))
        .finally(() => {
          // A reader that ended is read again by the next listing, unless its shard is finished: then its children may start.
          if (this.#stopped()) return;
          this.#readers.delete(shardId);
          if (isFinished(shardId)) this.#wake?.();
        });
      this.#readers.set(shardId, { done, progress });
    }
  }

  #startingPosition(): { type: ShardIteratorType; timestamp?: Date } {
    const { startingPosition, startingPositionTimestamp } = this.#deps.mapping;
    if (startingPosition === 'AT_TIMESTAMP') return { type: 'AT_TIMESTAMP', timestamp: new Date((startingPositionTimestamp ?? 0) * 1000) };
    return { type: startingPosition ?? 'LATEST' };
  }

  #batchContext(shardId: string): StreamBatchContext {
    return {
      deps: this.#deps,
      shardId,
      stats: this.#stats,
      now: this.#deps.now ?? Date.now,
      stopped: this.#stopped,
      sleep: (ms) => this.#sleep(ms),
      report: (result) => this.#report(result),
    };
  }

  async #listShards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let nextToken: string | undefined;
    do {
      const answer = await this.#kinesis.send(
        new ListShardsCommand(nextToken === undefined ? { StreamARN: this.#deps.mapping.eventSourceArn } : { NextToken: nextToken }),
        { abortSignal: this.#abort.signal },
      );
      shards.push(...(answer.Shards ?? []));
      nextToken = answer.NextToken;
    } while (nextToken !== undefined);
    return shards;
  }

  async #role(): Promise<string> {
    const fn = await this.#deps.home.store.get(this.#deps.mapping.functionName);
    return fn?.role ?? '';
  }

  async #sleep(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.#abort.signal }).catch(() => {});
  }

  #report(result: string): void {
    if (result === this.#lastResult) return;
    this.#lastResult = result;
    this.#deps.report(result);
  }
}
