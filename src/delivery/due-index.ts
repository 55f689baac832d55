// The asynchronous queue's events as the worker asks about them, in memory: which functions have an event due, each
// function's due events oldest first, and when the next one is due. The database (event-queue.ts) is the record that
// survives a crash; asking it these questions cost a query each, several per accept and per delivery, on the event
// loop that answers the Invoke API. An event is "taken" while an attempt has it and is then rescheduled or removed;
// a taken event is not due again in this run (after a restart everything left in the database is).
import { MinHeap } from '../scheduling/min-heap.ts';
import type { QueuedEvent } from './event-queue.ts';

/** An event without its payload (which stays in the database until an attempt takes it). */
export type EventMeta = Omit<QueuedEvent, 'payload'>;

interface Slot {
  dueAt: number;
  /** Arrival order: events due at the same millisecond come out in the order they were queued. */
  seq: number;
  requestId: string;
}

/** Slots by (dueAt, seq). Stale slots (a removed or moved event's) stay until they surface, and are skipped then. */
type SlotHeap = MinHeap<Slot>;

function before(a: Slot, b: Slot): boolean {
  return a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.seq < b.seq);
}

interface Entry {
  meta: EventMeta;
  /** The seq of the event's live slot; undefined while it is taken. */
  slot: number | undefined;
}

export class DueIndex {
  private readonly entries = new Map<string, Entry>();
  private readonly heaps = new Map<string, SlotHeap>();
  private seq = 0;

  /** Every event known (taken ones included), for depths. */
  get size(): number {
    return this.entries.size;
  }

  /** A newly stored event, or one found in the database at start: waiting until its dueAt. */
  add(meta: EventMeta): void {
    const entry: Entry = { meta, slot: undefined };
    this.entries.set(meta.requestId, entry);
    this.wait(entry);
  }

  /** The functions with an event due at `now` that is not taken. */
  dueFunctions(now: number): string[] {
    const names: string[] = [];
    for (const [name, heap] of this.heaps) {
      const top = this.liveTop(heap);
      if (top === undefined) this.heaps.delete(name);
      else if (top.dueAt <= now) names.push(name);
    }
    return names;
  }

  /** Takes up to `limit` of `functionName`'s events due at `now`, oldest due first: they are not due again until put back. */
  take(functionName: string, now: number, limit: number): EventMeta[] {
    const heap = this.heaps.get(functionName);
    const taken: EventMeta[] = [];
    while (heap && taken.length < limit) {
      const top = this.liveTop(heap);
      if (top === undefined || top.dueAt > now) break;
      heap.pop();
      const entry = this.entries.get(top.requestId)!;
      entry.slot = undefined;
      taken.push(entry.meta);
    }
    return taken;
  }

  /** When the next event that is not taken is due; undefined when there is none. */
  nextDueAt(): number | undefined {
    let next: number | undefined;
    for (const heap of this.heaps.values()) {
      const top = this.liveTop(heap);
      if (top !== undefined && (next === undefined || top.dueAt < next)) next = top.dueAt;
    }
    return next;
  }

  /** Puts an event back with its new due time and counts; false when the event is not known (already removed). */
  reschedule(requestId: string, changes: Partial<EventMeta>): boolean {
    const entry = this.entries.get(requestId);
    if (!entry) return false;
    entry.meta = { ...entry.meta, ...changes };
    this.wait(entry);
    return true;
  }

  remove(requestId: string): void {
    this.entries.delete(requestId);
  }

  /** Events known per function (taken ones included) and the oldest one's receivedAt, by function name. */
  depths(): { functionName: string; events: number; oldestReceivedAt: number }[] {
    const depths = new Map<string, { functionName: string; events: number; oldestReceivedAt: number }>();
    for (const { meta } of this.entries.values()) {
      const depth = depths.get(meta.functionName);
      if (!depth) depths.set(meta.functionName, { functionName: meta.functionName, events: 1, oldestReceivedAt: meta.receivedAt });
      else {
        depth.events++;
        if (meta.receivedAt < depth.oldestReceivedAt) depth.oldestReceivedAt = meta.receivedAt;
      }
    }
    return [...depths.values()].sort((a, b) => (a.functionName < b.functionName ? -1 : a.functionName > b.functionName ? 1 : 0));
  }

  private wait(entry: Entry): void {
    const name = entry.meta.functionName;
    let heap = this.heaps.get(name);
    if (!heap) {
      heap = new MinHeap(before);
      this.heaps.set(name, heap);
    }
    entry.slot = ++this.seq;
    heap.push({ dueAt: entry.meta.dueAt, seq: entry.slot, requestId: entry.meta.requestId });
  }

  /** The heap's first slot that is still its event's live one, dropping stale ones on the way. */
  private liveTop(heap: SlotHeap): Slot | undefined {
    for (;;) {
      const top = heap.peek();
      if (top === undefined) return undefined;
      if (this.entries.get(top.requestId)?.slot === top.seq) return top;
      heap.pop();
    }
  }
}
