// Unpacks a deployment package the way Lambda accepts one: nothing may land outside the target folder
// (zip-slip), the whole package may not unzip to more than its limit (Lambda's 250 MB), and it may hold no more
// entries than its limit (MAX_PACKAGE_ENTRIES; both from src/limits/package-limits.ts, by way of the code store). The count comes from the end-of-central-directory record and the sizes from the
// central directory, all checked before anything is written; each entry's real size and CRC are verified as it is
// unpacked.
//
// A package is mostly many small files (a node_modules tree): each is inflated and written synchronously, in
// slices of the event loop's time, with no stream or zlib context per entry and each folder made once. Measured
// back to back on a loaded 2-core machine, 99,999 small files: through a read and a write stream per entry 55 s
// and +406 MB of RSS (a zlib context per entry waits for the collector); this way 4.5-21 s (the disk was shared)
// and +41-50 MB. Large entries still stream.
import { chmodSync, closeSync, createWriteStream, mkdirSync, openSync, writeSync } from 'node:fs';
import { lstat, mkdir, realpath, stat, symlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { crc32, inflateRawSync } from 'node:zlib';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { InvalidZip, StorageRefusal, TooManyZipEntries, UnzippedSizeTooLarge } from './errors.ts';

/** The limits a zip's directory is checked against (the code store's: src/limits/package-limits.ts by default). */
export interface ZipLimits {
  maxUnzippedBytes: number;
  maxEntries: number;
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
/** Entries up to this size are inflated in memory and written in one call; larger ones stream. */
const SMALL_ENTRY_BYTES = 1_048_576;
/** How long the synchronous writing may hold the event loop before it lets other requests run. */
const SLICE_MS = 10;

const unreadable = () => new InvalidZip();
const corrupt = (error: unknown) => new InvalidZip(String((error as Error).message));

/** An entry as the extraction needs it: a few numbers, not yauzl's whole record (100,000 of those weigh 137 MB). */
interface PackageEntry {
  fileName: string;
  mode: number;
  uncompressedSize: number;
  compressedSize: number;
  compressionMethod: number;
  crc32: number;
  localHeaderOffset: number;
  encrypted: boolean;
  /** Kept for the entries that stream (large files, links). */
  entry?: Entry;
}

/** Opens a zip held in memory; autoClose off: the entries are listed first and read afterwards, the caller closes. */
async function openZip(zip: Buffer, maxEntries: number): Promise<ZipFile> {
  let zipfile: ZipFile;
  try {
    zipfile = await yauzl.fromBufferPromise(zip, { autoClose: false, validateEntrySizes: true, strictFileNames: false });
  } catch {
    throw unreadable();
  }
  // The end-of-central-directory record says how many entries follow: refused before one is read.
  if (zipfile.entryCount > maxEntries) {
    zipfile.close();
    throw new TooManyZipEntries(zipfile.entryCount, maxEntries);
  }
  return zipfile;
}

/** The number of entries and the total uncompressed size `zip`'s directory declares; refuses what breaks the limits. */
export async function inspectZip(zip: Buffer, limits: ZipLimits): Promise<{ entryCount: number; unzippedBytes: number }> {
  const zipfile = await openZip(zip, limits.maxEntries);
  try {
    const { total } = await listEntries(zipfile, limits.maxUnzippedBytes);
    return { entryCount: zipfile.entryCount, unzippedBytes: total };
  } finally {
    zipfile.close();
  }
}

/**
 * Extracts `zip` into `into` (which must not exist yet); resolves the unzipped size. Throws InvalidZip for a bad
 * package, TooManyZipEntries or UnzippedSizeTooLarge for one over a limit (errors.ts).
 */
export async function extractZip(zip: Buffer, into: string, limits: ZipLimits): Promise<number> {
  const zipfile = await openZip(zip, limits.maxEntries);
  try {
    const { entries, total } = await listEntries(zipfile, limits.maxUnzippedBytes);
    await mkdir(into, { recursive: true });
    const root = await realpath(into);
    // The umask, from the folder just made with 0o777: a file's mode is set again only when it took bits away.
    const umask = 0o777 & ~(await stat(root)).mode;
    const made = new Set<string>([root]);
    try {
      let sliceStart = performance.now();
      // Links last: while files are written no link exists yet, so no write can be steered out of the package.
      for (const entry of entries) {
        if (isSymlink(entry)) continue;
        if (entry.uncompressedSize > SMALL_ENTRY_BYTES) await streamFile(zipfile, entry, root, made, umask);
        else writeSmallEntry(zip, entry, root, made, umask);
        if (performance.now() - sliceStart > SLICE_MS) {
          await nextTurn();
          sliceStart = performance.now();
        }
      }
      for (const entry of entries) if (isSymlink(entry)) await extractSymlink(zip, entry, root);
    } catch (error) {
      // A package at odds with itself (a file where a folder must go, say) is the uploader's fault, not ours.
      if (error instanceof StorageRefusal) throw error;
      throw corrupt(error);
    }
    return total;
  } finally {
    zipfile.close();
  }
}

async function listEntries(zipfile: ZipFile, maxUnzippedBytes: number): Promise<{ entries: PackageEntry[]; total: number }> {
  const entries: PackageEntry[] = [];
  let total = 0;
  try {
    for await (const entry of zipfile.eachEntry()) {
      total += entry.uncompressedSize;
      const mode = entry.externalFileAttributes >>> 16;
      const streams = entry.uncompressedSize > SMALL_ENTRY_BYTES || (mode & S_IFMT) === S_IFLNK;
      entries.push({
        fileName: entry.fileName,
        mode,
        uncompressedSize: entry.uncompressedSize,
        compressedSize: entry.compressedSize,
        compressionMethod: entry.compressionMethod,
        crc32: entry.crc32,
        localHeaderOffset: entry.relativeOffsetOfLocalHeader,
        encrypted: entry.isEncrypted(),
        ...(streams ? { entry } : {}),
      });
    }
  } catch (error) {
    // yauzl itself refuses absolute paths and `..` components: a zip-slip attempt lands here.
    throw corrupt(error);
  }
  if (total > maxUnzippedBytes) throw new UnzippedSizeTooLarge(total, maxUnzippedBytes);
  return { entries, total };
}

const isSymlink = (entry: PackageEntry) => (entry.mode & S_IFMT) === S_IFLNK;
const isDirectory = (entry: PackageEntry) => entry.fileName.endsWith('/') || (entry.mode & S_IFMT) === S_IFDIR;
// Zips made on Windows carry no Unix mode: readable by all, as Lambda needs.
const fileMode = (entry: PackageEntry) => entry.mode & 0o777 || 0o644;

/** Makes `directory` and its parents, each once per extraction. */
function makeDirectory(directory: string, made: Set<string>): void {
  if (made.has(directory)) return;
  mkdirSync(directory, { recursive: true });
  made.add(directory);
}

/** A folder, or a file of at most SMALL_ENTRY_BYTES: inflated in memory (its size bounded) and written at once. */
function writeSmallEntry(zip: Buffer, entry: PackageEntry, root: string, made: Set<string>, umask: number): void {
  const target = insideOrThrow(root, root, entry.fileName);
  if (isDirectory(entry)) return makeDirectory(target, made);
  makeDirectory(dirname(target), made);
  const data = entryData(zip, entry);
  const mode = fileMode(entry);
  let fd: number;
  try {
    fd = openSync(target, 'wx', mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new InvalidZip(`duplicate entry ${entry.fileName}`);
    throw error;
  }
  try {
    for (let written = 0; written < data.length; ) written += writeSync(fd, data, written);
  } finally {
    closeSync(fd);
  }
  if (mode & umask) chmodSync(target, mode);
}

/** An entry's bytes, read from the zip in memory, inflated and checked (size and CRC) as yauzl checks them. */
function entryData(zip: Buffer, entry: PackageEntry): Buffer {
  if (entry.encrypted) throw new InvalidZip(`entry ${entry.fileName} is encrypted`);
  const at = entry.localHeaderOffset;
  if (at + 30 > zip.length || zip.readUInt32LE(at) !== 0x04034b50) throw unreadable();
  const start = at + 30 + zip.readUInt16LE(at + 26) + zip.readUInt16LE(at + 28);
  const end = start + entry.compressedSize;
  if (end > zip.length) throw unreadable();
  const raw = zip.subarray(start, end);
  let data: Buffer;
  if (entry.compressionMethod === 0) data = raw;
  else if (entry.compressionMethod === 8) {
    try {
      // Bounded: a bomb cannot inflate past what the directory declared (which the limits have checked).
      data = entry.uncompressedSize === 0 ? Buffer.alloc(0) : inflateRawSync(raw, { maxOutputLength: entry.uncompressedSize });
    } catch (error) {
      throw corrupt(error);
    }
  } else throw new InvalidZip(`unsupported compression method ${entry.compressionMethod}`);
  if (data.length !== entry.uncompressedSize || crc32(data) !== entry.crc32) {
    throw new InvalidZip(`entry ${entry.fileName} does not match its declared size or checksum`);
  }
  return data;
}

async function streamFile(zipfile: ZipFile, entry: PackageEntry, root: string, made: Set<string>, umask: number): Promise<void> {
  const target = insideOrThrow(root, root, entry.fileName);
  makeDirectory(dirname(target), made);
  const stream = await openEntry(zipfile, entry);
  const mode = fileMode(entry);
  try {
    await pipeline(stream, createWriteStream(target, { mode, flags: 'wx' }));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new InvalidZip(`duplicate entry ${entry.fileName}`);
    throw corrupt(error);
  }
  if (mode & umask) chmodSync(target, mode);
}

async function extractSymlink(zip: Buffer, entry: PackageEntry, root: string): Promise<void> {
  const target = insideOrThrow(root, root, entry.fileName);
  await linkFreeDirectory(root, dirname(target), entry.fileName);
  const linkTarget = entryData(zip, entry).toString('utf8');
  // A link may point anywhere inside the package (node_modules/.bin does), never out of it.
  insideOrThrow(root, dirname(target), linkTarget, entry.fileName);
  try {
    await symlink(linkTarget, target);
  } catch (error) {
    throw corrupt(error);
  }
}

/**
 * Makes `directory` (under `root`) one component at a time, refusing to pass through a link: an earlier link
 * could otherwise lead the next one, or a mkdir, out of the package.
 */
async function linkFreeDirectory(root: string, directory: string, entryName: string): Promise<void> {
  let current = root;
  for (const part of relative(root, directory).split(sep).filter(Boolean)) {
    current = join(current, part);
    const stats = await lstat(current).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (stats === undefined) await mkdir(current);
    else if (!stats.isDirectory()) {
      throw new InvalidZip(`entry ${entryName} lies inside a link or a file`);
    }
  }
}

async function openEntry(zipfile: ZipFile, entry: PackageEntry): Promise<Readable> {
  try {
    return await zipfile.openReadStreamPromise(entry.entry!);
  } catch {
    throw unreadable();
  }
}

/** Resolves `path` from `base`; refuses anything that would escape the extraction root. */
function insideOrThrow(root: string, base: string, path: string, entryName = path): string {
  const target = resolve(base, path);
  const rel = relative(root, target);
  if (isAbsolute(path) || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new InvalidZip(`entry ${entryName} points outside the package`);
  }
  return target;
}
