// The asynchronous invokes' queue on a real node:sqlite file: what it answers while changes wait for their commit,
// and what a reopened queue still holds (what a restart finds).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newEvent, SqliteEventQueue } from '../src/delivery/event-queue.ts';

let dir: string;
let queue: SqliteEventQueue;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lambkin-queue-'));
  queue = new SqliteEventQueue(dir);
});

afterEach(async () => {
  queue.close();
  await rm(dir, { recursive: true, force: true });
});

const event = (requestId: string, functionName = 'f', now = 1_000) => newEvent({ requestId, functionName, payload: Buffer.from(`{"id":"${requestId}"}`) }, now);

describe('the event queue', () => {
  it('stores accepts made together, and answers them due per function, oldest first', async () => {
    await Promise.all([queue.accept(event('a', 'f', 1_000)), queue.accept(event('b', 'f', 900)), queue.accept(event('c', 'g', 950))]);
    expect(queue.dueFunctions(1_000).sort()).toEqual(['f', 'g']);
    expect(queue.due('f', 1_000, 10).map((e) => e.requestId)).toEqual(['b', 'a']);
    expect(queue.due('f', 950, 10).map((e) => e.requestId)).toEqual(['b']);
    expect(queue.nextDueAt()).toBe(900);
    expect(queue.depths()).toEqual([
      { functionName: 'f', events: 2, oldestReceivedAt: 900 },
      { functionName: 'g', events: 1, oldestReceivedAt: 950 },
    ]);
  });

  it('leaves out a removed or rescheduled event at once, before its change is written', async () => {
    await queue.accept(event('a'));
    await queue.accept(event('b'));
    queue.remove('a');
    queue.reschedule('b', { dueAt: 5_000, invokes: 1, requeues: 0, lastResult: 'x' });
    expect(queue.due('f', 1_000, 10)).toEqual([]);
    expect(queue.nextDueAt()).toBe(5_000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(queue.due('f', 5_000, 10).map((e) => [e.requestId, e.invokes, e.lastResult])).toEqual([['b', 1, 'x']]);
  });

  it('still holds what it accepted, and the changes made, when opened again', async () => {
    await queue.accept(event('kept'));
    await queue.accept(event('gone'));
    queue.remove('gone');
    queue.reschedule('kept', { dueAt: 2_000, invokes: 2, requeues: 1 });
    queue.close();
    queue = new SqliteEventQueue(dir);
    const [kept, ...rest] = queue.due('f', 2_000, 10);
    expect(rest).toEqual([]);
    expect(kept).toMatchObject({ requestId: 'kept', dueAt: 2_000, invokes: 2, requeues: 1, payload: Buffer.from('{"id":"kept"}') });
  });
});
