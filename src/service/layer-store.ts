// Layer versions: PublishLayerVersion's records, kept in the same SQLite database as the functions (a table of
// their own), their zips content-addressed and extracted under `<dataDir>/layers/` like function code, and the
// merged /opt folders of functions under `<dataDir>/opt/`. Version numbers count from 1 per layer name and are
// never reused, even after a delete.
import { join } from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { CodeStore } from './code-store.ts';
import type { FunctionLayer, ZipCode } from './function-record.ts';
import { lambdaTimestamp } from './function-record.ts';
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
}

export class SqliteLayerStore implements LayerStore {
  private readonly db: DatabaseSync;
  private readonly code: CodeStore;
  private readonly optDir: string;
  private readonly statements: Record<'next' | 'insert' | 'get' | 'listOne' | 'listAll' | 'delete', StatementSync>;

  /** `db` is shared with the function store; `dataDir` is where layer content and merged folders go. */
  constructor(db: DatabaseSync, dataDir: string, maxUnzippedBytes?: number) {
    this.db = db;
    this.code = new CodeStore(join(dataDir, 'layers'), maxUnzippedBytes);
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
      return record;
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
  }

  async get(layerName: string, version: number): Promise<LayerVersionRecord | undefined> {
    const row = this.statements.get.get(layerName, version) as { record: string } | undefined;
    return row ? (JSON.parse(row.record) as LayerVersionRecord) : undefined;
  }

  async listVersions(layerName?: string): Promise<LayerVersionRecord[]> {
    const rows = (layerName === undefined ? this.statements.listAll.all() : this.statements.listOne.all(layerName)) as { record: string }[];
    return rows.map((row) => JSON.parse(row.record) as LayerVersionRecord);
  }

  async delete(layerName: string, version: number): Promise<boolean> {
    return Number(this.statements.delete.run(layerName, version).changes) > 0;
  }

  mergedDirectory(layers: readonly FunctionLayer[]): Promise<string> {
    return mergeLayers(this.optDir, layers);
  }
}
