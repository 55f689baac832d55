// The function registry. `FunctionStore` is what the service needs; `SqliteFunctionStore` keeps it in
// `<dataDir>/lambkin.db` (Node's built-in node:sqlite) with code under `<dataDir>/code/`, so functions
// survive a restart. A server-grade store can implement the same interface later.
//
// What a write acknowledges is on disk before the answer: the database commits with synchronous = FULL (in WAL mode
// NORMAL syncs only at checkpoints, so a commit could be lost to a power cut), and the code store keeps each zip
// durably. Content no function or layer version names any more is collected (code-collector.ts), and at open
// whatever a crash left behind is repaired or removed.
import { RecordCache } from './record-cache.ts';
import { mkdirSync } from 'node:fs';
import { join, sep } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { CodeCollector, type EnvironmentsNow, type RetiredContent } from './code-collector.ts';
import { CodeStore, DurableMarks } from './code-store.ts';
import type { FunctionRecord, ZipCode } from '../function-record.ts';
import { SqliteAliasStore, type AliasStore } from './alias-store.ts';
import { FunctionAlreadyExists } from './errors.ts';
import { SqliteLayerStore, type LayerStore } from './layer-store.ts';
import { SqliteCheckpointStore, SqliteMappingStore, type MappingStore } from './mapping-store.ts';
import { SqliteFunctionUrlStore } from './url-store.ts';
import { SqlitePolicyStore } from './policy-store.ts';
import type { PolicyStore } from '../../iam/resource-policy.ts';
import type { FunctionUrlStore } from '../../urls/url-config.ts';
import type { CheckpointStore } from '../../delivery/mappings/mapping.ts';

export interface FunctionStore {
  get(name: string): Promise<FunctionRecord | undefined>;
  /** Adds a new function; FunctionAlreadyExists when the name is taken. */
  create(record: FunctionRecord): Promise<void>;
  /**
   * Replaces an existing function's record; false when it no longer exists, or (with `ifRevisionId`) when its stored
   * RevisionId is another: it changed since it was read (compare and set, in one statement).
   */
  update(record: FunctionRecord, ifRevisionId?: string): Promise<boolean>;
  /**
   * Moves a function on in its lifecycle (function-lifecycle.ts): `changes` merged into its record, in one step,
   * only while its RevisionId is still `ifRevisionId`. The new record; undefined when it changed or went meanwhile.
   */
  transition(name: string, ifRevisionId: string, changes: Partial<FunctionRecord>): Promise<FunctionRecord | undefined>;
  /**
   * The deleted function's $LATEST record; undefined when there was no such function. Its published versions,
   * aliases and URL configs go with it (read them first to retire their content).
   */
  delete(name: string): Promise<FunctionRecord | undefined>;
  /** A published version (`version` is its number); undefined when the function has none of that number. */
  getVersion(name: string, version: number): Promise<FunctionRecord | undefined>;
  /** The function's published versions in ascending order, starting after `afterVersion`. */
  listVersions(name: string, afterVersion: number | undefined, limit: number): Promise<FunctionRecord[]>;
  /**
   * Publishes `version` (a snapshot of $LATEST, its `version` set) and writes `latest` (its lastPublishedVersion and
   * RevisionId moved on) in one step, only while $LATEST's stored RevisionId is still `ifRevisionId`: false when it
   * changed (or the function went) meanwhile.
   */
  publish(version: FunctionRecord, latest: FunctionRecord, ifRevisionId: string): Promise<boolean>;
  /** The deleted version's record; undefined when there was none. */
  deleteVersion(name: string, version: number): Promise<FunctionRecord | undefined>;
  /** The function's aliases; they live and go with it. */
  readonly aliases: AliasStore;
  /** The function URL configs of its $LATEST and aliases; they go with them. */
  readonly functionUrls: FunctionUrlStore;
  /** The resource-based policies of the function, its versions and its aliases; they go with them. */
  readonly policies: PolicyStore;
  /** Event source mappings (they outlive their function, as on AWS); a store without them refuses mappings. */
  readonly mappings?: MappingStore;
  /** Where the mappings' stream pollers keep their place. */
  readonly checkpoints?: CheckpointStore;
  /** Functions ordered by name, starting after `afterName`. */
  list(afterName: string | undefined, limit: number): Promise<FunctionRecord[]>;
  /** Stores (and extracts) a zip package, content-addressed; refuses a bad one (errors.ts). */
  putZip(zip: Buffer): Promise<ZipCode>;
  /** Resolves once a stored package's extracted tree is on disk to stay (a store without that notion: at once). */
  durable?(code: ZipCode): Promise<void>;
  /** Layer versions (PublishLayerVersion and a function's Layers); a store without them refuses layers. */
  readonly layers?: LayerStore;
  /**
   * A function stopped using some content (it was deleted, or updated): removed once nothing names it and no
   * environment of the function can still mount it. Call before the function's environments are retired.
   */
  retire?(content: RetiredContent, environments?: EnvironmentsNow): void;
  close(): void;
}

