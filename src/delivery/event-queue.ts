// The asynchronous invokes' queue, durable: `<dataDir>/async-events.db` (node:sqlite, WAL, synchronous FULL). An
// event is committed before Invoke answers 202 and stays until it is delivered, retried out, or handed to its failure
// destination, so a crash (kill -9 included) loses nothing: whatever was in flight is simply due again at the next
// start (at least once, as Lambda promises; a duplicate is allowed, a loss is not).
//
// Accepts arriving while a commit is under way are committed together by the next one (one transaction, one sync),
// so the cost of durability is shared by every caller waiting at that moment instead of paid once each. The commits
// run on a thread of their own (event-queue-writer.ts); the questions the worker asks (what is due) are answered
// from memory (due-index.ts), and only an event's payload is read back from the file, when an attempt takes it.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { DueIndex, type EventMeta } from './due-index.ts';
import { type InsertRow, QueueWriter, type WriteBatch, type WriteDone, type WriterSql } from './event-queue-writer.ts';

/** An accepted event, as the queue keeps it. */
export interface QueuedEvent {
  /** The invoke's request id: the 202's x-amzn-RequestId, the function's context.awsRequestId at every attempt. */
  requestId: string;
  /** The function's name (not its ARN). */
  functionName: string;
  /** The qualifier the caller named (a version or an alias); absent: $LATEST, unqualified. */
  qualifier?: string;
  payload: Buffer;
  /** When it was accepted (ms since the epoch). */
  receivedAt: number;
  /** Not to be tried before this (ms since the epoch). */
  dueAt: number;
  /** Attempts that reached the function (Lambda's approximateInvokeCount). */
  invokes: number;
  /** Times it was put back without reaching the function (throttled, or lambkin could not run it): the backoff's step. */
  requeues: number;
  /** The caller's X-Amzn-Trace-Id. */
  traceId?: string;
  /** The last attempt's result, for a failure record that must still carry it (EventAgeExceeded). */
  lastResult?: string;
}

/** A new event for the function a caller named (`qualifier` as named: an alias routes each attempt anew), due now. */
export function newEvent(
  fields: { requestId: string; functionName: string; qualifier?: string; payload: Buffer; traceId?: string },
  now = Date.now(),
): QueuedEvent {
  return { ...fields, receivedAt: now, dueAt: now, invokes: 0, requeues: 0 };
}

/** What changes when an event is put back for a later attempt. */
export type Reschedule = Pick<QueuedEvent, 'dueAt' | 'invokes' | 'requeues'> & { lastResult?: string };

export interface EventQueue {
  /** Resolves once the event is on disk to stay: only then may the caller be told 202. */
  accept(event: QueuedEvent): Promise<void>;
  /** The functions with an event due at `now` (and not taken). */
  dueFunctions(now: number): string[];
  /**
   * Takes up to `limit` of `functionName`'s events due at `now`, oldest due first, for attempts: a taken event is not
   * due again until it is rescheduled, and is removed when it is done with (in this run: a restart finds it due).
   */
  take(functionName: string, now: number, limit: number): QueuedEvent[];
  /** When the next event that is not taken is due (ms since the epoch); undefined when there is none. */
  nextDueAt(): number | undefined;
  /**
   * Puts a taken event back for a later attempt. Written with the next batch, without a sync of its own (see remove):
   * lost to a crash, the event is only tried again sooner.
   */
  reschedule(requestId: string, changes: Reschedule): void;
  /**
   * The event is done with (delivered, retried out or handed over, or its function is gone). Written with the next
   * batch, not synced on its own: lost to a crash, the event is delivered again (at least once), never lost.
   */
  remove(requestId: string): void;
  /** Events queued per function (taken ones included), and the oldest one's receivedAt: for `lambkin status` and /metrics. */
  depths(): { functionName: string; events: number; oldestReceivedAt: number }[];
  /** Writes what is waiting (accepts included) and closes the file. */
  close(): Promise<void>;
}

type MetaRow = {
  request_id: string;
  function_name: string;
  qualifier: string | null;
  received_at: number;
  due_at: number;
  invokes: number;
  requeues: number;
  trace_id: string | null;
  last_result: string | null;
};

