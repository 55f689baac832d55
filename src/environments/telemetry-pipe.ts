// Each environment's telemetry log pipe, as AWS's sandbox gives one to its runtime: a FIFO in a folder of its own on
// this host, bind-mounted read-only into the container at TELEMETRY_PIPE_DIRECTORY. lambkin's entrypoint
// (images/lambda-entrypoint.sh) opens it as fd 3 and sets _LAMBDA_TELEMETRY_LOG_FD=3 only when it is there, so a
// runtime that uses it (aws-lambda-ric 4.x, ours) writes each log record as one frame (src/runtime-api/
// telemetry-frames.ts) and an image whose entrypoint is not ours keeps its stdout.
//
// The host holds the FIFO open for reading and writing, without blocking: the container's open for writing finds a
// reader at once, and the host never sees an end of file, however often writers come and go; it stops when the
// environment ends, after reading what is left. A FIFO cannot be made from Node.js without a process (mkfifo), so
// a few are made ahead, in one process for several, off the cold start's path.
//
// The folders live under one folder per host process (pid, start time, instance id: ephemeral-owners.ts), so those
// of a host killed with -9 are removed by the next host to start.
import { closeSync, constants, openSync, readSync, rmSync } from 'node:fs';
import { chmod, mkdir, rm } from 'node:fs/promises';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import { TelemetryFrameDecoder, type TelemetryRecord } from '../runtime-api/telemetry-frames.ts';
import type { OutputLine } from './backend.ts';
import { currentEphemeralOwner, ownerFolderName, reapDeadOwners } from './ephemeral-owners.ts';

/** Where the container sees its pipe's folder; lambda-entrypoint.sh looks for TELEMETRY_PIPE_NAME in it. */
export const TELEMETRY_PIPE_DIRECTORY = '/var/lambkin/telemetry';
export const TELEMETRY_PIPE_NAME = 'log';
/** Where the folders are by default: on the engine's machine (this one), outside any function's reach. */
export const DEFAULT_TELEMETRY_ROOT = `/var/tmp/lambkin-telemetry-${process.getuid?.() ?? 0}`;
/** Pipes kept made ahead: a pair of cold starts find theirs ready while more are made. */
const SPARE_PIPES = 2;
/** mkfifo is quick; one that hangs must not hold a cold start. */
const MKFIFO_TIMEOUT_MS = 5_000;
/** Read at most this much at once when draining a pipe whose environment has ended. */
const DRAIN_CHUNK_BYTES = 64 * 1024;

/** Told of each record, and once if the pipe turns out not to carry frames (the rest is dropped). */
export interface TelemetryListener {
  onRecord(record: TelemetryRecord): void;
  onBroken(error: Error): void;
}

/** A record as one output event: its text without the final newline (a multi-line record keeps its inner ones). */
export function recordOutput(record: TelemetryRecord): OutputLine {
  return {
    stream: 'telemetry',
    line: record.message.endsWith('\n') ? record.message.slice(0, -1) : record.message,
    timestampMs: Number(record.timestampUs / 1000n),
    ...(record.level ? { level: record.level } : {}),
  };
}

/** One environment's pipe: read() before the container starts, close() once it has ended. */
export class TelemetryPipe {
  /** The folder on this host to bind-mount at TELEMETRY_PIPE_DIRECTORY. */
  readonly hostDirectory: string;
  private readonly decoder = new TelemetryFrameDecoder();
  private listener: TelemetryListener | undefined;
  private fd: number | undefined;
  private socket: Socket | undefined;
  private broken = false;
  private closed: Promise<void> | undefined;
  private readonly onClosed: (pipe: TelemetryPipe) => void;

  constructor(hostDirectory: string, onClosed: (pipe: TelemetryPipe) => void = () => {}) {
    this.hostDirectory = hostDirectory;
    this.onClosed = onClosed;
  }

  /** Starts reading (the first call opens the FIFO); a later call hands the records to another listener. */
  read(listener: TelemetryListener): void {
    this.listener = listener;
    if (this.fd !== undefined || this.closed) return;
    // O_RDWR: a reader is there for the container's open at once, and no end of file comes when its writers close.
    const fd = openSync(join(this.hostDirectory, TELEMETRY_PIPE_NAME), constants.O_RDWR | constants.O_NONBLOCK);
    try {
      this.socket = new Socket({ fd, readable: true, writable: false });
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    this.fd = fd;
    this.socket.on('data', (chunk: Buffer) => this.push(chunk));
    // A read error ends the reading; the environment's other output goes on.
    this.socket.on('error', () => {});
  }

  /**
   * Reads what the runtime wrote and was not read yet (its last records, if the event loop has not come to them),
   * stops reading, removes the folder. Call once the container has ended. Idempotent.
   */
  close(): Promise<void> {
    this.closed ??= (async () => {
      if (this.fd !== undefined) {
        this.drain(this.fd);
        // The socket owns the descriptor: destroying it closes it.
        this.socket?.destroy();
      }
      await rm(this.hostDirectory, { recursive: true, force: true }).catch(() => {});
      this.onClosed(this);
    })();
    return this.closed;
  }

  private drain(fd: number): void {
    const buffer = Buffer.allocUnsafe(DRAIN_CHUNK_BYTES);
    for (;;) {
      let read: number;
      try {
        read = readSync(fd, buffer, 0, buffer.length, null);
      } catch {
        return; // EAGAIN: empty.
      }
      if (read === 0) return;
      this.push(Buffer.from(buffer.subarray(0, read)));
    }
  }

  private push(chunk: Buffer): void {
    if (this.broken || !this.listener) return;
    let records: TelemetryRecord[];
    try {
      records = this.decoder.push(chunk);
    } catch (error) {
      // Read on and dropped: a runtime whose writes nobody reads would block in them.
      this.broken = true;
      this.listener.onBroken(error as Error);
      return;
    }
    for (const record of records) this.listener.onRecord(record);
  }
}

export interface TelemetryPipesOptions {
  /** The folder under which each host keeps its own; DEFAULT_TELEMETRY_ROOT by default. */
  root?: string;
  /** The host instance id (the containers' lambkin.owner label). */
  ownerId: string;
}

/** The pipes of one host: made ahead, handed out by take(), all removed by close(). */
export class TelemetryPipes {
  readonly root: string;
  private readonly ownerId: string;
  private ownerFolder: string | undefined;
  private readonly spares: TelemetryPipe[] = [];
  private readonly open = new Set<TelemetryPipe>();
  private refilling: Promise<void> | undefined;
  private prepared: Promise<boolean> | undefined;
  private sequence = 0;
  private isClosed = false;
  /** Why prepare() resolved false. */
  unsupportedReason: string | undefined;

