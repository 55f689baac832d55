// One environment's /tmp as its own ext4 filesystem: a sparse file on disk, loop-mounted here on the host, then
// bind-mounted into the container. Its pages are the page cache of a disk file (reclaimable), not tmpfs pages
// charged to the container's memory, and its size is the function's EphemeralStorage (ENOSPC past it, as on
// Lambda). This module makes, mounts and removes such filesystems, and finds what is mounted or attached under
// a folder (for a thorough removal, and for the reaper). Linux only; needs root.
import { mkdir, open, readFile, readdir, rm, chmod, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';

/** ext4's block size: the kernel's page size, so no block straddles two pages. */
const BLOCK_SIZE = 4096;
/** One inode per 16 KB, mke2fs's default for a filesystem of this size: as many files as an ordinary /tmp. */
const BYTES_PER_INODE = 16_384;
/** mke2fs's default inode size (room for nanosecond timestamps and small extended attributes inline). */
const INODE_SIZE = 256;
/**
 * ext4 holds back 2% of the blocks, at most 4,096 of them (16 MB), for its own metadata under delayed allocation
 * (s_resv_clusters): statfs does not count them as available, so the file is made that much larger.
 */
const EXT4_RESERVED_FRACTION = 0.02;
const EXT4_RESERVED_MAX_MB = 16;
/** Group descriptors, bitmaps, the root directory and superblock backups: well under 2 MB up to 10 GB (measured). */
const EXT4_FIXED_OVERHEAD_MB = 2;
/** The mke2fs fixed point settles in two or three rounds; four is a safe bound. */
const SIZING_ROUNDS = 4;
const MB = 1024 * 1024;

/**
 * mkfs of a sparse file writes only its metadata (a few hundred KB), in tens of ms; a loaded disk may take
 * seconds. Past this the machine is in trouble and the volume is given up.
 */
const MKFS_TIMEOUT_MS = 60_000;
/** mount -o loop: attach a loop device, read the superblock. Tens of ms; generous for a loaded machine. */
const MOUNT_TIMEOUT_MS = 30_000;
/**
 * umount: tens of ms (nothing to write back but dirty pages of a deleted environment's files). Past this, or when
 * the mount is busy, it is detached lazily (umount -l), which returns at once.
 */
const UMOUNT_TIMEOUT_MS = 5_000;
/** losetup -d of a loop device left attached without a mount (a host killed mid-mount). */
const LOSETUP_TIMEOUT_MS = 5_000;

/** mkfs.ext4 options: no journal (a /tmp dies with its environment: nothing to recover), no room to grow. */
const MKFS_OPTIONS = [
  '-q',
  '-F',
  // No blocks reserved for root: the function owns the whole size it asked for.
  '-m',
  '0',
  '-b',
  String(BLOCK_SIZE),
  '-i',
  String(BYTES_PER_INODE),
  '-I',
  String(INODE_SIZE),
  // resize_inode reserves group descriptor blocks for online growth we never do (and makes mkfs slower).
  '-O',
  '^has_journal,^resize_inode',
  // The file is sparse, so its inode tables already read as zeros: neither mkfs nor the kernel writes them out.
  '-E',
  'lazy_itable_init=1,nodiscard',
];
/** Exec allowed, as on Lambda; no set-uid programs or device files from a function's /tmp. */
const MOUNT_OPTIONS = 'loop,nosuid,nodev,noinit_itable';
/** /tmp's mode everywhere: anyone may create, only the owner may remove (the function runs as uid 993). */
const TMP_MODE = 0o1777;

/** The size of the sparse file whose ext4 filesystem has at least `sizeMb` MB available, in MB. */
export function imageSizeMb(sizeMb: number): number {
  let imageMb = sizeMb;
  for (let round = 0; round < SIZING_ROUNDS; round++) {
    const inodeTablesMb = (((imageMb * MB) / BYTES_PER_INODE) * INODE_SIZE) / MB;
    const reservedMb = Math.min(imageMb * EXT4_RESERVED_FRACTION, EXT4_RESERVED_MAX_MB);
    imageMb = sizeMb + Math.ceil(inodeTablesMb + reservedMb + EXT4_FIXED_OVERHEAD_MB);
  }
  return imageMb;
}

export interface MadeFilesystem {
  /** The volume's own folder: the image and the mount point, nothing else. */
  directory: string;
  image: string;
  /** The mount point: the filesystem's root, empty and mode 1777. */
  mountPoint: string;
}

/**
 * Makes `directory` (which must not exist), a sparse image file of the right size in it, an ext4 filesystem in
 * that, and mounts it. On any failure whatever was made is removed before the error is thrown.
 */
export async function makeFilesystem(directory: string, sizeMb: number): Promise<MadeFilesystem> {
  const made: MadeFilesystem = { directory, image: join(directory, 'image'), mountPoint: join(directory, 'tmp') };
  await mkdir(directory, { mode: 0o700 });
  try {
    await mkdir(made.mountPoint, { mode: 0o700 });
    const file = await open(made.image, 'wx', 0o600);
    try {
      await file.truncate(imageSizeMb(sizeMb) * MB);
    } finally {
      await file.close();
    }
    await run('mkfs.ext4', [...MKFS_OPTIONS, made.image], MKFS_TIMEOUT_MS);
    await run('mount', ['-o', MOUNT_OPTIONS, made.image, made.mountPoint], MOUNT_TIMEOUT_MS);
    await chmod(made.mountPoint, TMP_MODE);
    // Lambda's /tmp starts empty; ext4 needs no lost+found to work (fsck would make one, and nobody runs it).
    await rmdir(join(made.mountPoint, 'lost+found'));
    return made;
  } catch (error) {
    await removeTree(directory).catch(() => {});
    throw error;
  }
}

/**
 * Unmounts `mountPoint`: plainly, else lazily (busy, or the plain umount did not return in time). Resolves once
 * nothing is mounted there; the loop device detaches itself with the last reference (mount -o loop sets
 * autoclear). Rejects only when the mount is still there after both.
 */
export async function unmount(mountPoint: string): Promise<void> {
  try {
    await run('umount', [mountPoint], UMOUNT_TIMEOUT_MS);
    return;
  } catch (error) {
    if (/not mounted|no mount point/i.test(errorText(error))) return;
  }
  try {
    await run('umount', ['-l', mountPoint], UMOUNT_TIMEOUT_MS);
  } catch (error) {
    if ((await mountPointsUnder(mountPoint)).includes(mountPoint)) throw error;
  }
}

/**
 * Removes a folder with everything mounted or loop-attached under it: mounts first (deepest first), then loop
 * devices whose backing file is in it, then the files. Never deletes through a mount: when a mount cannot be
 * removed, the folder is left (and the error thrown) rather than the mounted filesystem's contents deleted.
 */
export async function removeTree(directory: string): Promise<void> {
  const mounts = (await mountPointsUnder(directory)).sort((a, b) => b.length - a.length);
  for (const mountPoint of mounts) await unmount(mountPoint);
  for (const device of await loopDevicesBackedUnder(directory)) {
    await run('losetup', ['-d', device], LOSETUP_TIMEOUT_MS).catch(() => {});
  }
  if ((await mountPointsUnder(directory)).length > 0) throw new Error(`${directory} still has mounts under it`);
  await rm(directory, { recursive: true, force: true });
}

/** Mount points at or under `directory`, as this process's mount namespace sees them. */
export async function mountPointsUnder(directory: string): Promise<string[]> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  const points: string[] = [];
  for (const line of mountinfo.split('\n')) {
    // Fields: id, parent id, major:minor, root, mount point, ...
    const field = line.split(' ')[4];
    if (field === undefined) continue;
    const point = decodeMountinfo(field);
    if (isAtOrUnder(point, directory)) points.push(point);
  }
  return points;
}