/** What `before` used and `after` (absent: the function is gone) does not. */
export function retiredContent(before: FunctionRecord, after?: FunctionRecord): RetiredContent {
  const mounted = [before.code.kind === 'zip' ? before.code.taskRoot : undefined, before.layerDirectory];
  const kept = new Set([
    after?.code.kind === 'zip' ? after.code.taskRoot : undefined,
    after?.layerDirectory,
    ...(after?.layers ?? []).map((l) => l.contentDirectory),
  ]);
  return {
    functionName: before.name,
    retiredAt: Date.now(),
    mounted: mounted.filter((directory): directory is string => directory !== undefined && !kept.has(directory)),
    other: (before.layers ?? []).map((layer) => layer.contentDirectory).filter((directory) => !kept.has(directory)),
  };
}

/** A row of the functions table, as stored: the record's JSON. */
type Row = { record: string };
const functionOf = (row: Row) => JSON.parse(row.record) as FunctionRecord;

export interface SqliteFunctionStoreOptions {
  maxUnzippedBytes?: number;
  maxEntries?: number;
  /** Told when collecting or repairing stored content fails (it is retried at the next open). */
  onError?: (error: unknown) => void;
}

export class SqliteFunctionStore implements FunctionStore {
  readonly dataDir: string;
  private readonly db: DatabaseSync;
  private readonly code: CodeStore;
  readonly layers: SqliteLayerStore;
  readonly aliases: SqliteAliasStore;
  readonly functionUrls: SqliteFunctionUrlStore;
  readonly policies: SqlitePolicyStore;
  readonly mappings: SqliteMappingStore;
  readonly checkpoints: SqliteCheckpointStore;
  private readonly statements: Record<
    | 'get'
    | 'insert'
    | 'update'
    | 'updateIf'
    | 'delete'
    | 'listFirst'
    | 'listAfter'
    | 'all'
    | 'getVersion'
    | 'insertVersion'
    | 'listVersions'
    | 'deleteVersion'
    | 'deleteVersions'
    | 'allVersions',
    StatementSync
  >;
  private readonly collector: CodeCollector;
  private readonly marks: DurableMarks;
  /** The open-time repair and collection; settles when it is done (it never rejects). */
  readonly opened: Promise<void>;
  /** $LATEST records by name, and versions by `name:version` (record-cache.ts): every write below forgets what it writes. */
  private readonly latest = new RecordCache<FunctionRecord>();
  private readonly versions = new RecordCache<FunctionRecord>();

