// Deployment packages, content-addressed: `<dir>/<sha256 hex>.zip` and its extraction `<dir>/<sha256 hex>/`.
// The same zip uploaded for many functions (or again) is stored and unpacked once; a container mounts the
// extracted folder read-only as /var/task.
//
// Durability: what putZip returns survives a machine crash. The zip is the durable copy (written, fsynced, renamed,
// its folder fsynced: two fsyncs per upload); the extracted tree is not synced file by file (20,000 fsyncs would
// cost seconds per upload) but marked: a row in the database (DurableMarks) is written only after the tree has been
// renamed into place and then flushed in the background (`markDurable`). A tree without its mark when the store
// opens after the machine restarted (a crash may have lost what was not flushed) is extracted again from its zip by
// `repair`; after a restart of lambkin alone the page cache still holds it whole, and it is only flushed and marked.
// Marks live in the database, not beside the trees: once the store is closed nothing in the background writes to
// the data dir.
import { createHash, randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readdirSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { uptime } from 'node:os';
import { join } from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { MAX_PACKAGE_ENTRIES, MAX_UNZIPPED_BYTES } from '../../limits/package-limits.ts';
import type { ZipCode } from '../function-record.ts';
import { extractZip, inspectZip, type ZipLimits } from './zip-extract.ts';
import { exists } from './path-exists.ts';

/** What stored content is named: the SHA-256 (hex) of its zip, or of a merged folder's layer list. */
export const CONTENT_NAME = /^[0-9a-f]{64}$/;
const STORED = /^([0-9a-f]{64})(\.zip)?$/;

/** The folders known to be whole on disk (flushed after they were made), in the store's database. */
export class DurableMarks {
  private readonly db: DatabaseSync;
  private readonly statements: Record<'has' | 'add' | 'delete' | 'boot' | 'setBoot', StatementSync>;
  /** The machine restarted since the store was last repaired: unmarked trees may have lost unflushed writes. */
  readonly rebooted: boolean;

  constructor(db: DatabaseSync) {
    this.db = db;
    db.exec('CREATE TABLE IF NOT EXISTS durable_content (path TEXT PRIMARY KEY) WITHOUT ROWID');
    db.exec('CREATE TABLE IF NOT EXISTS durable_boot (id INTEGER PRIMARY KEY CHECK (id = 1), boot TEXT NOT NULL)');
    this.statements = {
      has: db.prepare('SELECT 1 FROM durable_content WHERE path = ?'),
      add: db.prepare('INSERT OR IGNORE INTO durable_content (path) VALUES (?)'),
      delete: db.prepare('DELETE FROM durable_content WHERE path = ?'),
      boot: db.prepare('SELECT boot FROM durable_boot WHERE id = 1'),
      setBoot: db.prepare('INSERT INTO durable_boot (id, boot) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET boot = excluded.boot'),
    };
    this.rebooted = (this.statements.boot.get() as { boot: string } | undefined)?.boot !== bootId();
  }

  /** Unmarked trees are whole again (repaired): until the next machine restart, a lambkin restart trusts them. */
  repaired(): void {
    if (this.db.isOpen) this.statements.setBoot.run(bootId());
  }

  has(path: string): boolean {
    return this.db.isOpen && this.statements.has.get(path) !== undefined;
  }

  /** Nothing once the store is closed: the tree is checked again at the next open. */
  add(path: string): void {
    if (this.db.isOpen) this.statements.add.run(path);
  }

  delete(path: string): void {
    if (this.db.isOpen) this.statements.delete.run(path);
  }

  get open(): boolean {
    return this.db.isOpen;
  }
}

export class CodeStore {
  readonly dir: string;
  readonly maxUnzippedBytes: number;
  readonly maxEntries: number;
  private readonly marks: DurableMarks;
  /** Trees put since the store opened whose records may not be written yet: never collected meanwhile. */
  private readonly pinned = new Map<string, number>();
  /** One operation at a time per content (put, repair, removal): no removal under a put of the same zip. */
  private readonly locks = new Map<string, Promise<unknown>>();
  /** Trees this process extracted (and has not removed since): whole, whether or not marked yet. */
  private readonly extracted = new Set<string>();
  /** Removals per content: a mark is written only for the tree whose flush it follows. */
  private readonly removals = new Map<string, number>();
  /** Flushes under way, per content: what durable() waits for. */
  private readonly flushes = new Map<string, Promise<void>>();

  constructor(dir: string, marks: DurableMarks, maxUnzippedBytes = MAX_UNZIPPED_BYTES, maxEntries = MAX_PACKAGE_ENTRIES) {
    this.dir = dir;
    this.marks = marks;
    this.maxUnzippedBytes = maxUnzippedBytes;
    this.maxEntries = maxEntries;
  }

  /** Stores and extracts `zip` (once per content); a bad package, or one over a limit, is refused (errors.ts). */
  async putZip(zip: Buffer): Promise<ZipCode> {
    const digest = createHash('sha256').update(zip).digest();
    const hex = digest.toString('hex');
    const zipPath = join(this.dir, `${hex}.zip`);
    const taskRoot = join(this.dir, hex);
    await mkdir(this.dir, { recursive: true });
    this.pin(taskRoot);
    try {
      const unzipped = await this.locked(hex, async () => {
        const whole = this.extracted.has(hex) || this.marks.has(taskRoot);
        if (whole && (await exists(taskRoot))) return (await inspectZip(zip, this.limits())).unzippedBytes;
        // Checked (entry count, sizes, every entry) before the zip is kept: a refused package leaves nothing.
        const size = await this.extract(zip, hex);
        await writeDurably(zipPath, zip);
        return size;
      });
      void this.flush(hex);
      return { kind: 'zip', sha256: digest.toString('base64'), size: zip.length, unzippedSize: unzipped, zipPath, taskRoot };
    } catch (error) {
      this.unpin(taskRoot);
      throw error;
    }
  }

  /**
   * Resolves once the tree at `taskRoot` is on disk to stay (flushed and marked), or its flush gave up (then the
   * next start checks it again). A function becomes Active only then (function-lifecycle.ts).
   */
  durable(taskRoot: string): Promise<void> {
    return this.flushes.get(taskRoot.slice(this.dir.length + 1)) ?? Promise.resolve();
  }

  /** The record naming `taskRoot` is written (or will not be): it is collected like any other from now on. */
  unpin(taskRoot: string): void {
    const count = (this.pinned.get(taskRoot) ?? 1) - 1;
    if (count <= 0) this.pinned.delete(taskRoot);
    else this.pinned.set(taskRoot, count);
  }

  /** The extracted trees and zips stored here (their task roots). */
  stored(): string[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const hexes = new Set(names.map((name) => STORED.exec(name)?.[1]).filter((hex) => hex !== undefined));
    return [...hexes].map((hex) => join(this.dir, hex));
  }

  /**
   * Removes a tree and its zip unless it is pinned or `inUse` says it is still wanted (asked under the content's
   * lock, so a put of the same zip either comes first and pins it, or comes after and extracts it again).
   * Resolves whether it was removed.
   */
  async remove(taskRoot: string, inUse: (taskRoot: string) => boolean): Promise<boolean> {
    const hex = taskRoot.slice(this.dir.length + 1);
    if (!CONTENT_NAME.test(hex) || join(this.dir, hex) !== taskRoot) return false;
    const trash = await this.locked(hex, async () => {
      if (this.pinned.has(taskRoot) || inUse(taskRoot)) return undefined;
      this.extracted.delete(hex);
      this.removals.set(hex, (this.removals.get(hex) ?? 0) + 1);
      // The mark goes first: a crash part-way leaves a tree without one, which the next start re-extracts or
      // collects, never a marked tree with files missing.
      this.marks.delete(taskRoot);
      const moved = join(this.dir, `.removing-${hex}-${randomUUID()}`);
      const hadTree = await rename(taskRoot, moved).then(
        () => true,
        () => false,
      );
      await rm(join(this.dir, `${hex}.zip`), { force: true });
      return hadTree ? moved : '';
    });
    if (trash === undefined) return false;
    // Out of the lock: a large tree takes seconds to delete, and nothing can reach it under its new name.
    if (trash) await rm(trash, { recursive: true, force: true });
    return true;
  }

  /**
   * At open: leftovers of a crash (staging folders, partial zips, trees being removed) go, and every tree in
   * `wanted` without its durable mark is extracted again from its zip. Resolves the trees it could not repair
   * (their zip is missing or unreadable).
   */
  async repair(wanted: ReadonlySet<string>): Promise<string[]> {
    if (!(await removeCrashLeftovers(this.dir))) return [];
    const failed: string[] = [];
    for (const taskRoot of wanted) {
      if (!this.marks.open) break;
      const hex = taskRoot.slice(this.dir.length + 1);
      if (!CONTENT_NAME.test(hex) || !taskRoot.startsWith(this.dir) || this.marks.has(taskRoot)) continue;
      // Same boot: renamed into place whole, and still in the page cache (or on disk): flush and mark it.
      if (!this.marks.rebooted && (await exists(taskRoot))) {
        this.extracted.add(hex);
        void this.flush(hex);
        continue;
      }
      try {
        await this.locked(hex, async () => {
          const zip = await readFile(join(this.dir, `${hex}.zip`));
          // Out of the way in one step: a crash now leaves no half-removed tree under the real name.
          const old = join(this.dir, `.removing-${hex}-${randomUUID()}`);
          await rename(taskRoot, old).catch(() => {});
          await this.extract(zip, hex);
          await rm(old, { recursive: true, force: true });
        });
        await this.flush(hex);
      } catch {
        failed.push(taskRoot);
      }
    }
    return failed;
  }

  /** Extracts beside the final place and renames: a crash or a concurrent upload never leaves half a tree there. */
  private async extract(zip: Buffer, hex: string): Promise<number> {
    const taskRoot = join(this.dir, hex);
    const staging = join(this.dir, `.staging-${hex}-${randomUUID()}`);
    try {
      const size = await extractZip(zip, staging, this.limits());
      await rename(staging, taskRoot).catch(async (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
      });
      this.extracted.add(hex);
      return size;
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  /** Starts a flush of a tree; durable() waits for the latest. */
  private flush(hex: string): Promise<void> {
    const flushed = this.markDurable(hex).finally(() => {
      if (this.flushes.get(hex) === flushed) this.flushes.delete(hex);
    });
    this.flushes.set(hex, flushed);
    return flushed;
  }

  /**
   * Flushes a tree to disk, then writes its mark (durably). In the background, one file at a time: the upload's
   * answer does not wait for it, and it never holds more than one of libuv's threads.
   */
  private async markDurable(hex: string): Promise<void> {
    const taskRoot = join(this.dir, hex);
    const removals = this.removals.get(hex) ?? 0;
    try {
      if (this.marks.has(taskRoot)) return;
      // Not under the lock: a second upload of the same zip does not wait for the flush.
      await syncTree(taskRoot, () => this.marks.open);
      await this.locked(hex, async () => {
        if ((this.removals.get(hex) ?? 0) === removals && (await exists(taskRoot))) this.marks.add(taskRoot);
      });
    } catch {
      // Best effort: without its mark the tree is extracted again at the next start.
    }
  }

  private limits(): ZipLimits {
    return { maxUnzippedBytes: this.maxUnzippedBytes, maxEntries: this.maxEntries };
  }

  private pin(taskRoot: string): void {
    this.pinned.set(taskRoot, (this.pinned.get(taskRoot) ?? 0) + 1);
  }

  private async locked<T>(key: string, run: () => Promise<T>): Promise<T> {
    const before = this.locks.get(key) ?? Promise.resolve();
    const result = before.then(run, run);
    const settled = result.catch(() => {});
    this.locks.set(key, settled);
    void settled.then(() => {
      if (this.locks.get(key) === settled) this.locks.delete(key);
    });
    return result;
  }
}

/**
 * What a crash may leave in `dir` (staging folders, trees being removed, partial zips) goes. Resolves false when
 * `dir` cannot be read (it does not exist yet).
 */
export async function removeCrashLeftovers(dir: string): Promise<boolean> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return false;
  }
  for (const name of names) {
    if (name.startsWith('.staging-') || name.startsWith('.removing-') || name.endsWith('.partial')) {
      await rm(join(dir, name), { recursive: true, force: true });
    }
  }
  return true;
}

/** Which boot of the machine this is: Linux names each; elsewhere the boot time, to the minute. */
function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return `booted-${Math.round((Date.now() / 1000 - uptime()) / 60)}`;
  }
}

/** Writes `data` at `path` so that it is there after a crash: a temporary name, fsync, rename, fsync of the folder. */
export async function writeDurably(path: string, data: Buffer): Promise<void> {
  const partial = `${path}.${randomUUID()}.partial`;
  await writeFile(partial, data, { flush: true });
  await rename(partial, path);
  syncDirectory(join(path, '..'));
}

/** fsync of a folder: its entries (a rename into it, a new file) are on disk. */
export function syncDirectory(directory: string): void {
  const fd = openSync(directory, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsync of every file and folder under `root` (links need none: they live in their folder's entries). */
export async function syncTree(root: string, going: () => boolean = () => true): Promise<void> {
  const entries = await readdir(root, { withFileTypes: true, recursive: true });
  const files = entries.filter((entry) => entry.isFile());
  const folders = entries.filter((entry) => entry.isDirectory());
  // Files first, then the folders holding their names, the root last.
  for (const path of [...files, ...folders].map((entry) => join(entry.parentPath, entry.name)).concat(root)) {
    if (!going()) throw new Error('the store was closed');
    const handle = await open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}
