// A CheckpointStore in memory, for tests that drive a stream poller directly: it outlives the pollers given it, as
// lambkin's durable store outlives a restart, so a second poller over it must resume where the first stopped.
import type { CheckpointStore } from '../../src/delivery/mappings/mapping.ts';

export class MemoryCheckpoints implements CheckpointStore {
  readonly #sequenceNumbers = new Map<string, string>();
  readonly #finished = new Set<string>();

  get(mappingUuid: string, shardId: string): string | undefined {
    return this.#sequenceNumbers.get(key(mappingUuid, shardId));
  }

  set(mappingUuid: string, shardId: string, sequenceNumber: string): void {
    this.#sequenceNumbers.set(key(mappingUuid, shardId), sequenceNumber);
  }

  finish(mappingUuid: string, shardId: string): void {
    this.#finished.add(key(mappingUuid, shardId));
  }

  isFinished(mappingUuid: string, shardId: string): boolean {
    return this.#finished.has(key(mappingUuid, shardId));
  }

  forget(mappingUuid: string): void {
    for (const map of [this.#sequenceNumbers, this.#finished]) {
      for (const stored of map.keys()) if (stored.startsWith(`${mappingUuid}\n`)) map.delete(stored);
    }
  }
}

const key = (mappingUuid: string, shardId: string) => `${mappingUuid}\n${shardId}`;
