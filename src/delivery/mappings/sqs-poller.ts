// An SQS event source mapping's poller, as Lambda runs one (docs with-sqs.md, services-sqs-scaling,
// services-sqs-errorhandling): long-polling receivers gather a batch (BatchSize, MaximumBatchingWindowInSeconds), the
// function runs it synchronously through the one invocation path, and the queue does the rest: a batch that succeeded
// is deleted, one that failed is left to come back after the queue's visibility timeout (and to its redrive policy's
// dead-letter queue after maxReceiveCount). Messages that match no filter are deleted unseen. FIFO queues run one batch
// per message group at a time, in order. Receivers scale out while batches come back full and back in as the queue
// drains, never past MaximumConcurrency batches in flight.
//
// The queue is reached through the SDK's standard endpoint settings (aws-clients.ts), so the same mapping reads real
// SQS, LocalStack, ElasticMQ or fauxqs; its ARN is resolved to a URL with GetQueueUrl (name + owner account).
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { setMaxListeners } from 'node:events';
import { type EventLoopUtilization, performance } from 'node:perf_hooks';
import { AwsClients } from '../destinations/aws-clients.ts';
import { invokeBatch } from './invoke-batch.ts';
import type { Poller, PollerDeps, PollerFactory, PollerStats } from './mapping.ts';
import { filterableSqsRecord, type SqsRecord, sqsRecord } from './sqs-record.ts';

/** SQS's ceilings: messages per ReceiveMessage / DeleteMessageBatch, and a long poll's wait. */
const MAX_MESSAGES_PER_RECEIVE = 10;
const MAX_WAIT_SECONDS = 20;
/**
 * Receivers are added only while serve's event loop has time to spare: on AWS the poller fleet is not the function's
 * host, here one process feeds every receiver, and past this share of its time another receiver only queues behind
 * the others (measured: 20 receivers drained a 10,000-message backlog ~20% slower than 4, for a trivial function). A
 * slow function leaves the loop idle, so its mapping still scales out to the ceiling.
 */
const SCALE_OUT_BELOW_LOOP_UTILIZATION = 0.85;
/** Lambda's synchronous invoke payload limit: a batch never exceeds it (a bigger gathering runs as several batches). */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

export interface SqsPollerOptions {
  /** Receivers running from the start and left after a drain (AWS starts five). */
  minimumPollers?: number;
  /** The local ceiling on receivers, under the mapping's MaximumConcurrency (AWS: up to 1,000). */
  maximumPollers?: number;
  /** How long an idle receive waits for a message (SQS's longest long poll by default); a receiver retires after an empty one. */
  idleWaitSeconds?: number;
  /** The least time between two scale-outs (AWS adds up to 60 pollers a minute; locally faster). */
  scaleOutIntervalMs?: number;
  /** How often the queue's backlog (stats().lag) is read. */
  lagRefreshMs?: number;
  /** Back-off bounds after a refused invoke or an unreachable queue (doubling from the first to the last). */
  backoffMs?: { first: number; most: number };
  clients?: AwsClients;
}

export const sqsPoller: PollerFactory = (deps) => new SqsPoller(deps);

interface QueueAddress {
  arn: string;
  region: string;
  account: string;
  name: string;
}

/** The BatchItemFailures a function reported, or `malformed`: a response Lambda treats as the whole batch failing. */
export type ItemFailures = Set<string> | 'malformed';

/**
 * A ReportBatchItemFailures response read as Lambda reads it (docs services-sqs-errorhandling): nothing, null, `{}`,
 * or an empty or null batchItemFailures list is a success; a response that is not a JSON object, an entry without
 * `itemIdentifier`, or an identifier that is empty, null or not in the batch fails the whole batch.
 */
