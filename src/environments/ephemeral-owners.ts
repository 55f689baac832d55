// Whose /tmp filesystems are these? Each host instance keeps its own under one folder of the ephemeral root named
// for its process (pid and start time) and instance id, so that a host killed with -9 leaves something that says
// it is dead: at start, a host unmounts and removes the folders of owners whose process is gone. A pid alone is
// not enough (pids are reused); with the process's start time it names one process for good.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { removeTree } from './ephemeral-filesystem.ts';

/** Where the filesystems live by default: on disk (not tmpfs, which would charge memory again), kept across boots. */
export const DEFAULT_EPHEMERAL_ROOT = '/var/tmp/lambkin-ephemeral';
/** Overrides DEFAULT_EPHEMERAL_ROOT (a bigger disk, a test's own folder). */
export const EPHEMERAL_ROOT_ENV = 'LAMBKIN_EPHEMERAL_DIR';

/** `<pid>-<start time in clock ticks>-<host instance id>` */
const OWNER_FOLDER = /^(\d+)-(\d+)-(.+)$/;

export interface EphemeralOwner {
  pid: number;
  /** When the process started, in clock ticks since boot (/proc/<pid>/stat field 22). */
  startTicks: string;
  id: string;
}

export function ephemeralRoot(root?: string): string {
  return root ?? process.env[EPHEMERAL_ROOT_ENV] ?? DEFAULT_EPHEMERAL_ROOT;
}

export function ownerFolderName(owner: EphemeralOwner): string {
  return `${owner.pid}-${owner.startTicks}-${owner.id}`;
}

export function parseOwnerFolder(name: string): EphemeralOwner | undefined {
  const match = OWNER_FOLDER.exec(name);
  return match ? { pid: Number(match[1]), startTicks: match[2]!, id: match[3]! } : undefined;
}

/** This process as an owner. */
export async function currentEphemeralOwner(id: string): Promise<EphemeralOwner> {
  const startTicks = await processStartTicks(process.pid);
  if (startTicks === undefined) throw new Error('/proc/self/stat is not readable');
  return { pid: process.pid, startTicks, id };
}

/** Whether the process that made a folder is still running (the same pid and the same start time). */
export async function isOwnerAlive(owner: EphemeralOwner): Promise<boolean> {
  return (await processStartTicks(owner.pid)) === owner.startTicks;
}

async function processStartTicks(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Field 22 (starttime) overall; fields[0] here is field 3 (state).
  return fields[19];
}

/**
 * Unmounts and removes the folders of dead owners under the ephemeral root; resolves the folders removed. Folders
 * of live owners, and anything not named like an owner's, are left alone. A folder that cannot be removed (a mount
 * that will not go) is skipped and tried again at the next start.
 */
export async function reapDeadOwners(options: { root?: string } = {}): Promise<string[]> {
  const root = ephemeralRoot(options.root);
  const names = await readdir(root).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const owner = parseOwnerFolder(name);
    if (!owner || (await isOwnerAlive(owner))) continue;
    const folder = join(root, name);
    try {
      await removeTree(folder);
      removed.push(folder);
    } catch {
      // Left for the next start.
    }
  }
  return removed;
}
