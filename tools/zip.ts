// Writes zip archives for tests and the bench (yazl is not a dependency): deflated or stored entries, Unix modes and
// symlinks, and names as given, so a test can also build the hostile archives (`../escape`) a service must refuse.
import { crc32, deflateRawSync } from 'node:zlib';

export interface ZipEntry {
  name: string;
  /** File content (or, for a symlink, its target). Omit for a directory. */
  content?: string | Buffer;
  /** Unix permission bits; 0o644 for files, 0o755 for directories. */
  mode?: number;
  symlink?: boolean;
  /** Store instead of deflate. */
  store?: boolean;
}

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const VERSION = 20;
const MADE_BY_UNIX = (3 << 8) | VERSION;
// 1980-01-01 00:00:00 in MS-DOS time: fixed, so the same files always make the same zip (and CodeSha256).
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

export function makeZip(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const isDirectory = entry.content === undefined && !entry.symlink;
    const name = Buffer.from(isDirectory && !entry.name.endsWith('/') ? `${entry.name}/` : entry.name, 'utf8');
    const data = Buffer.from(entry.content ?? '');
    const deflate = !entry.store && !isDirectory && data.length > 0;
    const compressed = deflate ? deflateRawSync(data) : data;
    const type = entry.symlink ? S_IFLNK : isDirectory ? S_IFDIR : S_IFREG;
    const mode = type | (entry.mode ?? (isDirectory ? 0o755 : entry.symlink ? 0o777 : 0o644));
    const crc = crc32(data);

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(VERSION, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(deflate ? 8 : 0, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, compressed);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(MADE_BY_UNIX, 4);
    central.writeUInt16LE(VERSION, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(deflate ? 8 : 0, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt16LE(0, 30); // extra
    central.writeUInt16LE(0, 32); // comment
    central.writeUInt16LE(0, 34); // disk
    central.writeUInt16LE(0, 36); // internal attributes
    central.writeUInt32LE((mode << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);

    offset += local.length + name.length + compressed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