export function batchItemFailures(payload: Buffer, batchIds: ReadonlySet<string>): ItemFailures {
  const text = payload.toString('utf8').trim();
  if (text === '') return new Set();
  let response: unknown;
  try {
    response = JSON.parse(text);
  } catch {
    return 'malformed';
  }
  if (response === null) return new Set();
  if (typeof response !== 'object' || Array.isArray(response)) return 'malformed';
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) return 'malformed';
  const failed = new Set<string>();
  for (const item of failures) {
    const id = typeof item === 'object' && item !== null ? (item as { itemIdentifier?: unknown }).itemIdentifier : undefined;
    if (typeof id !== 'string' || id === '' || !batchIds.has(id)) return 'malformed';
    failed.add(id);
  }
  return failed;
}

export class SqsPoller implements Poller {
  readonly #deps: PollerDeps;
  readonly #queue: QueueAddress;
  readonly #fifo: boolean;
  readonly #clients: AwsClients;
  readonly #ownsClients: boolean;
  readonly #minimum: number;
  readonly #maximum: number;
  readonly #maximumInFlight: number;
  readonly #idleWaitSeconds: number;
  readonly #scaleOutIntervalMs: number;
  readonly #lagRefreshMs: number;
  readonly #backoff: { first: number; most: number };
  readonly #reportsItemFailures: boolean;

  #started = false;
  #stopping = false;
  readonly #stop = new AbortController();
  readonly #receivers = new Set<Promise<void>>();
  #running = 0;
  #lastScaleOut = 0;
  /** The event loop's use at the last scale-out decision, for the share since. */
  #loopMark: EventLoopUtilization = performance.eventLoopUtilization();
  #queueUrl: Promise<string> | undefined;
  #lagTimer: NodeJS.Timeout | undefined;
  /** Receives wait until then: the function is throttled, or the queue could not be reached. */
  #pausedUntil = 0;
  #consecutiveProblems = 0;
  #lastReport: string | undefined;
  /** FIFO: each message group's last batch, which the group's next one waits for. */
  readonly #groupTails = new Map<string, Promise<void>>();
  #inFlight = 0;
  readonly #slotWaiters: (() => void)[] = [];
  readonly #stats: PollerStats = { lag: 0, polled: 0, delivered: 0, failed: 0 };

