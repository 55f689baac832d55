// Layer versions: PublishLayerVersion's records, kept in the same SQLite database as the functions (a table of
// their own), their zips content-addressed and extracted under `<dataDir>/layers/` like function code, and the
// merged /opt folders of functions under `<dataDir>/opt/`. Version numbers count from 1 per layer name and are
// never reused, even after a delete.
import { randomUUID } from 'node:crypto';
import { readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { CodeStore, CONTENT_NAME, type DurableMarks, removeCrashLeftovers, syncTree } from './code-store.ts';
import { exists } from './path-exists.ts';
import type { FunctionLayer, ZipCode } from '../function-record.ts';
import { lambdaTimestamp } from '../function-record.ts';
import { mergeLayers } from './layer-merge.ts';

export interface LayerVersionRecord {
  layerName: string;
  version: number;
  /** `arn:aws:lambda:REGION:ACCOUNT:layer:NAME` */
  layerArn: string;
  /** `<layerArn>:<version>` */
  layerVersionArn: string;
  description: string;
  /** Lambda's timestamp format. */
  createdDate: string;
  compatibleRuntimes?: string[];
  compatibleArchitectures?: string[];
  licenseInfo?: string;
  code: ZipCode;
}

/** A row of the layer_versions table, as stored: the record's JSON. */
type Row = { record: string };
const layerVersionOf = (row: Row) => JSON.parse(row.record) as LayerVersionRecord;

export type NewLayerVersion = Omit<LayerVersionRecord, 'version' | 'layerVersionArn' | 'createdDate'>;

export interface LayerStore {
  /** Lambda's limit on a function's code and its layers, unzipped together. */
  readonly maxUnzippedBytes: number;
  /** Stores (and extracts) a layer zip, content-addressed. */
  putZip(zip: Buffer): Promise<ZipCode>;
  /** Records the next version of the layer (1 for a new name). */
  publish(layer: NewLayerVersion): Promise<LayerVersionRecord>;
  get(layerName: string, version: number): Promise<LayerVersionRecord | undefined>;
  /** The versions of one layer (or of all layers), by name, newest version first. */
  listVersions(layerName?: string): Promise<LayerVersionRecord[]>;
  /** false when there was no such version. The content stays for the functions that use it. */
  delete(layerName: string, version: number): Promise<boolean>;
  /** One folder holding `layers` unpacked in order (a later layer's file wins): a function's /opt. */
  mergedDirectory(layers: readonly FunctionLayer[]): Promise<string>;
  /** The record naming this content (a tree or a merged folder) is written: it may be collected from now on. */
  unpin?(directory: string): void;
}

export class SqliteLayerStore implements LayerStore {
  private readonly db: DatabaseSync;
  private readonly code: CodeStore;
  private readonly marks: DurableMarks;
  readonly optDir: string;
  /** Merged folders handed out whose function records may not be written yet. */
  private readonly pinnedMerges = new Map<string, number>();
  private readonly statements: Record<'next' | 'insert' | 'get' | 'listOne' | 'listAll' | 'delete' | 'all', StatementSync>;

  /** `db` is shared with the function store; `dataDir` is where layer content and merged folders go. */
  /** `marks` says which stored folders are known to be on disk (shared with the function store). */
  constructor(db: DatabaseSync, marks: DurableMarks, dataDir: string, maxUnzippedBytes?: number, maxEntries?: number) {
    this.db = db;
    this.marks = marks;
    this.code = new CodeStore(join(dataDir, 'layers'), this.marks, maxUnzippedBytes, maxEntries);
    this.optDir = join(dataDir, 'opt');
    // `layers` keeps each name's last number, so a deleted version's number is never handed out again.
    db.exec('CREATE TABLE IF NOT EXISTS layers (name TEXT PRIMARY KEY, latest INTEGER NOT NULL) WITHOUT ROWID');
    db.exec(
      'CREATE TABLE IF NOT EXISTS layer_versions (name TEXT NOT NULL, version INTEGER NOT NULL, record TEXT NOT NULL, PRIMARY KEY (name, version)) WITHOUT ROWID',
    );
    this.statements = {
      next: db.prepare('INSERT INTO layers (name, latest) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET latest = latest + 1 RETURNING latest'),
      insert: db.prepare('INSERT INTO layer_versions (name, version, record) VALUES (?, ?, ?)'),
      get: db.prepare('SELECT record FROM layer_versions WHERE name = ? AND version = ?'),
      listOne: db.prepare('SELECT record FROM layer_versions WHERE name = ? ORDER BY version DESC'),
      listAll: db.prepare('SELECT record FROM layer_versions ORDER BY name, version DESC'),
      delete: db.prepare('DELETE FROM layer_versions WHERE name = ? AND version = ?'),
      all: db.prepare('SELECT record FROM layer_versions'),
    };
  }

  get maxUnzippedBytes(): number {
    return this.code.maxUnzippedBytes;
  }

  putZip(zip: Buffer): Promise<ZipCode> {
    return this.code.putZip(zip);
  }

  async publish(layer: NewLayerVersion): Promise<LayerVersionRecord> {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const { latest } = this.statements.next.get(layer.layerName) as { latest: number };
      const record: LayerVersionRecord = {
        ...layer,
        version: latest,
        layerVersionArn: `${layer.layerArn}:${latest}`,
        createdDate: lambdaTimestamp(),
      };
      this.statements.insert.run(layer.layerName, latest, JSON.stringify(record));
      this.db.exec('COMMIT');
      this.code.unpin(record.code.taskRoot);
      return record;
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
  }

  async get(layerName: string, version: number): Promise<LayerVersionRecord | undefined> {
    const row = this.statements.get.get(layerName, version) as Row | undefined;
    return row ? layerVersionOf(row) : undefined;
  }

  async listVersions(layerName?: string): Promise<LayerVersionRecord[]> {
    const rows = (layerName === undefined ? this.statements.listAll.all() : this.statements.listOne.all(layerName)) as Row[];
    return rows.map(layerVersionOf);
  }

  async delete(layerName: string, version: number): Promise<boolean> {
    return Number(this.statements.delete.run(layerName, version).changes) > 0;
  }

  async mergedDirectory(layers: readonly FunctionLayer[]): Promise<string> {
    const merged = await mergeLayers(this.optDir, layers);
    this.pinnedMerges.set(merged, (this.pinnedMerges.get(merged) ?? 0) + 1);
    void this.markDurable(merged);
    return merged;
  }

  unpin(directory: string): void {
    const count = (this.pinnedMerges.get(directory) ?? 1) - 1;
    if (count <= 0) this.pinnedMerges.delete(directory);
    else this.pinnedMerges.set(directory, count);
  }

  /** The layer trees the stored layer versions name. */
  referenced(): string[] {
    return (this.statements.all.all() as Row[]).map((row) => layerVersionOf(row).code.taskRoot);
  }

  /** Layer trees and merged folders kept here (their paths). */
  async stored(): Promise<string[]> {
    const merged = await readdir(this.optDir).catch(() => [] as string[]);
    return [...this.code.stored(), ...merged.filter((name) => CONTENT_NAME.test(name)).map((name) => join(this.optDir, name))];
  }

  /** Removes a layer tree or a merged folder unless `inUse` (or a pin) keeps it. */
  async remove(directory: string, inUse: (directory: string) => boolean): Promise<boolean> {
    if (directory.startsWith(`${this.code.dir}/`)) return this.code.remove(directory, inUse);
    if (!directory.startsWith(`${this.optDir}/`) || this.pinnedMerges.has(directory) || inUse(directory)) return false;
    this.marks.delete(directory);
    const trash = join(this.optDir, `.removing-${randomUUID()}`);
    if (
      !(await rename(directory, trash).then(
        () => true,
        () => false,
      ))
    )
      return false;
    await rm(trash, { recursive: true, force: true });
    return true;
  }

  /**
   * At open: layer trees without their durable mark are extracted again (repair), then merged folders without
   * theirs are merged again from `merges` (the functions' layer lists), and crash leftovers go.
   */
  async repair(wantedTrees: ReadonlySet<string>, merges: ReadonlyMap<string, readonly FunctionLayer[]>): Promise<string[]> {
    const failed = await this.code.repair(wantedTrees);
    await removeCrashLeftovers(this.optDir);
    for (const [directory, layers] of merges) {
      if (!this.marks.open) break;
      if (this.marks.has(directory)) continue;
      if (!this.marks.rebooted && (await exists(directory))) {
        void this.markDurable(directory);
        continue;
      }
      try {
        const old = join(this.optDir, `.removing-${randomUUID()}`);
        await rename(directory, old).catch(() => {});
        await mergeLayers(this.optDir, layers);
        await rm(old, { recursive: true, force: true });
        await this.markDurable(directory);
      } catch {
        failed.push(directory);
      }
    }
    return failed;
  }

  /** As for extracted trees (code-store.ts): flushed in the background, then marked. */
  private async markDurable(directory: string): Promise<void> {
    try {
      if (this.marks.has(directory)) return;
      await syncTree(directory, () => this.marks.open);
      if (await exists(directory)) this.marks.add(directory);
    } catch {
      // Without its mark the folder is merged again at the next start.
    }
  }
}
