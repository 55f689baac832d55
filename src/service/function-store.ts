// The function registry. `FunctionStore` is what the service needs; `SqliteFunctionStore` keeps it in
// `<dataDir>/lambkin.db` (Node's built-in node:sqlite) with code under `<dataDir>/code/`, so functions
// survive a restart. A server-grade store can implement the same interface later.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { CodeStore } from './code-store.ts';
import type { FunctionRecord, ZipCode } from './function-record.ts';
import { resourceConflict } from './lambda-error.ts';
import { SqliteLayerStore, type LayerStore } from './layer-store.ts';

export interface FunctionStore {
  get(name: string): Promise<FunctionRecord | undefined>;
  /** Adds a new function; ResourceConflictException when the name is taken. */
  create(record: FunctionRecord): Promise<void>;
  /** Replaces an existing function's record; false when it no longer exists. */
  update(record: FunctionRecord): Promise<boolean>;
  /** false when there was no such function. */
  delete(name: string): Promise<boolean>;
  /** Functions ordered by name, starting after `afterName`. */
  list(afterName: string | undefined, limit: number): Promise<FunctionRecord[]>;
  /** Stores (and extracts) a zip package, content-addressed. */
  putZip(zip: Buffer): Promise<ZipCode>;
  /** Layer versions (PublishLayerVersion and a function's Layers); a store without them refuses layers. */
  readonly layers?: LayerStore;
  close(): void;
}

export class SqliteFunctionStore implements FunctionStore {
  readonly dataDir: string;
  private readonly db: DatabaseSync;
  private readonly code: CodeStore;
  readonly layers: SqliteLayerStore;
  private readonly statements: Record<'get' | 'insert' | 'update' | 'delete' | 'listFirst' | 'listAfter', StatementSync>;

  constructor(dataDir: string, options: { maxUnzippedBytes?: number } = {}) {
    this.dataDir = dataDir;
    mkdirSync(dataDir, { recursive: true });
    this.db = new DatabaseSync(join(dataDir, 'lambkin.db'));
    // WAL: readers never wait on the writer, and a crash mid-write leaves the last committed state.
    this.db.exec('PRAGMA journal_mode = WAL');
    this.db.exec('CREATE TABLE IF NOT EXISTS functions (name TEXT PRIMARY KEY, record TEXT NOT NULL) WITHOUT ROWID');
    this.statements = {
      get: this.db.prepare('SELECT record FROM functions WHERE name = ?'),
      insert: this.db.prepare('INSERT OR IGNORE INTO functions (name, record) VALUES (?, ?)'),
      update: this.db.prepare('UPDATE functions SET record = ? WHERE name = ?'),
      delete: this.db.prepare('DELETE FROM functions WHERE name = ?'),
      listFirst: this.db.prepare('SELECT record FROM functions ORDER BY name LIMIT ?'),
      listAfter: this.db.prepare('SELECT record FROM functions WHERE name > ? ORDER BY name LIMIT ?'),
    };
    this.code = new CodeStore(join(dataDir, 'code'), options.maxUnzippedBytes);
    this.layers = new SqliteLayerStore(this.db, dataDir, options.maxUnzippedBytes);
  }

  async get(name: string): Promise<FunctionRecord | undefined> {
    const row = this.statements.get.get(name) as { record: string } | undefined;
    return row ? (JSON.parse(row.record) as FunctionRecord) : undefined;
  }

  async create(record: FunctionRecord): Promise<void> {
    const { changes } = this.statements.insert.run(record.name, JSON.stringify(record));
    if (Number(changes) === 0) throw resourceConflict(`Function already exist: ${record.name}`);
  }

  async update(record: FunctionRecord): Promise<boolean> {
    return Number(this.statements.update.run(JSON.stringify(record), record.name).changes) > 0;
  }

  async delete(name: string): Promise<boolean> {
    return Number(this.statements.delete.run(name).changes) > 0;
  }

  async list(afterName: string | undefined, limit: number): Promise<FunctionRecord[]> {
    const rows = (
      afterName === undefined ? this.statements.listFirst.all(limit) : this.statements.listAfter.all(afterName, limit)
    ) as { record: string }[];
    return rows.map((row) => JSON.parse(row.record) as FunctionRecord);
  }

  putZip(zip: Buffer): Promise<ZipCode> {
    return this.code.putZip(zip);
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}
