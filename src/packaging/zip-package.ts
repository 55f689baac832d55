// A deployment package (zip) from a folder, as `lambkin package` writes it and Lambda takes it:
//   - everything under the folder, node_modules included as it is, except `.git` folders, the output zip itself,
//     and what a `.lambkinignore` at the folder's top excludes (.dockerignore's syntax; the file is left out too);
//   - each entry keeps its Unix mode in the zip's external attributes (an executable `bootstrap` stays
//     executable); symbolic links stay links (their target as the entry's data, as `zip -y` does); empty folders
//     are kept, other folders are implied by their files;
//   - entries sorted by path, a fixed timestamp (1980-01-01 00:00, DOS time only, no extended timestamp): the same
//     files give the same bytes, so the same CodeSha256;
//   - Lambda's limits checked first: the entry count (lambkin serve's own limit) and the unzipped size (the
//     package's files plus its layers') before anything is written, the zipped size while writing, stopping as
//     soon as it goes over. The zip is written to a temporary name next to the output and renamed at the end, so a
//     failure leaves no partial file (and an existing output untouched).
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { lstat, mkdir, readdir, readFile, readlink, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import dockerignore, { type Ignore } from '@balena/dockerignore';
import yauzl from 'yauzl';
import yazl from 'yazl';
import {
  assertDeploymentLimits,
  checkDeploymentLimits,
  DeploymentLimitError,
  MAX_PACKAGE_ENTRIES,
  MAX_UNZIPPED_BYTES,
  MAX_ZIPPED_BYTES,
  type SizedItem,
} from './deployment-limits.ts';

/** The ignore file read at the top of a packaged folder. */
export const IGNORE_FILE = '.lambkinignore';
/** The fixed timestamp of every entry (local time, as DOS time is). */
const FIXED_MTIME = new Date(1980, 0, 1, 0, 0, 0);
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/** One entry of a package: where it goes in the zip, and where its data comes from. */
export interface PackageEntry {
  /** The path inside the zip, `/`-separated, no leading `/` (a directory's without its trailing `/`). */
  zipPath: string;
  kind: 'file' | 'symlink' | 'directory';
  /** The file on disk (files only). */
  source?: string;
  /** A symlink's target. */
  linkTarget?: string;
  /** Unzipped size: a file's length, a symlink's target length, 0 for a directory. */
  size: number;
  /** Unix mode, type bits included (0o100755 for an executable file). */
  mode: number;
}

export interface CollectOptions {
  /** Prepended to every zip path (`nodejs/node_modules/`): with its trailing `/`. */
  prefix?: string;
  /** Absolute paths left out (the output zip, when it is inside the folder). */
  excludePaths?: string[];
  /** Relative paths (from the folder's top, `/`-separated) whose subtree is left out. */
  excludeRelative?: string[];
  /** A folder inside `dir` (relative, `/`-separated) to package instead: zip paths are relative to it, while
   * `.lambkinignore` and excludeRelative still match paths from `dir`'s top. */
  from?: string;
}

/** The folder's entries, sorted by zip path. */
export async function collectEntries(dir: string, options: CollectOptions = {}): Promise<PackageEntry[]> {
  const root = resolve(dir);
  const rootStat = await lstat(root).catch(() => undefined);
  if (!rootStat?.isDirectory()) throw new Error(`not a folder: ${dir}`);
  const prefix = options.prefix ?? '';
  const excluded = new Set((options.excludePaths ?? []).map((path) => resolve(path)));
  const excludedRelative = new Set(options.excludeRelative ?? []);
  const ignorer = await readIgnoreFile(root);
  const entries: PackageEntry[] = [];

  const walk = async (absolute: string, relative: string, inZip: string): Promise<void> => {
    const children = await readdir(absolute, { withFileTypes: true });
    for (const child of children) {
      const childAbsolute = join(absolute, child.name);
      const childRelative = relative === '' ? child.name : `${relative}/${child.name}`;
      if (excluded.has(childAbsolute) || excludedRelative.has(childRelative)) continue;
      if (child.name === '.git' || childRelative === IGNORE_FILE) continue;
      if (ignorer?.ignores(childRelative)) continue;
      const stats = await lstat(childAbsolute);
      const childInZip = inZip === '' ? child.name : `${inZip}/${child.name}`;
      const zipPath = `${prefix}${childInZip}`;
      if (stats.isSymbolicLink()) {
        const target = await readlink(childAbsolute);
        entries.push({ zipPath, kind: 'symlink', linkTarget: target, size: Buffer.byteLength(target), mode: S_IFLNK | 0o777 });
      } else if (stats.isDirectory()) {
        const before = entries.length;
        await walk(childAbsolute, childRelative, childInZip);
        if (entries.length === before) entries.push({ zipPath, kind: 'directory', size: 0, mode: S_IFDIR | (stats.mode & 0o777) });
      } else if (stats.isFile()) {
        entries.push({ zipPath, kind: 'file', source: childAbsolute, size: stats.size, mode: S_IFREG | (stats.mode & 0o777) });
      }
      // sockets, FIFOs, devices: not something a zip holds
    }
  };
  const from = options.from ?? '';
  const start = from === '' ? root : join(root, ...from.split('/'));
  if (!(await lstat(start).catch(() => undefined))?.isDirectory()) throw new Error(`not a folder: ${start}`);
  await walk(start, from, '');
  return sortEntries(entries);
}

/** Sorted by zip path (byte order), so the zip does not depend on the file system's listing order. */
export function sortEntries(entries: PackageEntry[]): PackageEntry[] {
  const sorted = [...entries].sort((a, b) => (a.zipPath < b.zipPath ? -1 : a.zipPath > b.zipPath ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.zipPath === sorted[i - 1]!.zipPath) throw new Error(`two files would have the same path in the zip: ${sorted[i]!.zipPath}`);
  }
  return sorted;
}

async function readIgnoreFile(root: string): Promise<Ignore | undefined> {
  let text: string;
  try {
    text = await readFile(join(root, IGNORE_FILE), 'utf8');
  } catch {
    return undefined;
  }
  const patterns = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  // The package is CommonJS: its function is the default export at run time, and also its own `.default`.
  return dockerignore.default().add(patterns);
}

export interface PackageResult {
  /** The zip written (absolute). */
  path: string;
  zippedBytes: number;
  /** The package's own unzipped size (layers not included). */
  unzippedBytes: number;
  /** The unzipped size counted against the 250 MB: the package's and its layers'. */
  totalUnzippedBytes: number;
  /** Number of entries (files, symlinks, empty folders). */
  files: number;
  /** SHA-256 of the zip, base64: what Lambda reports as CodeSha256. */
  sha256: string;
}

export interface WriteZipOptions {
  /** Layers counted in the unzipped limit: their names and unzipped sizes. */
  layers?: SizedItem[];
  maxZippedBytes?: number;
  maxUnzippedBytes?: number;
  maxEntries?: number;
}

/**
 * Writes `entries` (sorted) as a zip at `out`, after checking the unzipped limit, and checking the zipped limit
 * as the bytes go out. On any failure the temporary file is removed and nothing is left at `out`.
 */
export async function writeZip(entries: PackageEntry[], out: string, options: WriteZipOptions = {}): Promise<PackageResult> {
  const path = resolve(out);
  const maxZippedBytes = options.maxZippedBytes ?? MAX_ZIPPED_BYTES;
  const files: SizedItem[] = entries.filter((entry) => entry.kind !== 'directory').map((entry) => ({ name: entry.zipPath, size: entry.size }));
  const unzippedBytes = entries.reduce((sum, entry) => sum + entry.size, 0);
  const layers = options.layers ?? [];
  const limits = {
    unzippedBytes,
    layers,
    files,
    entries: entries.length,
    maxEntries: options.maxEntries ?? MAX_PACKAGE_ENTRIES,
    maxZippedBytes,
    maxUnzippedBytes: options.maxUnzippedBytes ?? MAX_UNZIPPED_BYTES,
  };
  assertDeploymentLimits(limits);

  await mkdir(dirname(path), { recursive: true });
  const temporary = join(dirname(path), `.${process.pid}-${Date.now()}.lambkin-tmp.zip`);
  const zip = new yazl.ZipFile();
  const openStreams = new Set<ReadStream>();
  let zipError: Error | undefined;
  zip.on('error', (error: Error) => {
    zipError ??= error;
    (zip.outputStream as unknown as Transform).destroy(error);
  });
  for (const entry of entries) {
    const common = { mtime: FIXED_MTIME, mode: entry.mode, forceDosTimestamp: true };
    if (entry.kind === 'directory') {
      zip.addEmptyDirectory(entry.zipPath, common);
    } else if (entry.kind === 'symlink') {
      zip.addBuffer(Buffer.from(entry.linkTarget!), entry.zipPath, { ...common, compress: false });
    } else {
      const source = entry.source!;
      zip.addReadStreamLazy(entry.zipPath, { ...common, size: entry.size, compress: entry.size > 0 }, (callback) => {
        const stream = createReadStream(source);
        openStreams.add(stream);
        stream.once('close', () => openStreams.delete(stream));
        callback(null, stream);
      });
    }
  }
  zip.end();

  const hash = createHash('sha256');
  let zippedBytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      zippedBytes += chunk.length;
      if (zippedBytes > maxZippedBytes) {
        callback(new DeploymentLimitError(checkDeploymentLimits({ ...limits, zippedBytes, zippedIncomplete: true })!));
        return;
      }
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(zip.outputStream, meter, createWriteStream(temporary, { flags: 'wx' }));
    if (zipError) throw zipError;
    await rename(temporary, path);
  } catch (error) {
    for (const stream of openStreams) stream.destroy();
    await rm(temporary, { force: true });
    throw zipError && !(error instanceof DeploymentLimitError) ? zipError : error;
  }
  return {
    path,
    zippedBytes,
    unzippedBytes,
    totalUnzippedBytes: unzippedBytes + layers.reduce((sum, layer) => sum + layer.size, 0),
    files: entries.length,
    sha256: hash.digest('base64'),
  };
}

