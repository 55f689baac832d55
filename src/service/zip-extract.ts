// Unpacks a deployment package the way Lambda accepts one: nothing may land outside the target folder
// (zip-slip), and the whole package may not unzip to more than 250 MB. Sizes are checked from the central
// directory before anything is written, and yauzl verifies each entry's real size against it while reading.
import { createWriteStream } from 'node:fs';
import { chmod, lstat, mkdir, realpath, symlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { invalidParameter, LambdaError } from './lambda-error.ts';

/** Lambda's limit on a function's unzipped code (layers included). */
export const MAX_UNZIPPED_BYTES = 262_144_000;
/** Lambda's limit on a zip uploaded directly (CodeSizeZipped). */
export const MAX_ZIPPED_BYTES = 52_428_800;

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

const unreadable = () => invalidParameter('Could not unzip uploaded file. Please check your file, then try to upload again.');

/** Opens a zip held in memory; autoClose off: the entries are listed first and read afterwards, the caller closes. */
async function openZip(zip: Buffer): Promise<ZipFile> {
  try {
    return await yauzl.fromBufferPromise(zip, { autoClose: false, validateEntrySizes: true, strictFileNames: false });
  } catch {
    throw unreadable();
  }
}

/** The total uncompressed size `zip`'s central directory declares (what Lambda counts against its 250 MB). */
export async function unzippedSize(zip: Buffer): Promise<number> {
  const zipfile = await openZip(zip);
  try {
    let total = 0;
    for await (const entry of zipfile.eachEntry()) total += entry.uncompressedSize;
    return total;
  } catch (error) {
    throw invalidParameter(`Could not unzip uploaded file: ${(error as Error).message}`);
  } finally {
    zipfile.close();
  }
}

/** Extracts `zip` into `into` (which must not exist yet). Throws InvalidParameterValueException on a bad package. */
export async function extractZip(zip: Buffer, into: string, maxUnzippedBytes = MAX_UNZIPPED_BYTES): Promise<void> {
  const zipfile = await openZip(zip);
  try {
    const entries: Entry[] = [];
    let total = 0;
    try {
      for await (const entry of zipfile.eachEntry()) {
        entries.push(entry);
        total += entry.uncompressedSize;
      }
    } catch (error) {
      // yauzl itself refuses absolute paths and `..` components: a zip-slip attempt lands here.
      throw invalidParameter(`Could not unzip uploaded file: ${(error as Error).message}`);
    }
    if (total > maxUnzippedBytes) throw invalidParameter(`Unzipped size must be smaller than ${maxUnzippedBytes} bytes`);

    await mkdir(into, { recursive: true });
    const root = await realpath(into);
    // Links last: while files are written no link exists yet, so no write can be steered out of the package.
    const links = entries.filter((entry) => isSymlink(entry));
    try {
      for (const entry of entries) if (!isSymlink(entry)) await extractFileOrDirectory(zipfile, entry, root);
      for (const entry of links) await extractSymlink(zipfile, entry, root);
    } catch (error) {
      // A package at odds with itself (a file where a folder must go, say) is the uploader's fault, not ours.
      if (error instanceof LambdaError) throw error;
      throw invalidParameter(`Could not unzip uploaded file: ${(error as Error).message}`);
    }
  } finally {
    zipfile.close();
  }
}

const unixMode = (entry: Entry) => entry.externalFileAttributes >>> 16;
const isSymlink = (entry: Entry) => (unixMode(entry) & S_IFMT) === S_IFLNK;

async function extractFileOrDirectory(zipfile: ZipFile, entry: Entry, root: string): Promise<void> {
  const target = insideOrThrow(root, root, entry.fileName);
  if (entry.fileName.endsWith('/') || (unixMode(entry) & S_IFMT) === S_IFDIR) {
    await mkdir(target, { recursive: true });
    return;
  }
  await mkdir(dirname(target), { recursive: true });
  const stream = await openEntry(zipfile, entry);
  // Zips made on Windows carry no Unix mode: readable by all, as Lambda needs.
  const mode = unixMode(entry) & 0o777 || 0o644;
  try {
    await pipeline(stream, createWriteStream(target, { mode, flags: 'wx' }));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw invalidParameter(`Could not unzip uploaded file: duplicate entry ${entry.fileName}`);
    throw invalidParameter(`Could not unzip uploaded file: ${(error as Error).message}`);
  }
  await chmod(target, mode);
}

async function extractSymlink(zipfile: ZipFile, entry: Entry, root: string): Promise<void> {
  const target = insideOrThrow(root, root, entry.fileName);
  await linkFreeDirectory(root, dirname(target), entry.fileName);
  const chunks: Buffer[] = [];
  for await (const chunk of await openEntry(zipfile, entry)) chunks.push(chunk as Buffer);
  const linkTarget = Buffer.concat(chunks).toString('utf8');
  // A link may point anywhere inside the package (node_modules/.bin does), never out of it.
  insideOrThrow(root, dirname(target), linkTarget, entry.fileName);
  try {
    await symlink(linkTarget, target);
  } catch (error) {
    throw invalidParameter(`Could not unzip uploaded file: ${(error as Error).message}`);
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
      throw invalidParameter(`Could not unzip uploaded file: entry ${entryName} lies inside a link or a file`);
    }
  }
}

async function openEntry(zipfile: ZipFile, entry: Entry): Promise<Readable> {
  try {
    return await zipfile.openReadStreamPromise(entry);
  } catch {
    throw unreadable();
  }
}

/** Resolves `path` from `base`; refuses anything that would escape the extraction root. */
function insideOrThrow(root: string, base: string, path: string, entryName = path): string {
  const target = resolve(base, path);
  const rel = relative(root, target);
  if (isAbsolute(path) || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw invalidParameter(`Could not unzip uploaded file: entry ${entryName} points outside the package`);
  }
  return target;
}