/** Loop devices (`/dev/loopN`) whose backing file is at or under `directory`. */
export async function loopDevicesBackedUnder(directory: string): Promise<string[]> {
  const devices: string[] = [];
  const blocks = await readdir('/sys/block').catch(() => [] as string[]);
  for (const name of blocks.filter((block) => block.startsWith('loop'))) {
    // Absent when the device is not attached; " (deleted)" is appended when the file was unlinked.
    const backing = await readFile(`/sys/block/${name}/loop/backing_file`, 'utf8').catch(() => undefined);
    if (backing === undefined) continue;
    if (isAtOrUnder(backing.trim().replace(/ \(deleted\)$/, ''), directory)) devices.push(`/dev/${name}`);
  }
  return devices;
}

function isAtOrUnder(path: string, directory: string): boolean {
  const base = directory.endsWith('/') ? directory.slice(0, -1) : directory;
  return path === base || path.startsWith(`${base}/`);
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function decodeMountinfo(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

async function run(command: string, args: string[], timeout: number): Promise<void> {
  try {
    await execa(command, args, { timeout, stdin: 'ignore' });
  } catch (error) {
    throw new Error(`${command} ${args.join(' ')}: ${errorText(error)}`, { cause: error });
  }
}

function errorText(error: unknown): string {
  const { stderr, shortMessage, message } = error as { stderr?: unknown; shortMessage?: string; message?: string };
  const said = typeof stderr === 'string' ? stderr.trim() : '';
  return said || shortMessage || message || String(error);
}
