// Function URL configs, kept in the functions' database: one row per function and qualifier ('' for $LATEST), found
// by the URL server through their url id. A config lives and goes with its function (SqliteFunctionStore.delete
// removes them in the same transaction) and with its alias (alias-effects.ts).
import { RecordCache } from './record-cache.ts';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { FunctionUrlRecord, FunctionUrlStore } from '../../urls/url-config.ts';

type Row = { record: string };
const configOf = (row: Row) => JSON.parse(row.record) as FunctionUrlRecord;
/** The qualifier column: $LATEST (no qualifier) is stored as ''. */
const qualifierKey = (qualifier: string | undefined) => qualifier ?? '';

export class SqliteFunctionUrlStore implements FunctionUrlStore {
  /** Configs by url id (every URL request reads one; record-cache.ts). */
  private readonly byId = new RecordCache<FunctionUrlRecord>();
  private readonly statements: Record<'byUrlId' | 'get' | 'insert' | 'update' | 'delete' | 'deleteQualifier' | 'deleteFunction' | 'list', StatementSync>;

  constructor(db: DatabaseSync) {
    db.exec(
      'CREATE TABLE IF NOT EXISTS function_urls (function TEXT NOT NULL, qualifier TEXT NOT NULL, url_id TEXT NOT NULL UNIQUE, record TEXT NOT NULL, PRIMARY KEY (function, qualifier)) WITHOUT ROWID',
    );
    this.statements = {
      byUrlId: db.prepare('SELECT record FROM function_urls WHERE url_id = ?'),
      get: db.prepare('SELECT record FROM function_urls WHERE function = ? AND qualifier = ?'),
      insert: db.prepare('INSERT OR IGNORE INTO function_urls (function, qualifier, url_id, record) VALUES (?, ?, ?, ?)'),
      update: db.prepare('UPDATE function_urls SET record = ? WHERE function = ? AND qualifier = ? AND url_id = ?'),
      delete: db.prepare('DELETE FROM function_urls WHERE function = ? AND qualifier = ? RETURNING record'),
      deleteQualifier: db.prepare('DELETE FROM function_urls WHERE function = ? AND qualifier = ?'),
      deleteFunction: db.prepare('DELETE FROM function_urls WHERE function = ?'),
      list: db.prepare('SELECT record FROM function_urls WHERE function = ? AND url_id > ? ORDER BY url_id LIMIT ?'),
    };
  }

  /** Writes are rare (URL configuration) and keyed otherwise than reads: each one forgets every cached config. */
  private forgetAll(): void {
    this.byId.forgetWhere(() => true);
  }

  async byUrlId(urlId: string): Promise<FunctionUrlRecord | undefined> {
    return this.byId.get(urlId, () => {
      const row = this.statements.byUrlId.get(urlId) as Row | undefined;
      return row ? configOf(row) : undefined;
    });
  }

  async get(functionName: string, qualifier: string | undefined): Promise<FunctionUrlRecord | undefined> {
    const row = this.statements.get.get(functionName, qualifierKey(qualifier)) as Row | undefined;
    return row ? configOf(row) : undefined;
  }

  async create(record: FunctionUrlRecord): Promise<boolean> {
    this.forgetAll();
    const { changes } = this.statements.insert.run(record.functionName, qualifierKey(record.qualifier), record.urlId, JSON.stringify(record));
    return Number(changes) > 0;
  }

  /** Replaces the config of the record's function and qualifier; false when it is gone (or was made anew, another url id). */
  async update(record: FunctionUrlRecord): Promise<boolean> {
    this.forgetAll();
    const { changes } = this.statements.update.run(JSON.stringify(record), record.functionName, qualifierKey(record.qualifier), record.urlId);
    return Number(changes) > 0;
  }

  async delete(functionName: string, qualifier: string | undefined): Promise<FunctionUrlRecord | undefined> {
    this.forgetAll();
    const row = this.statements.delete.get(functionName, qualifierKey(qualifier)) as Row | undefined;
    return row ? configOf(row) : undefined;
  }

  async list(functionName: string, afterUrlId: string | undefined, limit: number): Promise<FunctionUrlRecord[]> {
    return (this.statements.list.all(functionName, afterUrlId ?? '', limit) as Row[]).map(configOf);
  }

  async deleteAll(functionName: string, qualifier?: string): Promise<void> {
    this.deleteAllNow(functionName, qualifier);
  }

  /** deleteAll without a promise: called inside the function's own delete transaction. */
  deleteAllNow(functionName: string, qualifier?: string): void {
    this.forgetAll();
    if (qualifier === undefined) this.statements.deleteFunction.run(functionName);
    else this.statements.deleteQualifier.run(functionName, qualifier);
  }
}
