// Which of a stream's shards a mapping reads now. After resharding (a split, a merge) the closed parent shards keep
// records written before it; Lambda reads a parent to its end before its children, so a partition key's records stay
// in order across the change. A child waits while a parent it names is listed and not yet finished; a parent no
// longer listed (trimmed away with its records) holds nothing back.
import type { Shard } from '@aws-sdk/client-kinesis';

export interface ShardView {
  /** Shards being read now. */
  reading: ReadonlySet<string>;
  /** Read to their end (CheckpointStore.isFinished). */
  isFinished(shardId: string): boolean;
}

export function shardsToStart(shards: readonly Shard[], view: ShardView): Shard[] {
  const listed = new Set(shards.map((shard) => shard.ShardId));
  const parentDone = (parent: string | undefined) => parent === undefined || !listed.has(parent) || view.isFinished(parent);
  return shards.filter(
    (shard) =>
      shard.ShardId !== undefined &&
      !view.reading.has(shard.ShardId) &&
      !view.isFinished(shard.ShardId) &&
      parentDone(shard.ParentShardId) &&
      parentDone(shard.AdjacentParentShardId),
  );
}

/**
 * A child whose parent this mapping read to its end: it is read from its start, whatever the StartingPosition (its
 * records follow the parent's). A child met on the first start (its parents trimmed or never read) starts as any shard.
 */
export function continuesAParent(shard: Shard, isFinished: (shardId: string) => boolean): boolean {
  return [shard.ParentShardId, shard.AdjacentParentShardId].some((parent) => parent !== undefined && isFinished(parent));
}
