// The in-memory index the async worker asks what is due: order (due time, then arrival), taking, putting back.
import { describe, expect, it } from 'vitest';
import { DueIndex, type EventMeta } from '../src/delivery/due-index.ts';

const meta = (requestId: string, dueAt: number, functionName = 'f'): EventMeta => ({
  requestId,
  functionName,
  receivedAt: dueAt,
  dueAt,
  invokes: 0,
  requeues: 0,
});

describe('the due index', () => {
  it('answers 2,000 events in due order, ties in arrival order, whatever order they came in', () => {
    const index = new DueIndex();
    const dueTimes = Array.from({ length: 2_000 }, (_, i) => ((i * 7919) % 500) + 1);
    for (const [i, dueAt] of dueTimes.entries()) index.add(meta(`e${i}`, dueAt));
    const taken = index.take('f', 1_000, 5_000);
    const expected = dueTimes.map((dueAt, i) => ({ dueAt, i })).sort((a, b) => a.dueAt - b.dueAt || a.i - b.i);
    expect(taken.map((m) => m.requestId)).toEqual(expected.map(({ i }) => `e${i}`));
    expect(index.take('f', 1_000, 10)).toEqual([]);
    expect(index.size).toBe(2_000);
  });

  it('keeps functions apart, and answers only what is due', () => {
    const index = new DueIndex();
    index.add(meta('a1', 10, 'a'));
    index.add(meta('b1', 30, 'b'));
    index.add(meta('a2', 20, 'a'));
    expect(index.dueFunctions(15)).toEqual(['a']);
    expect(index.dueFunctions(30).sort()).toEqual(['a', 'b']);
    expect(index.nextDueAt()).toBe(10);
    expect(index.take('a', 15, 10).map((m) => m.requestId)).toEqual(['a1']);
    expect(index.nextDueAt()).toBe(20);
  });

  it('moves a rescheduled event to its new time, and forgets a removed one, waiting or taken', () => {
    const index = new DueIndex();
    index.add(meta('x', 10));
    index.add(meta('y', 20));
    index.add(meta('z', 30));
    expect(index.take('f', 10, 1).map((m) => m.requestId)).toEqual(['x']);
    expect(index.reschedule('x', { dueAt: 40, invokes: 1 })).toBe(true);
    index.remove('y');
    expect(index.take('f', 100, 10).map((m) => [m.requestId, m.invokes])).toEqual([
      ['z', 0],
      ['x', 1],
    ]);
    index.remove('x');
    expect(index.reschedule('x', { dueAt: 50 })).toBe(false);
    expect(index.depths()).toEqual([{ functionName: 'f', events: 1, oldestReceivedAt: 30 }]);
  });
});
