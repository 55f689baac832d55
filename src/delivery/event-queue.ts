// The asynchronous invokes' queue, durable: `<dataDir>/async-events.db` (node:sqlite, WAL, synchronous FULL). An
// event is committed before Invoke answers 202 and stays until it is delivered, retried out, or handed to its failure
// destination, so a crash (kill -9 included) loses nothing: whatever was in flight is simply due again at the next
// start (at least once, as Lambda promises; a duplicate is allowed, a loss is not).
//
// Accepts arriving together are committed together (one transaction, one sync, per turn of the event loop), so the
// cost of durability is shared by every caller waiting at that moment instead of paid once each.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';

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
  /** The functions with an event due at `now`. */
  dueFunctions(now: number): string[];
  /** `functionName`'s events due at `now`, oldest due first; `limit` of them at most. */
  due(functionName: string, now: number, limit: number): QueuedEvent[];
  /** When the next event is due (ms since the epoch); undefined when the queue is empty. */
  nextDueAt(): number | undefined;
  /**
   * Puts an event back for a later attempt. Written with the next batch, without a sync of its own (see remove): lost
   * to a crash, the event is only tried again sooner.
   */
  reschedule(requestId: string, changes: Reschedule): void;
  /**
   * The event is done with (delivered, retried out or handed over, or its function is gone). Written with the next
   * batch, not synced on its own: lost to a crash, the event is delivered again (at least once), never lost.
   */
  remove(requestId: string): void;
  /** Events queued per function, and the oldest one's receivedAt: for `lambkin status` and /metrics. */
  depths(): { functionName: string; events: number; oldestReceivedAt: number }[];
  close(): void;
}

type Row = {
  request_id: string;
  function_name: string;
  qualifier: string | null;
  payload: Uint8Array;
  received_at: number;
  due_at: number;
  invokes: number;
  requeues: number;
  trace_id: string | null;
  last_result: string | null;
};

function eventOf(row: Row): QueuedEvent {
  return {
    requestId: row.request_id,
    functionName: row.function_name,
    ...(row.qualifier !== null ? { qualifier: row.qualifier } : {}),
    payload: Buffer.from(row.payload),
    receivedAt: row.received_at,
    dueAt: row.due_at,
    invokes: row.invokes,
    requeues: row.requeues,
    ...(row.trace_id !== null ? { traceId: row.trace_id } : {}),
    ...(row.last_result !== null ? { lastResult: row.last_result } : {}),
  };
}

export const QUEUE_FILE = 'async-events.db';

export class SqliteEventQueue implements EventQueue {
  /** The database file, named in errors (an unwritable data dir is refused at start). */
  readonly path: string;
  private readonly db: DatabaseSync;
  private readonly statements: Record<'insert' | 'dueFunctions' | 'due' | 'next' | 'reschedule' | 'remove' | 'depths', StatementSync>;
  /** Accepts waiting for this turn's commit. */
  private batch: { event: QueuedEvent; resolve: () => void; reject: (error: unknown) => void }[] = [];
  /**
   * Removals and reschedules not written yet, by request id: written with the next commit (this turn of the event
   * loop), and meanwhile kept out of what the reads answer, so a read never has to wait for a write.
   */
  private pending = new Map<string, Reschedule | 'removed'>();
  private commitScheduled = false;
  private synchronous: 'FULL' | 'NORMAL' = 'FULL';