export interface PackageFunctionOptions {
  /** The function's folder (its code and node_modules). */
  dir: string;
  /** The zip to write. */
  out: string;
  /** Layer zips the function will use: their unzipped sizes count in the 250 MB. */
  layers?: string[];
  /** Other layers' unzipped sizes in bytes (layers already published, known only by size). */
  layerSizes?: number[];
  maxZippedBytes?: number;
  maxUnzippedBytes?: number;
}

/** `lambkin package`: the folder as a deployment package, checked against Lambda's limits. */
export async function packageFunction(options: PackageFunctionOptions): Promise<PackageResult> {
  const entries = await collectEntries(options.dir, { excludePaths: [options.out] });
  const layers = await layerItems(options.layers ?? [], options.layerSizes ?? []);
  return writeZip(entries, options.out, { layers, maxZippedBytes: options.maxZippedBytes, maxUnzippedBytes: options.maxUnzippedBytes });
}

/** The layers to count: zips (by their entries' unzipped sizes) and bare sizes. */
export async function layerItems(zips: string[], sizes: number[]): Promise<SizedItem[]> {
  const items: SizedItem[] = [];
  for (const zip of zips) items.push({ name: zip, size: await zipUnzippedSize(zip) });
  for (const [index, size] of sizes.entries()) items.push({ name: `#${index + 1} (--layer-size)`, size });
  return items;
}

/** The sum of a zip's entries' uncompressed sizes, from its central directory (nothing is inflated). */
export async function zipUnzippedSize(zipPath: string): Promise<number> {
  let zipfile: yauzl.ZipFile;
  try {
    zipfile = await yauzl.openPromise(zipPath, { autoClose: false, strictFileNames: false });
  } catch (error) {
    throw new Error(`cannot read the layer zip ${zipPath}: ${(error as Error).message}`);
  }
  let total = 0;
  try {
    for await (const entry of zipfile.eachEntry()) total += entry.uncompressedSize;
  } finally {
    zipfile.close();
  }
  return total;
}

/** True when the path is `dir` or inside it. */
export function isInside(dir: string, path: string): boolean {
  const root = resolve(dir);
  const target = resolve(path);
  return target === root || target.startsWith(root + sep);
}

/** Exposed for tests: the mode bits a zip entry's external attributes carry. */
export function entryType(mode: number): 'file' | 'directory' | 'symlink' | 'other' {
  const type = mode & S_IFMT;
  return type === S_IFREG ? 'file' : type === S_IFDIR ? 'directory' : type === S_IFLNK ? 'symlink' : 'other';
}
