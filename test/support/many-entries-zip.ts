// Writes a zip of many small stored entries fast (yazl takes minutes for 100,000 entries), with the ZIP64
// end-of-central-directory records a zip needs past 65,535 entries: the packages a service's entry-count limit
// must refuse, and the ones just under it that it must still unpack. Entries are spread over folders the way a
// node_modules tree spreads them (`node_modules/pkg12/lib/sub3/file1234.js`), or flat and empty (`f1234`).
import { crc32 } from 'node:zlib';

export interface ManyEntriesOptions {
  /** Empty files at the top (the reviewer's 9.5 MB bomb); otherwise small files in a node_modules-like tree. */
  flat?: boolean;
}

const S_IFREG = 0o100000;
const MADE_BY_UNIX = (3 << 8) | 45;
const DOS_DATE = (1 << 5) | 1; // 1980-01-01

export function manyEntriesZip(count: number, options: ManyEntriesOptions = {}): Buffer {
  const content = options.flat ? Buffer.alloc(0) : Buffer.from('module.exports = 1;\n');
  const crc = crc32(content);
  const names = Array.from({ length: count }, (_, i) =>
    Buffer.from(options.flat ? `f${i}` : `node_modules/pkg${Math.floor(i / 100)}/lib/sub${Math.floor(i / 20) % 5}/file${i}.js`),
  );
  let localSize = 0;
  let centralSize = 0;
  for (const name of names) {
    localSize += 30 + name.length + content.length;
    centralSize += 46 + name.length;
  }
  const zip = Buffer.alloc(localSize + centralSize + 56 + 20 + 22);
  const offsets: number[] = [];
  let at = 0;
  for (const name of names) {
    offsets.push(at);
    zip.writeUInt32LE(0x04034b50, at);
    zip.writeUInt16LE(20, at + 4);
    zip.writeUInt16LE(DOS_DATE, at + 12);
    zip.writeUInt32LE(crc, at + 14);
    zip.writeUInt32LE(content.length, at + 18);
    zip.writeUInt32LE(content.length, at + 22);
    zip.writeUInt16LE(name.length, at + 26);
    name.copy(zip, at + 30);
    content.copy(zip, at + 30 + name.length);
    at += 30 + name.length + content.length;
  }
  const centralStart = at;
  names.forEach((name, i) => {
    zip.writeUInt32LE(0x02014b50, at);
    zip.writeUInt16LE(MADE_BY_UNIX, at + 4);
    zip.writeUInt16LE(20, at + 6);
    zip.writeUInt16LE(DOS_DATE, at + 14);
    zip.writeUInt32LE(crc, at + 16);
    zip.writeUInt32LE(content.length, at + 20);
    zip.writeUInt32LE(content.length, at + 24);
    zip.writeUInt16LE(name.length, at + 28);
    zip.writeUInt32LE(((S_IFREG | 0o644) << 16) >>> 0, at + 38);
    zip.writeUInt32LE(offsets[i]!, at + 42);
    name.copy(zip, at + 46);
    at += 46 + name.length;
  });
  // ZIP64 end of central directory record, its locator, then the classic record saying "see ZIP64".
  const zip64End = at;
  zip.writeUInt32LE(0x06064b50, at);
  zip.writeBigUInt64LE(44n, at + 4);
  zip.writeUInt16LE(MADE_BY_UNIX, at + 12);
  zip.writeUInt16LE(45, at + 14);
  zip.writeBigUInt64LE(BigInt(count), at + 24);
  zip.writeBigUInt64LE(BigInt(count), at + 32);
  zip.writeBigUInt64LE(BigInt(centralSize), at + 40);
  zip.writeBigUInt64LE(BigInt(centralStart), at + 48);
  at += 56;
  zip.writeUInt32LE(0x07064b50, at);
  zip.writeBigUInt64LE(BigInt(zip64End), at + 8);
  zip.writeUInt32LE(1, at + 16);
  at += 20;
  zip.writeUInt32LE(0x06054b50, at);
  zip.writeUInt16LE(Math.min(count, 0xffff), at + 8);
  zip.writeUInt16LE(Math.min(count, 0xffff), at + 10);
  zip.writeUInt32LE(Math.min(centralSize, 0xffffffff), at + 12);
  zip.writeUInt32LE(0xffffffff, at + 16);
  return zip;
}