  /** Opens (or creates) the queue under `dataDir`; throws, naming the file, when it cannot be written. */
  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.path = join(dataDir, QUEUE_FILE);
    this.db = new DatabaseSync(this.path);
    // WAL: readers never wait on the writer; FULL: a commit is synced before it returns, so a 202 outlives a power cut.
    this.db.exec('PRAGMA journal_mode = WAL');
    this.db.exec('PRAGMA synchronous = FULL');
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
    this.db.exec('CREATE INDEX IF NOT EXISTS async_events_due ON async_events (due_at)');
    this.db.exec('CREATE INDEX IF NOT EXISTS async_events_function_due ON async_events (function_name, due_at)');
    this.statements = {
      insert: this.db.prepare(
        `INSERT OR IGNORE INTO async_events (request_id, function_name, qualifier, payload, received_at, due_at, invokes, requeues, trace_id, last_result)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      dueFunctions: this.db.prepare('SELECT DISTINCT function_name FROM async_events WHERE due_at <= ?'),
      due: this.db.prepare('SELECT * FROM async_events WHERE function_name = ? AND due_at <= ? ORDER BY due_at LIMIT ?'),
      next: this.db.prepare('SELECT request_id, due_at FROM async_events ORDER BY due_at LIMIT ?'),
      reschedule: this.db.prepare('UPDATE async_events SET due_at = ?, invokes = ?, requeues = ?, last_result = COALESCE(?, last_result) WHERE request_id = ?'),
      remove: this.db.prepare('DELETE FROM async_events WHERE request_id = ?'),
      depths: this.db.prepare(
        'SELECT function_name, COUNT(*) AS events, MIN(received_at) AS oldest FROM async_events GROUP BY function_name ORDER BY function_name',
      ),
    };
  }

  accept(event: QueuedEvent): Promise<void> {
    return new Promise((resolve, reject) => {
      this.batch.push({ event, resolve, reject });
      this.scheduleCommit();
    });
  }

  dueFunctions(now: number): string[] {
    return (this.statements.dueFunctions.all(now) as { function_name: string }[]).map((row) => row.function_name);
  }

  due(functionName: string, now: number, limit: number): QueuedEvent[] {
    // Asked for enough to make up for events whose change is not written yet, which are left out.
    const rows = this.statements.due.all(functionName, now, limit + this.pending.size) as Row[];
    return rows
      .filter((row) => !this.pending.has(row.request_id))
      .slice(0, limit)
      .map(eventOf);
  }

  nextDueAt(): number | undefined {
    const rows = this.statements.next.all(this.pending.size + 1) as { request_id: string; due_at: number }[];
    const times = rows.filter((row) => !this.pending.has(row.request_id)).map((row) => row.due_at);
    for (const change of this.pending.values()) if (change !== 'removed') times.push(change.dueAt);
    return times.length === 0 ? undefined : Math.min(...times);
  }

  reschedule(requestId: string, changes: Reschedule): void {
    this.pending.set(requestId, changes);
    this.scheduleCommit();
  }

  remove(requestId: string): void {
    this.pending.set(requestId, 'removed');
    this.scheduleCommit();
  }

  depths(): { functionName: string; events: number; oldestReceivedAt: number }[] {
    return (this.statements.depths.all() as { function_name: string; events: number; oldest: number }[]).map((row) => ({
      functionName: row.function_name,
      events: row.events,
      oldestReceivedAt: row.oldest,
    }));
  }

  close(): void {
    if (!this.db.isOpen) return;
    // Accepts still waiting are stored now: the event loop may not turn again before the process exits.
    this.commit();
    this.db.close();
  }

  private scheduleCommit(): void {
    if (this.commitScheduled) return;
    this.commitScheduled = true;
    setImmediate(() => this.commit());
  }

  /**
   * Commits every accept of this turn, and the pending removals and reschedules, in one transaction: each caller
   * learns its event is stored, or why not.
   */
  private commit(): void {
    this.commitScheduled = false;
    const batch = this.batch;
    const writes = this.pending;
    this.batch = [];
    this.pending = new Map();
    if (batch.length === 0 && writes.size === 0) return;
    if (!this.db.isOpen) {
      for (const { reject } of batch) reject(new Error(`the asynchronous event queue (${this.path}) is closed: the event was not stored`));
      return;
    }
    // Accepts are synced before their 202; a commit of removals and reschedules alone is not: lost to a crash, an event
    // is only delivered again (at least once) or tried sooner, and not waiting for a sync keeps delivery fast.
    this.setSynchronous(batch.length > 0 ? 'FULL' : 'NORMAL');
    try {
      this.inTransaction(() => {
        for (const [requestId, change] of writes) {
          if (change === 'removed') this.statements.remove.run(requestId);
          else this.statements.reschedule.run(change.dueAt, change.invokes, change.requeues, change.lastResult ?? null, requestId);
        }
        for (const { event } of batch) {
          this.statements.insert.run(
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
          );
        }
      });
    } catch (error) {
      for (const { reject } of batch) reject(error);
      return;
    }
    for (const { resolve } of batch) resolve();
  }

  private setSynchronous(mode: 'FULL' | 'NORMAL'): void {
    if (this.synchronous === mode) return;
    this.db.exec(`PRAGMA synchronous = ${mode}`);
    this.synchronous = mode;
  }

  private inTransaction(work: () => void): void {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      work();
      this.db.exec('COMMIT');
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
  }
}