  constructor(dataDir: string, options: SqliteFunctionStoreOptions = {}) {
    this.dataDir = dataDir;
    mkdirSync(dataDir, { recursive: true });
    this.db = new DatabaseSync(join(dataDir, 'lambkin.db'));
    // WAL: readers never wait on the writer, and a crash mid-write leaves the last committed state. FULL: each
    // commit is synced before it returns, so an acknowledged change outlives a power cut.
    this.db.exec('PRAGMA journal_mode = WAL');
    this.db.exec('PRAGMA synchronous = FULL');
    this.db.exec('CREATE TABLE IF NOT EXISTS functions (name TEXT PRIMARY KEY, record TEXT NOT NULL) WITHOUT ROWID');
    // Published versions: frozen records, numbered per function.
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS versions (function TEXT NOT NULL, version INTEGER NOT NULL, record TEXT NOT NULL, PRIMARY KEY (function, version)) WITHOUT ROWID',
    );
    this.statements = {
      get: this.db.prepare('SELECT record FROM functions WHERE name = ?'),
      insert: this.db.prepare('INSERT OR IGNORE INTO functions (name, record) VALUES (?, ?)'),
      update: this.db.prepare('UPDATE functions SET record = ? WHERE name = ?'),
      updateIf: this.db.prepare("UPDATE functions SET record = ? WHERE name = ? AND json_extract(record, '$.revisionId') = ?"),
      delete: this.db.prepare('DELETE FROM functions WHERE name = ? RETURNING record'),
      all: this.db.prepare('SELECT record FROM functions'),
      listFirst: this.db.prepare('SELECT record FROM functions ORDER BY name LIMIT ?'),
      listAfter: this.db.prepare('SELECT record FROM functions WHERE name > ? ORDER BY name LIMIT ?'),
      getVersion: this.db.prepare('SELECT record FROM versions WHERE function = ? AND version = ?'),
      insertVersion: this.db.prepare('INSERT INTO versions (function, version, record) VALUES (?, ?, ?)'),
      listVersions: this.db.prepare('SELECT record FROM versions WHERE function = ? AND version > ? ORDER BY version LIMIT ?'),
      deleteVersion: this.db.prepare('DELETE FROM versions WHERE function = ? AND version = ? RETURNING record'),
      deleteVersions: this.db.prepare('DELETE FROM versions WHERE function = ?'),
      allVersions: this.db.prepare('SELECT record FROM versions'),
    };
    this.aliases = new SqliteAliasStore(this.db);
    this.functionUrls = new SqliteFunctionUrlStore(this.db);
    this.policies = new SqlitePolicyStore(this.db);
    this.checkpoints = new SqliteCheckpointStore(this.db);
    this.mappings = new SqliteMappingStore(this.db, this.checkpoints);
    this.marks = new DurableMarks(this.db);
    this.code = new CodeStore(join(dataDir, 'code'), this.marks, options.maxUnzippedBytes, options.maxEntries);
    this.layers = new SqliteLayerStore(this.db, this.marks, dataDir, options.maxUnzippedBytes, options.maxEntries);
    const onError = options.onError ?? (() => {});
    this.collector = new CodeCollector({ remove: (directory) => this.removeContent(directory) }, onError);
    this.opened = this.repairAndCollect().catch(onError);
  }

  async get(name: string): Promise<FunctionRecord | undefined> {
    return this.latest.get(name, () => {
      const row = this.statements.get.get(name) as Row | undefined;
      return row ? functionOf(row) : undefined;
    });
  }

  async create(record: FunctionRecord): Promise<void> {
    this.latest.forget(record.name);
    try {
      const { changes } = this.statements.insert.run(record.name, JSON.stringify(record));
      if (Number(changes) === 0) throw new FunctionAlreadyExists(record.name);
    } finally {
      this.unpin(record);
    }
  }

  async update(record: FunctionRecord, ifRevisionId?: string): Promise<boolean> {
    this.latest.forget(record.name);
    try {
      const { changes } =
        ifRevisionId === undefined
          ? this.statements.update.run(JSON.stringify(record), record.name)
          : this.statements.updateIf.run(JSON.stringify(record), record.name, ifRevisionId);
      return Number(changes) > 0;
    } finally {
      this.unpin(record);
    }
  }

  async transition(name: string, ifRevisionId: string, changes: Partial<FunctionRecord>): Promise<FunctionRecord | undefined> {
    // No await between the read and the write: nothing else runs in between. The code it names is unchanged, so
    // (unlike update) no pin is released.
    this.latest.forget(name);
    const row = this.statements.get.get(name) as Row | undefined;
    const current = row ? functionOf(row) : undefined;
    if (current?.revisionId !== ifRevisionId) return undefined;
    const next = { ...current, ...changes };
    this.statements.update.run(JSON.stringify(next), name);
    return next;
  }

  async delete(name: string): Promise<FunctionRecord | undefined> {
    this.latest.forget(name);
    this.versions.forgetWhere((key) => key.startsWith(`${name}:`));
    return this.inTransaction(() => {
      const row = this.statements.delete.get(name) as Row | undefined;
      if (!row) return undefined;
      this.statements.deleteVersions.run(name);
      this.aliases.deleteAll(name);
      this.functionUrls.deleteAllNow(name);
      this.policies.deleteAllNow(name);
      return functionOf(row);
    });
  }

  async getVersion(name: string, version: number): Promise<FunctionRecord | undefined> {
    return this.versions.get(`${name}:${version}`, () => {
      const row = this.statements.getVersion.get(name, version) as Row | undefined;
      return row ? functionOf(row) : undefined;
    });
  }

  async listVersions(name: string, afterVersion: number | undefined, limit: number): Promise<FunctionRecord[]> {
    return (this.statements.listVersions.all(name, afterVersion ?? 0, limit) as Row[]).map(functionOf);
  }

  async publish(version: FunctionRecord, latest: FunctionRecord, ifRevisionId: string): Promise<boolean> {
    // A version names the same content as $LATEST did: no pin to release (the content is already referenced).
    this.latest.forget(latest.name);
    return this.inTransaction(() => {
      const { changes } = this.statements.updateIf.run(JSON.stringify(latest), latest.name, ifRevisionId);
      if (Number(changes) === 0) return false;
      this.statements.insertVersion.run(version.name, Number(version.version), JSON.stringify(version));
      return true;
    });
  }

  async deleteVersion(name: string, version: number): Promise<FunctionRecord | undefined> {
    this.versions.forget(`${name}:${version}`);
    const row = this.statements.deleteVersion.get(name, version) as Row | undefined;
    return row ? functionOf(row) : undefined;
  }

  /** Runs `work` (synchronous statements) as one transaction: all of it is committed, or none. */
  private inTransaction<T>(work: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = work();
      this.db.exec('COMMIT');
      return result;
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
  }

  retire(content: RetiredContent, environments?: EnvironmentsNow): void {
    this.collector.retire(content, environments);
  }

  /** Resolves once retired content has been removed (or found still in use and kept). */
  collected(): Promise<void> {
    return this.collector.settled();
  }

  async list(afterName: string | undefined, limit: number): Promise<FunctionRecord[]> {
    const rows = (afterName === undefined ? this.statements.listFirst.all(limit) : this.statements.listAfter.all(afterName, limit)) as Row[];
    return rows.map(functionOf);
  }

  putZip(zip: Buffer): Promise<ZipCode> {
    return this.code.putZip(zip);
  }

  durable(code: ZipCode): Promise<void> {
    return this.code.durable(code.taskRoot);
  }

  close(): void {
    this.collector.close();
    if (this.db.isOpen) this.db.close();
  }

  /** Every stored record: each function's $LATEST and each published version (all name content on disk). */
  private allFunctions(): FunctionRecord[] {
    return [...(this.statements.all.all() as Row[]), ...(this.statements.allVersions.all() as Row[])].map(functionOf);
  }

  /** The content this store's records name: functions' (and versions') code, merged /opt and layers, layer versions' trees. */
  private referenced(): Set<string> {
    const names = new Set<string>(this.layers.referenced());
    for (const fn of this.allFunctions()) {
      if (fn.code.kind === 'zip') names.add(fn.code.taskRoot);
      if (fn.layerDirectory) names.add(fn.layerDirectory);
      for (const layer of fn.layers ?? []) names.add(layer.contentDirectory);
    }
    return names;
  }

  private removeContent(directory: string): Promise<boolean> {
    if (!this.db.isOpen) return Promise.resolve(false);
    const inUse = (candidate: string) => this.db.isOpen && this.referenced().has(candidate);
    if (directory.startsWith(this.code.dir + sep)) return this.code.remove(directory, inUse);
    return this.layers.remove(directory, inUse);
  }

  /** At open: trees a crash may have left incomplete are extracted again, and content nothing names goes. */
  private async repairAndCollect(): Promise<void> {
    const wanted = this.referenced();
    const merges = new Map<string, FunctionRecord['layers'] & object>();
    for (const fn of this.allFunctions()) {
      if (fn.layerDirectory && fn.layers) merges.set(fn.layerDirectory, fn.layers);
    }
    const failed = [...(await this.code.repair(wanted)), ...(await this.layers.repair(wanted, merges))];
    if (failed.length === 0) this.marks.repaired();
    else throw new Error(`stored code could not be repaired (its zip is missing or unreadable): ${failed.join(', ')}`);
    for (const directory of [...this.code.stored(), ...(await this.layers.stored())]) {
      if (!wanted.has(directory)) await this.removeContent(directory);
    }
  }

  private unpin(record: FunctionRecord): void {
    if (record.code.kind === 'zip') this.code.unpin(record.code.taskRoot);
    if (record.layerDirectory) this.layers.unpin(record.layerDirectory);
  }
}