function metaOf(row: MetaRow): EventMeta {
  return {
    requestId: row.request_id,
    functionName: row.function_name,
    ...(row.qualifier !== null ? { qualifier: row.qualifier } : {}),
    receivedAt: row.received_at,
    dueAt: row.due_at,
    invokes: row.invokes,
    requeues: row.requeues,
    ...(row.trace_id !== null ? { traceId: row.trace_id } : {}),
    ...(row.last_result !== null ? { lastResult: row.last_result } : {}),
  };
}

export const QUEUE_FILE = 'async-events.db';

/** The writer thread's statements (event-queue-writer.ts runs them). */
const WRITER_SQL: WriterSql = {
  insert: `INSERT OR IGNORE INTO async_events (request_id, function_name, qualifier, payload, received_at, due_at, invokes, requeues, trace_id, last_result)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  reschedule: 'UPDATE async_events SET due_at = ?, invokes = ?, requeues = ?, last_result = COALESCE(?, last_result) WHERE request_id = ?',
  remove: 'DELETE FROM async_events WHERE request_id = ?',
};

type Waiting = { event: QueuedEvent; resolve: () => void; reject: (error: unknown) => void };

export class SqliteEventQueue implements EventQueue {
  /** The database file, named in errors (an unwritable data dir is refused at start). */
  readonly path: string;
  /** This thread's connection: the schema at start, then reads (an attempt's payload) only. */
  private readonly db: DatabaseSync;
  private readonly payloadOf: StatementSync;
  private readonly index = new DueIndex();
  private readonly writer: QueueWriter;
  /** Accepts, removals and reschedules for the next batch. */
  private accepts: Waiting[] = [];
  private changes = new Map<string, Reschedule | 'removed'>();
  /** The batch being written, and its accepts (told once it is). */
  private writing: { id: number; accepts: Waiting[] } | undefined;
  private batches = 0;
  private sendScheduled = false;
  /** Why the queue can no longer store anything: closed, or its writer thread died. */
  private broken: string | undefined;
  private drained: (() => void) | undefined;

  /** Opens (or creates) the queue under `dataDir`; throws, naming the file, when it cannot be written. */
  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.path = join(dataDir, QUEUE_FILE);
    this.db = new DatabaseSync(this.path);
    // WAL: readers never wait on the writer; FULL: a commit is synced before it returns, so a 202 outlives a power cut.
    this.db.exec('PRAGMA journal_mode = WAL');
    this.db.exec('PRAGMA busy_timeout = 5000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS async_events (
      request_id TEXT PRIMARY KEY,
      function_name TEXT NOT NULL,
      qualifier TEXT,
      payload BLOB NOT NULL,
      received_at INTEGER NOT NULL,
      due_at INTEGER NOT NULL,
      invokes INTEGER NOT NULL,
      requeues INTEGER NOT NULL,
      trace_id TEXT,
      last_result TEXT
    ) WITHOUT ROWID`);
    // The due times are asked of memory now; indexes an earlier lambkin made would only slow every write.
    this.db.exec('DROP INDEX IF EXISTS async_events_due');
    this.db.exec('DROP INDEX IF EXISTS async_events_function_due');
    this.payloadOf = this.db.prepare('SELECT payload FROM async_events WHERE request_id = ?');
    const rows = this.db
      .prepare('SELECT request_id, function_name, qualifier, received_at, due_at, invokes, requeues, trace_id, last_result FROM async_events ORDER BY due_at')
      .all() as MetaRow[];
    for (const row of rows) this.index.add(metaOf(row));
    this.writer = new QueueWriter(
      this.path,
      WRITER_SQL,
      (done) => this.written(done),
      (error) => this.writerDied(error),
    );
  }

  accept(event: QueuedEvent): Promise<void> {
    if (this.broken) return Promise.reject(new Error(this.broken));
    return new Promise((resolve, reject) => {
      this.accepts.push({ event, resolve, reject });
      this.scheduleSend();
    });
  }

  dueFunctions(now: number): string[] {
    return this.index.dueFunctions(now);
  }

  take(functionName: string, now: number, limit: number): QueuedEvent[] {
    const events: QueuedEvent[] = [];
    for (const meta of this.index.take(functionName, now, limit)) {
      const row = this.payloadOf.get(meta.requestId) as { payload: Uint8Array } | undefined;
      // Every event in the index was committed before it was added; a missing row would be a removal by another hand.
      if (!row) {
        this.index.remove(meta.requestId);
        continue;
      }
      events.push({ ...meta, payload: Buffer.from(row.payload) });
    }
    return events;
  }

  nextDueAt(): number | undefined {
    return this.index.nextDueAt();
  }

  reschedule(requestId: string, changes: Reschedule): void {
    if (!this.index.reschedule(requestId, changes)) return;
    this.changes.set(requestId, changes);
    this.scheduleSend();
  }

  remove(requestId: string): void {
    this.index.remove(requestId);
    this.changes.set(requestId, 'removed');
    this.scheduleSend();
  }

  depths(): { functionName: string; events: number; oldestReceivedAt: number }[] {
    return this.index.depths();
  }

  async close(): Promise<void> {
    if (this.broken === undefined) {
      this.writer.hold();
      // What is waiting is written first: accepts waiting for their commit are still told it happened.
      while (this.writing || this.accepts.length > 0 || this.changes.size > 0) {
        if (!this.writing) this.send();
        else await new Promise<void>((resolve) => (this.drained = resolve));
      }
      this.broken = `the asynchronous event queue (${this.path}) is closed: the event was not stored`;
      await this.writer.close();
    }
    if (this.db.isOpen) this.db.close();
  }

  /** Sends the next batch once this turn of the event loop has added what it will, unless one is being written. */
  private scheduleSend(): void {
    if (this.sendScheduled || this.writing) return;
    this.sendScheduled = true;
    setImmediate(() => {
      this.sendScheduled = false;
      if (!this.writing) this.send();
    });
  }

  /** Hands everything waiting to the writer as one transaction. */
  private send(): void {
    if (this.accepts.length === 0 && this.changes.size === 0) return;
    const accepts = this.accepts;
    const changes = this.changes;
    this.accepts = [];
    this.changes = new Map();
    const batch: WriteBatch = {
      id: ++this.batches,
      inserts: accepts.map(({ event }) => insertRow(event)),
      reschedules: [],
      removes: [],
      // Accepts are synced before their 202; a batch of removals and reschedules alone is not: lost to a crash, an
      // event is only delivered again (at least once) or tried sooner, and not waiting for a sync keeps delivery fast.
      synchronous: accepts.length > 0 ? 'FULL' : 'NORMAL',
    };
    for (const [requestId, change] of changes) {
      if (change === 'removed') batch.removes.push(requestId);
      else batch.reschedules.push([change.dueAt, change.invokes, change.requeues, change.lastResult ?? null, requestId]);
    }
    this.writing = { id: batch.id, accepts };
    this.writer.write(batch);
  }

  /** A batch is written (or was rolled back): its accepts are told, stored ones become due, and the next batch goes. */
  private written(done: WriteDone): void {
    const writing = this.writing;
    if (!writing || writing.id !== done.id) return;
    this.writing = undefined;
    if (done.error !== undefined) {
      const error = new Error(`the asynchronous event queue (${this.path}) could not store the event: ${done.error}`);
      for (const { reject } of writing.accepts) reject(error);
    } else {
      for (const { event } of writing.accepts) this.index.add(metaFrom(event));
      for (const { resolve } of writing.accepts) resolve();
    }
    if (this.drained) {
      const drained = this.drained;
      this.drained = undefined;
      drained();
    } else this.send();
  }

  private writerDied(error: Error): void {
    this.broken = `the asynchronous event queue (${this.path}) stopped writing: ${error.message}`;
    const failed = new Error(this.broken);
    for (const { reject } of [...(this.writing?.accepts ?? []), ...this.accepts]) reject(failed);
    this.writing = undefined;
    this.accepts = [];
    this.changes.clear();
    this.drained?.();
  }
}

function insertRow(event: QueuedEvent): InsertRow {
  return [
    event.requestId,
    event.functionName,
    event.qualifier ?? null,
    event.payload,
    event.receivedAt,
    event.dueAt,
    event.invokes,
    event.requeues,
    event.traceId ?? null,
    event.lastResult ?? null,
  ];
}

function metaFrom(event: QueuedEvent): EventMeta {
  const { payload: _payload, ...meta } = event;
  return meta;
}
