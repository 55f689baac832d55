// Each execution environment's /tmp: a filesystem of its own of the function's EphemeralStorage size (512–10,240
// MB), not charged to the function's memory (see ephemeral-filesystem.ts). Making and mounting one takes ~100 ms,
// a third of a cold start, so filesystems are made ahead: a few spares are kept mounted and empty, take() hands
// one out at once and refills in the background; a burst past the spares makes more on demand, a few at a time.
import { rmSync } from 'node:fs';
import { mkdir, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { execaSync } from 'execa';
import { makeFilesystem, removeTree, unmount, type MadeFilesystem } from './ephemeral-filesystem.ts';
import { currentEphemeralOwner, ephemeralRoot, ownerFolderName, reapDeadOwners } from './ephemeral-owners.ts';
import { LambdaEnvironmentError } from './errors.ts';

/** Lambda's EphemeralStorage bounds and default, MB. */
export const MIN_EPHEMERAL_STORAGE_MB = 512;
export const MAX_EPHEMERAL_STORAGE_MB = 10_240;
export const DEFAULT_EPHEMERAL_STORAGE_MB = 512;

/** Spares of the default size: most functions use it, and two cover a pair of cold starts while refills run. */
export const DEFAULT_SPARES = 2;
/** Spares of any other size asked for recently: one, so that a function's next cold start finds one ready. */
const OTHER_SIZE_SPARES = 1;
/** A size not asked for in this long has no spare kept (ten minutes: about how long an idle environment lives). */
const RECENT_SIZE_WINDOW_MS = 10 * 60_000;
/** At most this many other sizes keep a spare (the most recently asked): each spare holds a mount and a loop device. */
const MAX_OTHER_SIZES_WITH_SPARES = 4;
/** How often spares of sizes no longer asked for are released. */
const SWEEP_INTERVAL_MS = 60_000;
/**
 * Filesystems made at once. Each make is mkfs + mount, mostly kernel and disk time: a few at once keep pace with a
 * burst of cold starts (≈ 20 a second) without taking every core from the runtimes starting.
 */
const MAX_CONCURRENT_MAKES = 3;
/** After a spare failed to be made, refills wait this long (a full disk must not become a busy loop). */
const REFILL_BACKOFF_MS = 5_000;
/**
 * close() gives up waiting for filesystems still being made after this; what is left then is removed by the
 * reaper of the next host to start (the folder names this process, which will be dead by then).
 */
const CLOSE_MAKES_TIMEOUT_MS = 10_000;
/** The last-chance cleanup at process exit, per mount (synchronous: the process is going). */
const EXIT_UMOUNT_TIMEOUT_MS = 2_000;
/** statfs's f_type for tmpfs: a root there would put /tmp back in memory. */
const TMPFS_MAGIC = 0x01021994;

/** One environment's /tmp: mounted, empty, mode 1777. Bind-mount hostPath at /tmp; release() after the container is gone. */
export interface EphemeralVolume {
  /** The mount point on this host: the source of the container's /tmp bind mount. */
  readonly hostPath: string;
  readonly sizeMb: number;
  /**
   * Unmounts the filesystem (its loop device detaches itself) and deletes its file and folders. Idempotent (every
   * call returns the same promise); bounded (a busy or slow mount is detached lazily). Call it after the container
   * is removed: a container still running keeps the filesystem alive until it goes.
   */
  release(): Promise<void>;
}

export interface EphemeralStoragePoolOptions {
  /** The folder on disk under which owners keep their filesystems; LAMBKIN_EPHEMERAL_DIR, else /var/tmp/lambkin-ephemeral. */
  root?: string;
  /** The host instance id (the same as the containers' lambkin.owner label). */
  ownerId: string;
  /** Spares of the default 512 MB size to keep ready; DEFAULT_SPARES. 0 makes every filesystem on demand. */
  spares?: number;
}

class MountedVolume implements EphemeralVolume {
  readonly hostPath: string;
  readonly sizeMb: number;
  private readonly made: MadeFilesystem;
  private readonly onReleased: (volume: MountedVolume) => void;
  private released: Promise<void> | undefined;

  constructor(made: MadeFilesystem, sizeMb: number, onReleased: (volume: MountedVolume) => void) {
    this.made = made;
    this.hostPath = made.mountPoint;
    this.sizeMb = sizeMb;
    this.onReleased = onReleased;
  }

  release(): Promise<void> {
    this.released ??= (async () => {
      try {
        await unmount(this.made.mountPoint);
        await removeTree(this.made.directory);
      } finally {
        this.onReleased(this);
      }
    })();
    return this.released;
  }

  /** At process exit: a lazy unmount, nothing else (the folder goes with the owner's). */
  unmountSync(): boolean {
    return execaSync('umount', ['-l', this.hostPath], { reject: false, timeout: EXIT_UMOUNT_TIMEOUT_MS, stdin: 'ignore' }).exitCode === 0;
  }
}

interface Waiter {
  resolve(volume: MountedVolume): void;
  reject(error: unknown): void;
}

/** The spares, waiters and makes in flight of one size. */
interface SizeState {
  ready: MountedVolume[];
  waiters: Waiter[];
  making: number;
  lastAskedAt: number;
}

export class EphemeralStoragePool {
  readonly root: string;
  readonly ownerId: string;
  /** Why prepare() resolved false: for the host's log line. */
  unsupportedReason: string | undefined;
  /** The last failure to make a spare in the background (take() rejects with its own). */
  lastError: unknown;
  private readonly spares: number;
  private readonly sizes = new Map<number, SizeState>();
  /** Volumes handed out by take() and not yet released. */
  private readonly out = new Set<MountedVolume>();
  private readonly makes = new Set<Promise<void>>();
  private ownerFolder: string | undefined;
  private prepared: Promise<boolean> | undefined;
  private sequence = 0;
  private refillBlockedUntil = 0;
  private closed = false;
  private sparesPaused = false;
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(options: EphemeralStoragePoolOptions) {
    this.root = ephemeralRoot(options.root);
    this.ownerId = options.ownerId;
    this.spares = options.spares ?? DEFAULT_SPARES;
  }

  /** Removes the filesystems of hosts that died without closing their pool (see ephemeral-owners.ts). */
  static reapDeadOwners(options: { root?: string } = {}): Promise<string[]> {
    return reapDeadOwners(options);
  }

  /**
   * Checks that the mechanism works here (Linux, root, a disk folder, mkfs.ext4, mount, a loop device) by making
   * the first spare of the default size, and starts keeping spares. Resolves false when it does not, with the
   * reason in unsupportedReason. Memoised.
   */
  prepare(): Promise<boolean> {
    this.prepared ??= this.check();
    return this.prepared;
  }

  /**
   * A mounted, empty filesystem of `sizeMb` (512–10,240): a spare at once when one is ready, else one made now.
   * Rejects with InvalidParameterValueException for a size out of range, ServiceException when the mechanism is
   * unsupported here, the pool is closed, or making the filesystem failed.
   */
  async take(sizeMb: number = DEFAULT_EPHEMERAL_STORAGE_MB): Promise<EphemeralVolume> {
    if (!Number.isInteger(sizeMb) || sizeMb < MIN_EPHEMERAL_STORAGE_MB || sizeMb > MAX_EPHEMERAL_STORAGE_MB) {
      throw new LambdaEnvironmentError(
        'InvalidParameterValueException',
        `EphemeralStorage.Size must be a whole number of MB from ${MIN_EPHEMERAL_STORAGE_MB} to ${MAX_EPHEMERAL_STORAGE_MB}: ${sizeMb}`,
      );
    }
    if (!(await this.prepare())) {
      throw new LambdaEnvironmentError('ServiceException', `Ephemeral storage is unsupported here: ${this.unsupportedReason}`);
    }
    if (this.closed) throw closedError();
    const state = this.state(sizeMb);
    state.lastAskedAt = Date.now();
    const spare = state.ready.shift();
    const volume =
      spare ??
      (await new Promise<MountedVolume>((resolve, reject) => {
        state.waiters.push({ resolve, reject });
        this.pump();
      }));
    this.out.add(volume);
    return volume;
  }

  /**
   * While cold starts are under way, make filesystems only for takes that wait: spares made then would take the
   * cores and the disk from those very starts. resumeSpares() makes up the spares afterwards.
   */
  pauseSpares(): void {
    this.sparesPaused = true;
  }

  resumeSpares(): void {
    this.sparesPaused = false;
    this.pump();
  }

  /** How many spares are ready, by size (for tests and status). */
  readySpares(): Map<number, number> {
    return new Map([...this.sizes].map(([size, state]) => [size, state.ready.length]));
  }

  /** Resolves once no filesystem is being made (tests: the spares are as full as they will get). */
  async settled(): Promise<void> {
    while (this.makes.size > 0) await Promise.allSettled([...this.makes]);
  }

  /**
   * Releases the spares and every volume still out, and removes this owner's folder. Bounded: makes still running
   * are waited for at most CLOSE_MAKES_TIMEOUT_MS, each release by its unmount's timeouts.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweepTimer);
    for (const state of this.sizes.values()) {
      for (const waiter of state.waiters.splice(0)) waiter.reject(closedError());
    }
    const made = Promise.allSettled([...this.makes]);
    await Promise.race([made, new Promise((resolve) => setTimeout(resolve, CLOSE_MAKES_TIMEOUT_MS).unref())]);
    const volumes = [...this.out, ...[...this.sizes.values()].flatMap((state) => state.ready.splice(0))];
    await Promise.allSettled(volumes.map((volume) => volume.release()));
    if (this.ownerFolder && this.makes.size === 0) await removeTree(this.ownerFolder).catch(() => {});
    exitCleanups.delete(this);
  }

  private async check(): Promise<boolean> {
    try {
      if (process.platform !== 'linux') throw new Error(`loop-mounted filesystems need Linux, not ${process.platform}`);
      if (process.getuid?.() !== 0) throw new Error('mounting a filesystem needs root');
      await mkdir(this.root, { recursive: true, mode: 0o700 });
      if ((await statfs(this.root)).type === TMPFS_MAGIC) {
        throw new Error(`${this.root} is on tmpfs, which is memory: set LAMBKIN_EPHEMERAL_DIR to a folder on disk`);
      }
      const owner = await currentEphemeralOwner(this.ownerId);
      this.ownerFolder = join(this.root, ownerFolderName(owner));
      await mkdir(this.ownerFolder, { mode: 0o700 });
      exitCleanups.add(this);
      const first = await this.make(DEFAULT_EPHEMERAL_STORAGE_MB);
      if (this.spares > 0 && !this.closed) this.state(DEFAULT_EPHEMERAL_STORAGE_MB).ready.push(first);
      else await first.release();
    } catch (error) {
      this.unsupportedReason = error instanceof Error ? error.message : String(error);
      if (this.ownerFolder) await removeTree(this.ownerFolder).catch(() => {});
      exitCleanups.delete(this);
      return false;
    }
    this.sweepTimer = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();
    this.pump();
    return true;
  }

  private state(sizeMb: number): SizeState {
    let state = this.sizes.get(sizeMb);
    if (!state) {
      state = { ready: [], waiters: [], making: 0, lastAskedAt: 0 };
      this.sizes.set(sizeMb, state);
    }
    return state;
  }

  /** How many spares of a size to keep now. */
  private target(sizeMb: number, now = Date.now()): number {
    if (sizeMb === DEFAULT_EPHEMERAL_STORAGE_MB) return this.spares;
    const state = this.sizes.get(sizeMb);
    if (!state || now - state.lastAskedAt > RECENT_SIZE_WINDOW_MS) return 0;
    const recent = [...this.sizes]
      .filter(([size, other]) => size !== DEFAULT_EPHEMERAL_STORAGE_MB && now - other.lastAskedAt <= RECENT_SIZE_WINDOW_MS)
      .sort(([, a], [, b]) => b.lastAskedAt - a.lastAskedAt)
      .slice(0, MAX_OTHER_SIZES_WITH_SPARES);
    return recent.some(([size]) => size === sizeMb) ? OTHER_SIZE_SPARES : 0;
  }

  /** Starts makes: first for takes waiting, then for spares missing, never more than MAX_CONCURRENT_MAKES at once. */
  private pump(): void {
    if (this.closed || this.ownerFolder === undefined) return;
    for (const [size, state] of this.sizes) {
      while (this.makes.size < MAX_CONCURRENT_MAKES && state.making < state.waiters.length) this.startMake(size, state);
    }
    const now = Date.now();
    if (this.sparesPaused || now < this.refillBlockedUntil) return;
    for (const [size, state] of this.sizes) {
      // Makes beyond the waiters' become spares.
      const deficit = () => this.target(size, now) - state.ready.length - (state.making - state.waiters.length);
      while (this.makes.size < MAX_CONCURRENT_MAKES && deficit() > 0) this.startMake(size, state);
    }
  }

  private startMake(sizeMb: number, state: SizeState): void {
    state.making++;
    const make: Promise<void> = this.make(sizeMb).then(
      (volume) => {
        state.making--;
        const waiter = state.waiters.shift();
        if (waiter) waiter.resolve(volume);
        else if (this.closed) void volume.release().catch(() => {});
        else state.ready.push(volume);
      },
      (error: unknown) => {
        state.making--;
        const waiter = state.waiters.shift();
        if (waiter) {
          waiter.reject(new LambdaEnvironmentError('ServiceException', `Cannot make /tmp: ${(error as Error).message}`, { cause: error }));
        } else {
          this.lastError = error;
          this.refillBlockedUntil = Date.now() + REFILL_BACKOFF_MS;
        }
      },
    );
    this.makes.add(make);
    void make.finally(() => {
      this.makes.delete(make);
      this.pump();
    });
  }

  private async make(sizeMb: number): Promise<MountedVolume> {
    const folder = join(this.ownerFolder!, `${++this.sequence}-${sizeMb}mb`);
    const made = await makeFilesystem(folder, sizeMb);
    return new MountedVolume(made, sizeMb, (volume) => this.out.delete(volume));
  }

  /** Releases spares of sizes no longer asked for. */
  private sweep(): void {
    const now = Date.now();
    for (const [size, state] of this.sizes) {
      const excess = state.ready.length - this.target(size, now);
      if (excess > 0) for (const volume of state.ready.splice(0, excess)) void volume.release().catch(() => {});
      if (size !== DEFAULT_EPHEMERAL_STORAGE_MB && state.ready.length === 0 && state.making === 0 && state.waiters.length === 0) {
        this.sizes.delete(size);
      }
    }
  }

  /** At process exit (not a signal's kill): lazy unmounts, then the owner's folder, synchronously. */
  exitCleanup(): void {
    const volumes = [...this.out, ...[...this.sizes.values()].flatMap((state) => state.ready)];
    const unmounted = volumes.map((volume) => volume.unmountSync()).every(Boolean);
    // Never delete through a mount: what could not be unmounted is left for the next start's reaper.
    if (unmounted && this.makes.size === 0 && this.ownerFolder) rmSync(this.ownerFolder, { recursive: true, force: true });
  }
}

function closedError(): LambdaEnvironmentError {
  return new LambdaEnvironmentError('ServiceException', 'The ephemeral storage pool is closed');
}

/** Pools to clean up if the process exits without closing them: one exit listener for them all. */
const exitCleanups = new Set<EphemeralStoragePool>();
process.once('exit', () => {
  for (const pool of exitCleanups) {
    try {
      pool.exitCleanup();
    } catch {
      // The reaper of the next start removes what is left.
    }
  }
});
