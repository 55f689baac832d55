// Event source mappings and their pollers' checkpoints, kept in the functions' database (lambkin.db), so that both
// survive a restart. A mapping does not go with its function: AWS keeps it (its invokes then fail) until it is
// deleted itself (test_event_source_mapping_lifecycle_delete_function). Writes commit with the database's
// synchronous = FULL (function-store.ts): an acknowledged mapping or checkpoint outlives a power cut.
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { CheckpointStore, EventSourceMappingRecord } from '../../delivery/mappings/mapping.ts';

/** A mapping as stored: its record, and whether the user wants it enabled (what its transitions settle to). */
export interface StoredMapping extends EventSourceMappingRecord {
  enabled: boolean;
}

export interface MappingStore {
  get(uuid: string): StoredMapping | undefined;
  /** Adds a new mapping (its UUID is new). */
  create(mapping: StoredMapping): void;
  /**
   * Replaces a stored mapping; false when it is gone, or (with `ifLastModified`) when it changed since it was read
   * (compare and set, in one statement).
   */
  update(mapping: StoredMapping, ifLastModified?: number): boolean;
  /** Removes a mapping and its checkpoints; the removed mapping, or undefined when there was none. */
  delete(uuid: string): StoredMapping | undefined;
  /** Mappings ordered by UUID, starting after `afterUuid`. */
  list(afterUuid: string | undefined, limit: number): StoredMapping[];
  /** The mapping of `functionArn` (as the mapping names it) to `eventSourceArn`, if any: one each, as AWS allows. */
  findDuplicate(functionArn: string, eventSourceArn: string): StoredMapping | undefined;
}

type Row = { record: string };
const mappingOf = (row: Row) => JSON.parse(row.record) as StoredMapping;

export class SqliteMappingStore implements MappingStore {
  private readonly statements: Record<'get' | 'insert' | 'update' | 'updateIf' | 'delete' | 'list' | 'duplicate', StatementSync>;
  private readonly forgetCheckpoints: (uuid: string) => void;

  constructor(db: DatabaseSync, checkpoints: SqliteCheckpointStore) {
    db.exec(
      'CREATE TABLE IF NOT EXISTS event_source_mappings (uuid TEXT PRIMARY KEY, function_arn TEXT NOT NULL, event_source_arn TEXT NOT NULL, record TEXT NOT NULL) WITHOUT ROWID',
    );
    this.statements = {
      get: db.prepare('SELECT record FROM event_source_mappings WHERE uuid = ?'),
      insert: db.prepare('INSERT INTO event_source_mappings (uuid, function_arn, event_source_arn, record) VALUES (?, ?, ?, ?)'),
      update: db.prepare('UPDATE event_source_mappings SET function_arn = ?, record = ? WHERE uuid = ?'),
      updateIf: db.prepare("UPDATE event_source_mappings SET function_arn = ?, record = ? WHERE uuid = ? AND json_extract(record, '$.lastModified') = ?"),
      delete: db.prepare('DELETE FROM event_source_mappings WHERE uuid = ? RETURNING record'),
      list: db.prepare('SELECT record FROM event_source_mappings WHERE uuid > ? ORDER BY uuid LIMIT ?'),
      duplicate: db.prepare('SELECT record FROM event_source_mappings WHERE function_arn = ? AND event_source_arn = ? LIMIT 1'),
    };
    this.forgetCheckpoints = (uuid) => checkpoints.forget(uuid);
  }

  get(uuid: string): StoredMapping | undefined {
    const row = this.statements.get.get(uuid) as Row | undefined;
    return row ? mappingOf(row) : undefined;
  }

  create(mapping: StoredMapping): void {
    this.statements.insert.run(mapping.uuid, mapping.functionArn, mapping.eventSourceArn, JSON.stringify(mapping));
  }

  update(mapping: StoredMapping, ifLastModified?: number): boolean {
    const record = JSON.stringify(mapping);
    const { changes } =
      ifLastModified === undefined
        ? this.statements.update.run(mapping.functionArn, record, mapping.uuid)
        : this.statements.updateIf.run(mapping.functionArn, record, mapping.uuid, ifLastModified);
    return Number(changes) > 0;
  }

  delete(uuid: string): StoredMapping | undefined {
    const row = this.statements.delete.get(uuid) as Row | undefined;
    this.forgetCheckpoints(uuid);
    return row ? mappingOf(row) : undefined;
  }

  list(afterUuid: string | undefined, limit: number): StoredMapping[] {
    return (this.statements.list.all(afterUuid ?? '', limit) as Row[]).map(mappingOf);
  }

  findDuplicate(functionArn: string, eventSourceArn: string): StoredMapping | undefined {
    const row = this.statements.duplicate.get(functionArn, eventSourceArn) as Row | undefined;
    return row ? mappingOf(row) : undefined;
  }
}

type CheckpointRow = { sequence: string | null; finished: number };

/** Stream pollers' places, per mapping and shard (mapping.ts CheckpointStore); each write is durable when it returns. */
export class SqliteCheckpointStore implements CheckpointStore {
  private readonly statements: Record<'get' | 'set' | 'finish' | 'forget', StatementSync>;

  constructor(db: DatabaseSync) {
    db.exec(
      'CREATE TABLE IF NOT EXISTS mapping_checkpoints (mapping TEXT NOT NULL, shard TEXT NOT NULL, sequence TEXT, finished INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (mapping, shard)) WITHOUT ROWID',
    );
    this.statements = {
      get: db.prepare('SELECT sequence, finished FROM mapping_checkpoints WHERE mapping = ? AND shard = ?'),
      set: db.prepare(
        'INSERT INTO mapping_checkpoints (mapping, shard, sequence) VALUES (?, ?, ?) ON CONFLICT (mapping, shard) DO UPDATE SET sequence = excluded.sequence',
      ),
      finish: db.prepare('INSERT INTO mapping_checkpoints (mapping, shard, finished) VALUES (?, ?, 1) ON CONFLICT (mapping, shard) DO UPDATE SET finished = 1'),
      forget: db.prepare('DELETE FROM mapping_checkpoints WHERE mapping = ?'),
    };
  }

  private row(mappingUuid: string, shardId: string): CheckpointRow | undefined {
    return this.statements.get.get(mappingUuid, shardId) as CheckpointRow | undefined;
  }

  get(mappingUuid: string, shardId: string): string | undefined {
    return this.row(mappingUuid, shardId)?.sequence ?? undefined;
  }

  set(mappingUuid: string, shardId: string, sequenceNumber: string): void {
    this.statements.set.run(mappingUuid, shardId, sequenceNumber);
  }

  finish(mappingUuid: string, shardId: string): void {
    this.statements.finish.run(mappingUuid, shardId);
  }

  isFinished(mappingUuid: string, shardId: string): boolean {
    return this.row(mappingUuid, shardId)?.finished === 1;
  }

  forget(mappingUuid: string): void {
    this.statements.forget.run(mappingUuid);
  }
}