  constructor(deps: PollerDeps, options: SqsPollerOptions = {}) {
    this.#deps = deps;
    this.#queue = parseQueueArn(deps.mapping.eventSourceArn);
    this.#fifo = this.#queue.name.endsWith('.fifo');
    this.#ownsClients = options.clients === undefined;
    this.#clients = options.clients ?? new AwsClients();
    this.#maximumInFlight = deps.mapping.maximumConcurrency ?? 1000;
    this.#maximum = Math.max(1, Math.min(this.#maximumInFlight, options.maximumPollers ?? 20));
    this.#minimum = Math.max(1, Math.min(this.#maximum, options.minimumPollers ?? 2));
    this.#idleWaitSeconds = Math.min(MAX_WAIT_SECONDS, options.idleWaitSeconds ?? MAX_WAIT_SECONDS);
    this.#scaleOutIntervalMs = options.scaleOutIntervalMs ?? 200;
    this.#lagRefreshMs = options.lagRefreshMs ?? 2000;
    this.#backoff = options.backoffMs ?? { first: 250, most: 10_000 };
    this.#reportsItemFailures = deps.mapping.functionResponseTypes.includes('ReportBatchItemFailures');
    // Every receiver's request, race and sleep listens for stop(): up to maximumPollers × a few at once, by design.
    setMaxListeners(0, this.#stop.signal);
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    for (let i = 0; i < this.#minimum; i++) this.#spawn();
    void this.#refreshLag();
    this.#lagTimer = setInterval(() => void this.#refreshLag(), this.#lagRefreshMs);
    this.#lagTimer.unref();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#lagTimer);
    // Receives under way end now (a long poll would hold stop() up to 20 s); batches already received still run.
    this.#stop.abort();
    while (this.#receivers.size > 0) await Promise.all([...this.#receivers]);
    if (this.#ownsClients) this.#clients.destroy();
  }

  stats(): PollerStats {
    return { ...this.#stats };
  }

  /** Receivers running now (for status and tests): between the minimum and min(MaximumConcurrency, the local ceiling). */
  get pollers(): number {
    return this.#running;
  }

  get #sqs(): SQSClient {
    return this.#clients.sqs(this.#queue.region);
  }

  #spawn(): void {
    this.#running++;
    const receiver = this.#receive().finally(() => this.#receivers.delete(receiver));
    this.#receivers.add(receiver);
  }

  #maybeScaleOut(): void {
    const now = Date.now();
    if (this.#stopping || this.#running >= this.#maximum || now - this.#lastScaleOut < this.#scaleOutIntervalMs) return;
    this.#lastScaleOut = now;
    const busy = performance.eventLoopUtilization(this.#loopMark).utilization;
    this.#loopMark = performance.eventLoopUtilization();
    if (busy >= SCALE_OUT_BELOW_LOOP_UTILIZATION) return;
    this.#spawn();
  }

  /** One receiver: gathers a batch, runs it, again, until stopped or (beyond the minimum) the queue runs dry. */
  async #receive(): Promise<void> {
    try {
      while (!this.#stopping) {
        await this.#untilUnpaused();
        if (this.#stopping) break;
        let messages: Message[];
        let queueUrl: string;
        try {
          queueUrl = await this.#resolveQueueUrl();
          messages = await this.#gather(queueUrl);
        } catch (error) {
          if (this.#stopping) break;
          this.#queueUrl = undefined; // the queue may be back under another URL (recreated, the broker restarted)
          this.#problem(`PROBLEM: Lambda could not read from the SQS queue ${this.#queue.arn}: ${describeError(error)}`);
          continue;
        }
        if (messages.length === 0) {
          if (this.#running > this.#minimum) break;
          continue;
        }
        if (messages.length >= this.#deps.mapping.batchSize) this.#maybeScaleOut();
        try {
          await this.#run(queueUrl, messages);
        } catch (error) {
          // A filter that threw, say: the messages come back after the visibility timeout.
          this.#problem(`PROBLEM: ${describeError(error)}`);
        }
      }
    } finally {
      this.#running--;
    }
  }

  #resolveQueueUrl(): Promise<string> {
    this.#queueUrl ??= this.#sqs
      .send(new GetQueueUrlCommand({ QueueName: this.#queue.name, QueueOwnerAWSAccountId: this.#queue.account }), { abortSignal: this.#stop.signal })
      .then((answer) => {
        if (!answer.QueueUrl) throw new Error('GetQueueUrl answered no QueueUrl');
        return answer.QueueUrl;
      });
    // A failed lookup is tried afresh next time (the queue may be created later, or the broker started).
    return this.#queueUrl.catch((error: unknown) => {
      this.#queueUrl = undefined;
      throw error;
    });
  }

  /**
   * A batch: the first receive waits for anything (a long poll); then, within MaximumBatchingWindowInSeconds of it,
   * more receives until BatchSize. Stopping ends the gathering; what was received still runs.
   */
  async #gather(queueUrl: string): Promise<Message[]> {
    const { batchSize, maximumBatchingWindowInSeconds } = this.#deps.mapping;
    const gathered = await this.#receiveMessages(queueUrl, Math.min(MAX_MESSAGES_PER_RECEIVE, batchSize), this.#idleWaitSeconds);
    if (gathered.length === 0) return gathered;
    const deadline = Date.now() + maximumBatchingWindowInSeconds * 1000;
    let bytes = payloadBytes(gathered);
    while (gathered.length < batchSize && !this.#stopping && bytes < MAX_PAYLOAD_BYTES) {
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) break;
      const waitSeconds = Math.min(MAX_WAIT_SECONDS, Math.floor(remainingMs / 1000));
      let more: Message[];
      try {
        more = await this.#receiveMessages(queueUrl, Math.min(MAX_MESSAGES_PER_RECEIVE, batchSize - gathered.length), waitSeconds);
      } catch {
        break; // the messages in hand run; the next receive reports the queue's trouble
      }
      if (more.length === 0 && waitSeconds === 0) await this.#sleep(Math.min(remainingMs, 100));
      gathered.push(...more);
      bytes += payloadBytes(more);
    }
    return gathered;
  }

  async #receiveMessages(queueUrl: string, maxNumberOfMessages: number, waitTimeSeconds: number): Promise<Message[]> {
    const receive = this.#sqs
      .send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: maxNumberOfMessages,
          WaitTimeSeconds: waitTimeSeconds,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['All'],
        }),
        { abortSignal: this.#stop.signal },
      )
      .then((answer) => answer.Messages ?? []);
    // The SDK honours the abort only between its steps; stopping must not wait out a long poll.
    const messages = await this.#orStop(receive, []);
    this.#stats.polled += messages.length;
    // The queue answers: an unreachable queue's back-off ends (a throttled function's ends with a batch that runs).
    if (messages.length === 0) this.#consecutiveProblems = 0;
    return messages;
  }

  /** Runs what one receiver gathered: FIFO queues a batch per message group, each after the group's previous one. */
  async #run(queueUrl: string, messages: Message[]): Promise<void> {
    if (!this.#fifo) return this.#runBatch(queueUrl, messages);
    const groups = new Map<string, Message[]>();
    for (const message of messages) {
      const group = message.Attributes?.MessageGroupId ?? '';
      groups.set(group, [...(groups.get(group) ?? []), message]);
    }
    await Promise.all(
      [...groups].map(([group, groupMessages]) => {
        const tail = (this.#groupTails.get(group) ?? Promise.resolve()).then(() => this.#runBatch(queueUrl, groupMessages));
        this.#groupTails.set(group, tail);
        return tail.finally(() => {
          if (this.#groupTails.get(group) === tail) this.#groupTails.delete(group);
        });
      }),
    );
  }

  /** Filters a batch (deleting what matches no filter), runs the rest, and deletes what the function processed. */
  async #runBatch(queueUrl: string, messages: Message[]): Promise<void> {
    const records = messages.map((message) => sqsRecord(message, this.#queue));
    const matches = this.#deps.matches;
    const matching = matches ? records.filter((record) => matches(filterableSqsRecord(record))) : records;
    if (matching.length < records.length) {
      const kept = new Set(matching);
      await this.#delete(
        queueUrl,
        records.filter((record) => !kept.has(record)),
      );
    }
    // A gathering larger than one invoke's payload runs as consecutive batches; after a failure the rest stay queued
    // (they come back after the visibility timeout, behind the failed ones: a FIFO group keeps its order).
    for (const batch of underPayloadLimit(matching)) {
      if (!(await this.#invoke(queueUrl, batch))) break;
    }
  }

  /** Runs one batch; true when it succeeded (wholly or in part). */
  async #invoke(queueUrl: string, records: SqsRecord[]): Promise<boolean> {
    await this.#acquireSlot();
    let outcome: Awaited<ReturnType<typeof invokeBatch>>;
    try {
      outcome = await invokeBatch(this.#deps.home, this.#deps.mapping, Buffer.from(JSON.stringify({ Records: records })));
    } finally {
      this.#releaseSlot();
    }
    if (outcome.kind === 'refused') {
      // Throttled, or the function cannot run now: the batch comes back after the visibility timeout, as on AWS.
      if (outcome.error.type !== 'TooManyRequestsException') this.#report(`PROBLEM: ${outcome.error.type}: ${outcome.error.message}`);
      this.#pause();
      return false;
    }
    const failures =
      outcome.kind === 'function-error'
        ? 'malformed'
        : this.#reportsItemFailures
          ? batchItemFailures(outcome.payload, new Set(records.map((record) => record.messageId)))
          : new Set<string>();
    if (failures === 'malformed') {
      this.#stats.failed += records.length;
      this.#report('PROBLEM: Function call failed');
      return false;
    }
    await this.#delete(
      queueUrl,
      records.filter((record) => !failures.has(record.messageId)),
    );
    this.#stats.delivered += records.length - failures.size;
    this.#stats.failed += failures.size;
    this.#consecutiveProblems = 0;
    this.#report('OK');
    return true;
  }

  /** Deletes records' messages, ten to a request. A delete that fails leaves its messages to come back (at least once). */
  async #delete(queueUrl: string, records: SqsRecord[]): Promise<void> {
    for (let start = 0; start < records.length; start += MAX_MESSAGES_PER_RECEIVE) {
      const entries = records
        .slice(start, start + MAX_MESSAGES_PER_RECEIVE)
        .map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle }));
      try {
        await this.#sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
      } catch {
        // At-least-once: the messages reappear after the visibility timeout and run again.
      }
    }
  }

  async #refreshLag(): Promise<void> {
    try {
      const queueUrl = await this.#resolveQueueUrl();
      const answer = await this.#sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }), {
        abortSignal: this.#stop.signal,
      });
      this.#stats.lag = Number(answer.Attributes?.ApproximateNumberOfMessages ?? this.#stats.lag);
    } catch {
      // The receivers report an unreachable queue; the last known lag stands.
    }
  }

  #problem(result: string): void {
    this.#report(result);
    this.#pause();
  }

  /** Receives wait a while, longer each time in a row (a throttled function, an unreachable queue). */
  #pause(): void {
    const delay = Math.min(this.#backoff.most, this.#backoff.first * 2 ** this.#consecutiveProblems);
    this.#consecutiveProblems = Math.min(this.#consecutiveProblems + 1, 30);
    this.#pausedUntil = Math.max(this.#pausedUntil, Date.now() + delay);
  }

  async #untilUnpaused(): Promise<void> {
    while (!this.#stopping && Date.now() < this.#pausedUntil) await this.#sleep(this.#pausedUntil - Date.now());
  }

  #report(result: string): void {
    if (result === this.#lastReport) return;
    this.#lastReport = result;
    this.#deps.report(result);
  }

  async #acquireSlot(): Promise<void> {
    while (this.#inFlight >= this.#maximumInFlight) await new Promise<void>((resolve) => this.#slotWaiters.push(resolve));
    this.#inFlight++;
  }

  #releaseSlot(): void {
    this.#inFlight--;
    this.#slotWaiters.shift()?.();
  }

  /** What `work` resolves, or `onStop` as soon as stop() is called (work's own end is then ignored). */
  #orStop<T>(work: Promise<T>, onStop: T): Promise<T> {
    const signal = this.#stop.signal;
    work.catch(() => {}); // after stop() it fails with an AbortError nobody waits for
    if (signal.aborted) return Promise.resolve(onStop);
    return new Promise<T>((resolve, reject) => {
      const stop = () => resolve(onStop);
      signal.addEventListener('abort', stop, { once: true });
      work.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop));
    });
  }

  /** Sleeps `ms`, or until stop(). */
  #sleep(ms: number): Promise<void> {
    const signal = this.#stop.signal;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      signal.addEventListener('abort', wake, { once: true });
    });
  }
}

function parseQueueArn(arn: string): QueueAddress {
  // arn:partition:sqs:region:account:name (the control plane accepted only such ARNs).
  const [, , , region = '', account = '', name = ''] = arn.split(':');
  return { arn, region, account, name };
}

function payloadBytes(messages: Message[]): number {
  let bytes = 0;
  for (const message of messages) bytes += Buffer.byteLength(message.Body ?? '') + 1024;
  return bytes;
}

/** Consecutive runs of records whose `{"Records":[...]}` stays within the invoke payload limit (at least one each). */
function* underPayloadLimit(records: SqsRecord[]): Generator<SqsRecord[]> {
  let batch: SqsRecord[] = [];
  let bytes = '{"Records":[]}'.length;
  for (const record of records) {
    const size = Buffer.byteLength(JSON.stringify(record)) + 1;
    if (batch.length > 0 && bytes + size > MAX_PAYLOAD_BYTES) {
      yield batch;
      batch = [];
      bytes = '{"Records":[]}'.length;
    }
    batch.push(record);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}

function describeError(error: unknown): string {
  if (error instanceof Error) return error.name && error.name !== 'Error' ? `${error.name}: ${error.message}` : error.message;
  return String(error);
}
