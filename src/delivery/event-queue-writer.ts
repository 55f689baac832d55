// The asynchronous queue's writes, on a thread of their own. A durable accept is a committed transaction and a sync
// to disk; node:sqlite does both synchronously, and on the event loop that answers the Invoke API they stopped every
// other request for as long as the disk took (a fifth of serve's time under a stream of Event invokes). On this thread
// the commit waits for the disk while the event loop goes on reading the next requests, which are the next batch.
//
// The thread runs `writerMain`'s source (eval: one file for the tests' TypeScript and the bundled CLI alike, where a
// worker file would have a different path in each): the function uses nothing but its parameters.
import { Worker } from 'node:worker_threads';

/** One row for INSERT, in the column order of QUEUE_SQL.insert. */
export type InsertRow = [string, string, string | null, Uint8Array, number, number, number, number, string | null, string | null];
/** UPDATE's parameters, in the order of QUEUE_SQL.reschedule. */
export type RescheduleRow = [number, number, number, string | null, string];

/** What one transaction writes. */
export interface WriteBatch {
  id: number;
  inserts: InsertRow[];
  reschedules: RescheduleRow[];
  removes: string[];
  /** FULL when the batch holds accepts, whose 202 waits for it; NORMAL otherwise (see event-queue.ts). */
  synchronous: 'FULL' | 'NORMAL';
}

export interface WriteDone {
  id: number;
  /** The reason the transaction was rolled back. */
  error?: string;
}

export interface WriterSql {
  insert: string;
  reschedule: string;
  remove: string;
}

/** The thread's body: opens its own connection to the file and commits each batch it is sent, answering each. */
function writerMain(
  port: { on(event: 'message', listener: (message: WriteBatch | 'close') => void): void; postMessage(message: WriteDone): void; close(): void },
  path: string,
  sql: WriterSql,
  Database: typeof import('node:sqlite').DatabaseSync,
): void {
  const db = new Database(path);
  db.exec('PRAGMA busy_timeout = 5000');
  const insert = db.prepare(sql.insert);
  const reschedule = db.prepare(sql.reschedule);
  const remove = db.prepare(sql.remove);
  let synchronous = '';
  port.on('message', (message) => {
    if (message === 'close') {
      db.close();
      port.close();
      return;
    }
    try {
      if (synchronous !== message.synchronous) {
        db.exec(`PRAGMA synchronous = ${message.synchronous}`);
        synchronous = message.synchronous;
      }
      db.exec('BEGIN IMMEDIATE');
      try {
        for (const id of message.removes) remove.run(id);
        for (const row of message.reschedules) reschedule.run(...row);
        for (const row of message.inserts) insert.run(...row);
        db.exec('COMMIT');
      } catch (error) {
        db.exec('ROLLBACK');
        throw error;
      }
      port.postMessage({ id: message.id });
    } catch (error) {
      port.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) });
    }
  });
}

const WRITER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
(${writerMain.toString()})(parentPort, workerData.path, workerData.sql, DatabaseSync);
`;

/**
 * The writer thread for the queue file at `path` (its tables already made): one batch at a time, answered in order.
 * `onDone` hears each batch's end; `onFailure` that the thread itself died (every batch not answered is then lost).
 */
export class QueueWriter {
  private readonly worker: Worker;
  private closed: Promise<void> | undefined;
  private exited = false;

  constructor(path: string, sql: WriterSql, onDone: (done: WriteDone) => void, onFailure: (error: Error) => void) {
    this.worker = new Worker(WRITER_SOURCE, { eval: true, workerData: { path, sql } });
    this.worker.on('message', onDone);
    this.worker.on('error', onFailure);
    this.worker.once('exit', () => (this.exited = true));
    // An exit with work unanswered is the process's own exit: nothing waiting for it was told 202.
    this.worker.unref();
  }

  write(batch: WriteBatch): void {
    this.worker.postMessage(batch);
  }

  /**
   * Keeps the process alive while the thread has work whose end someone awaits (a close): unref'd, a process with
   * nothing else to do would exit before hearing the answer.
   */
  hold(): void {
    this.worker.ref();
  }

  /** Closes the thread's connection once the batches sent before have been written, then ends the thread. */
  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      if (this.exited) return resolve();
      this.worker.once('exit', () => resolve());
      this.worker.postMessage('close');
    });
    return this.closed;
  }
}
