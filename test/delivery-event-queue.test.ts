// The asynchronous invokes' queue on a real node:sqlite file (written by its writer thread): what it answers while
// changes wait for their commit, and what a reopened queue still holds (what a restart finds).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatabaseSync } from 'node:sqlite';
import { newEvent, QUEUE_FILE, SqliteEventQueue } from '../src/delivery/event-queue.ts';

let dir: string;
let queue: SqliteEventQueue;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lambkin-queue-'));
  queue = new SqliteEventQueue(dir);
});

afterEach(async () => {
  await queue.close();
  await rm(dir, { recursive: true, force: true });
});

const event = (requestId: string, functionName = 'f', now = 1_000) => newEvent({ requestId, functionName, payload: Buffer.from(`{"id":"${requestId}"}`) }, now);

describe('the event queue', () => {
  it('stores accepts made together, and answers them due per function, oldest first', async () => {
    await Promise.all([queue.accept(event('a', 'f', 1_000)), queue.accept(event('b', 'f', 900)), queue.accept(event('c', 'g', 950))]);
    expect(queue.dueFunctions(1_000).sort()).toEqual(['f', 'g']);
    expect(queue.nextDueAt()).toBe(900);
    expect(queue.take('f', 950, 10).map((e) => e.requestId)).toEqual(['b']);
    expect(queue.take('f', 1_000, 10).map((e) => [e.requestId, e.payload.toString()])).toEqual([['a', '{"id":"a"}']]);
    expect(queue.depths()).toEqual([
      { functionName: 'f', events: 2, oldestReceivedAt: 900 },
      { functionName: 'g', events: 1, oldestReceivedAt: 950 },
    ]);
  });

  it('does not answer a taken event again until it is put back, and leaves out a removed one at once', async () => {
    await queue.accept(event('a'));
    await queue.accept(event('b'));
    expect(queue.take('f', 1_000, 10).map((e) => e.requestId)).toEqual(['a', 'b']);
    expect(queue.dueFunctions(1_000)).toEqual([]);
    expect(queue.nextDueAt()).toBeUndefined();
    queue.remove('a');
    queue.reschedule('b', { dueAt: 5_000, invokes: 1, requeues: 0, lastResult: 'x' });
    queue.reschedule('a', { dueAt: 5_000, invokes: 1, requeues: 0 }); // removed: not brought back
    expect(queue.take('f', 1_000, 10)).toEqual([]);
    expect(queue.nextDueAt()).toBe(5_000);
    expect(queue.take('f', 5_000, 10).map((e) => [e.requestId, e.invokes, e.lastResult])).toEqual([['b', 1, 'x']]);
    expect(queue.depths()).toEqual([{ functionName: 'f', events: 1, oldestReceivedAt: 1_000 }]);
  });

  it('commits accepts that arrive while a commit is under way together, each told only once it is stored', async () => {
    const accepts = Array.from({ length: 200 }, (_, i) => queue.accept(event(`e${i}`)));
    await Promise.all(accepts);
    await queue.close();
    const reopened = new DatabaseSync(join(dir, QUEUE_FILE), { readOnly: true });
    try {
      expect((reopened.prepare('SELECT COUNT(*) AS n FROM async_events').get() as { n: number }).n).toBe(200);
    } finally {
      reopened.close();
    }
    queue = new SqliteEventQueue(dir);
  });

  it('answers an event taken but not finished again after a restart (at least once)', async () => {
    await queue.accept(event('in-flight'));
    expect(queue.take('f', 1_000, 10)).toHaveLength(1);
    await queue.close();
    queue = new SqliteEventQueue(dir);
    expect(queue.take('f', 1_000, 10).map((e) => e.requestId)).toEqual(['in-flight']);
  });

  it('refuses an accept once closed, saying the event was not stored', async () => {
    await queue.close();
    await expect(queue.accept(event('late'))).rejects.toThrow(/is closed: the event was not stored/);
    queue = new SqliteEventQueue(dir);
  });

  it('still holds what it accepted, and the changes made, when opened again', async () => {
    await queue.accept(event('kept'));
    await queue.accept(event('gone'));
    queue.remove('gone');
    queue.reschedule('kept', { dueAt: 2_000, invokes: 2, requeues: 1 });
    await queue.close();
    queue = new SqliteEventQueue(dir);
    const [kept, ...rest] = queue.take('f', 2_000, 10);
    expect(rest).toEqual([]);
    expect(kept).toMatchObject({ requestId: 'kept', dueAt: 2_000, invokes: 2, requeues: 1, payload: Buffer.from('{"id":"kept"}') });
  });
});
