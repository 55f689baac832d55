// Resource-based policies, kept in the functions' database: one row per function and qualifier ('' for the
// unqualified function), holding its statements and RevisionId. A policy lives and goes with its function
// (SqliteFunctionStore.delete removes them in the same transaction), its version (DeleteFunction with a version) and
// its alias (alias-effects.ts).
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { PolicyStore, StoredPolicy } from '../../iam/resource-policy.ts';

type Row = { record: string };
/** The qualifier column: the unqualified function is stored as ''. */
const qualifierKey = (qualifier: string | undefined) => qualifier ?? '';

export class SqlitePolicyStore implements PolicyStore {
  private readonly statements: Record<'get' | 'put' | 'delete' | 'deleteFunction', StatementSync>;

  constructor(db: DatabaseSync) {
    db.exec(
      'CREATE TABLE IF NOT EXISTS policies (function TEXT NOT NULL, qualifier TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (function, qualifier)) WITHOUT ROWID',
    );
    this.statements = {
      get: db.prepare('SELECT record FROM policies WHERE function = ? AND qualifier = ?'),
      put: db.prepare('INSERT OR REPLACE INTO policies (function, qualifier, record) VALUES (?, ?, ?)'),
      delete: db.prepare('DELETE FROM policies WHERE function = ? AND qualifier = ?'),
      deleteFunction: db.prepare('DELETE FROM policies WHERE function = ?'),
    };
  }

  async get(functionName: string, qualifier: string | undefined): Promise<StoredPolicy | undefined> {
    return this.read(functionName, qualifier);
  }

  async change(functionName: string, qualifier: string | undefined, change: (current: StoredPolicy | undefined) => StoredPolicy | undefined): Promise<void> {
    // No await between the read and the write: no other request's change comes in between.
    const next = change(this.read(functionName, qualifier));
    if (next && next.statements.length > 0) this.statements.put.run(functionName, qualifierKey(qualifier), JSON.stringify(next));
    else this.statements.delete.run(functionName, qualifierKey(qualifier));
  }

  async deleteAll(functionName: string, qualifier?: string): Promise<void> {
    this.deleteAllNow(functionName, qualifier);
  }

  /** deleteAll without a promise: called inside the function's own delete transaction. */
  deleteAllNow(functionName: string, qualifier?: string): void {
    if (qualifier === undefined) this.statements.deleteFunction.run(functionName);
    else this.statements.delete.run(functionName, qualifier);
  }

  private read(functionName: string, qualifier: string | undefined): StoredPolicy | undefined {
    const row = this.statements.get.get(functionName, qualifierKey(qualifier)) as Row | undefined;
    return row ? (JSON.parse(row.record) as StoredPolicy) : undefined;
  }
}