  constructor(options: TelemetryPipesOptions) {
    this.root = options.root ?? DEFAULT_TELEMETRY_ROOT;
    this.ownerId = options.ownerId;
  }

  /** Removes the folders of hosts that died without closing (see ephemeral-owners.ts). */
  static reapDeadOwners(options: { root?: string } = {}): Promise<string[]> {
    return reapDeadOwners({ root: options.root ?? DEFAULT_TELEMETRY_ROOT });
  }

  /** Makes this host's folder and the first pipes; false (with unsupportedReason) when FIFOs cannot be made here. Memoised. */
  prepare(): Promise<boolean> {
    this.prepared ??= (async () => {
      try {
        // Searchable by all (0711): the container's user reaches its FIFO through these folders, and lists none.
        await mkdir(this.root, { recursive: true, mode: 0o711 });
        await chmod(this.root, 0o711);
        const owner = await currentEphemeralOwner(this.ownerId);
        this.ownerFolder = join(this.root, ownerFolderName(owner));
        await mkdir(this.ownerFolder, { mode: 0o711 });
        await chmod(this.ownerFolder, 0o711);
        removeAtExit(this);
        this.spares.push(...(await this.make(SPARE_PIPES)));
        return true;
      } catch (error) {
        this.unsupportedReason = error instanceof Error ? error.message : String(error);
        await this.removeOwnerFolder();
        return false;
      }
    })();
    return this.prepared;
  }

  /** A pipe ready to read (a spare when there is one); undefined when pipes are unsupported here or closed. */
  async take(): Promise<TelemetryPipe | undefined> {
    if (!(await this.prepare()) || this.isClosed) return undefined;
    const pipe = this.spares.shift() ?? (await this.make(1))[0];
    if (!pipe) return undefined;
    this.open.add(pipe);
    this.refill();
    return pipe;
  }

  /** Closes every pipe (spares and those handed out) and removes this host's folder. */
  async close(): Promise<void> {
    this.isClosed = true;
    await this.refilling;
    await Promise.all([...this.open, ...this.spares.splice(0)].map((pipe) => pipe.close()));
    await this.removeOwnerFolder();
  }

  private refill(): void {
    if (this.refilling || this.spares.length >= SPARE_PIPES) return;
    this.refilling = this.make(SPARE_PIPES - this.spares.length)
      .then(
        (made) => {
          if (this.isClosed) for (const pipe of made) void pipe.close();
          else this.spares.push(...made);
        },
        () => {}, // the next take() makes its own, and says why if it cannot
      )
      .finally(() => (this.refilling = undefined));
  }

  /** Makes `count` folders, each with its FIFO (one mkfifo for all of them). */
  private async make(count: number): Promise<TelemetryPipe[]> {
    const folder = this.ownerFolder;
    if (folder === undefined || count <= 0) return [];
    const directories = Array.from({ length: count }, () => join(folder, String(++this.sequence)));
    try {
      for (const directory of directories) {
        await mkdir(directory, { mode: 0o711 });
        await chmod(directory, 0o711);
      }
      // Writable by all, readable by this host's user alone: the container's user (993, or the image's own) writes.
      const fifos = directories.map((directory) => join(directory, TELEMETRY_PIPE_NAME));
      await execa('mkfifo', ['-m', '622', ...fifos], { timeout: MKFIFO_TIMEOUT_MS, stdin: 'ignore' });
    } catch (error) {
      await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
      throw error;
    }
    return directories.map((directory) => new TelemetryPipe(directory, (pipe) => this.open.delete(pipe)));
  }

  private async removeOwnerFolder(): Promise<void> {
    exitCleanups.delete(this);
    if (this.ownerFolder) await rm(this.ownerFolder, { recursive: true, force: true }).catch(() => {});
  }

  /** At process exit: the descriptors go with the process; the folders are removed here. */
  exitCleanup(): void {
    if (this.ownerFolder) rmSync(this.ownerFolder, { recursive: true, force: true });
  }
}

/** Hosts' pipes to remove if the process exits without closing them: one exit listener for them all, added once needed. */
const exitCleanups = new Set<TelemetryPipes>();
let exitListening = false;

function removeAtExit(pipes: TelemetryPipes): void {
  exitCleanups.add(pipes);
  if (exitListening) return;
  exitListening = true;
  process.once('exit', () => {
    for (const each of exitCleanups) {
      try {
        each.exitCleanup();
      } catch {
        // The next host's reaper removes what is left.
      }
    }
  });
}
