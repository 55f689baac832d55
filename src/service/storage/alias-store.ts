// Aliases, kept in the functions' database: one row per function and alias name. An alias lives and goes with its
// function (SqliteFunctionStore.delete removes them in the same transaction).
import { RecordCache } from './record-cache.ts';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { AliasRecord } from '../function-record.ts';
import { AliasAlreadyExists } from './errors.ts';

export interface AliasStore {
  get(functionName: string, name: string): Promise<AliasRecord | undefined>;
  /** Adds a new alias; AliasAlreadyExists when the function has one of that name. */
  create(alias: AliasRecord): Promise<void>;
  /**
   * Replaces an existing alias; false when it no longer exists, or (with `ifRevisionId`) when its stored RevisionId
   * is another (compare and set, in one statement).
   */
  update(alias: AliasRecord, ifRevisionId?: string): Promise<boolean>;
  /** The deleted alias; undefined when there was none. */
  delete(functionName: string, name: string): Promise<AliasRecord | undefined>;
  /** The function's aliases ordered by name, starting after `afterName`. */
  list(functionName: string, afterName: string | undefined, limit: number): Promise<AliasRecord[]>;
}

type Row = { record: string };
const aliasOf = (row: Row) => JSON.parse(row.record) as AliasRecord;

export class SqliteAliasStore implements AliasStore {
  private readonly statements: Record<'get' | 'insert' | 'update' | 'updateIf' | 'delete' | 'deleteAll' | 'list', StatementSync>;
  /** Aliases by `function:name` (an alias invoke reads one): every write below forgets what it writes. */
  private readonly cache = new RecordCache<AliasRecord>();

  constructor(db: DatabaseSync) {
    db.exec(
      'CREATE TABLE IF NOT EXISTS aliases (function TEXT NOT NULL, name TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (function, name)) WITHOUT ROWID',
    );
    this.statements = {
      get: db.prepare('SELECT record FROM aliases WHERE function = ? AND name = ?'),
      insert: db.prepare('INSERT OR IGNORE INTO aliases (function, name, record) VALUES (?, ?, ?)'),
      update: db.prepare('UPDATE aliases SET record = ? WHERE function = ? AND name = ?'),
      updateIf: db.prepare("UPDATE aliases SET record = ? WHERE function = ? AND name = ? AND json_extract(record, '$.revisionId') = ?"),
      delete: db.prepare('DELETE FROM aliases WHERE function = ? AND name = ? RETURNING record'),
      deleteAll: db.prepare('DELETE FROM aliases WHERE function = ?'),
      list: db.prepare('SELECT record FROM aliases WHERE function = ? AND name > ? ORDER BY name LIMIT ?'),
    };
  }

  async get(functionName: string, name: string): Promise<AliasRecord | undefined> {
    return this.cache.get(`${functionName}:${name}`, () => {
      const row = this.statements.get.get(functionName, name) as Row | undefined;
      return row ? aliasOf(row) : undefined;
    });
  }

  async create(alias: AliasRecord): Promise<void> {
    this.cache.forget(`${alias.functionName}:${alias.name}`);
    const { changes } = this.statements.insert.run(alias.functionName, alias.name, JSON.stringify(alias));
    if (Number(changes) === 0) throw new AliasAlreadyExists(alias.functionName, alias.name);
  }

  async update(alias: AliasRecord, ifRevisionId?: string): Promise<boolean> {
    this.cache.forget(`${alias.functionName}:${alias.name}`);
    const record = JSON.stringify(alias);
    const { changes } =
      ifRevisionId === undefined
        ? this.statements.update.run(record, alias.functionName, alias.name)
        : this.statements.updateIf.run(record, alias.functionName, alias.name, ifRevisionId);
    return Number(changes) > 0;
  }

  async delete(functionName: string, name: string): Promise<AliasRecord | undefined> {
    this.cache.forget(`${functionName}:${name}`);
    const row = this.statements.delete.get(functionName, name) as Row | undefined;
    return row ? aliasOf(row) : undefined;
  }

  async list(functionName: string, afterName: string | undefined, limit: number): Promise<AliasRecord[]> {
    return (this.statements.list.all(functionName, afterName ?? '', limit) as Row[]).map(aliasOf);
  }

  /** Removes all of a function's aliases: called inside the function's own delete transaction. */
  deleteAll(functionName: string): void {
    this.cache.forgetWhere((key) => key.startsWith(`${functionName}:`));
    this.statements.deleteAll.run(functionName);
  }
}
