// A LogSink on disk, so that another process (`lambkin logs`) can read a function's output while `lambkin serve`
// runs, and after it stops: `<dataDir>/logs/<function>/<log stream>.log`, one line per event written. An event
// with newlines of its own (a telemetry record) keeps them as carriage returns, the way a runtime writes such a
// message on stdout for CloudWatch, so each line of the file is one event; `lambkin logs` prints them as line
// breaks again. Levels and the runtime's timestamps are not kept (a text record carries both in its text). The stream
// name `2026/11/27/[$LATEST]<32 hex>` becomes the file `2026-11-27-[$LATEST]<32 hex>.log` (a `/` cannot be in a
// file name; no other character of a stream name needs changing).
//
// Each line is appended with a synchronous write on a descriptor kept open per stream: a line is in the file the
// moment it is written (a reader following the file sees it at once, a kill -9 loses nothing already written), and
// the lines of one stream keep their order. The lines are few per invoke; the write is a syscall, not a flush.
import { closeSync, mkdirSync, openSync, readdirSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { LogSink } from './log-sink.ts';

const NEWLINES = /\n/g;

/** Descriptors kept open at once; the least recently written stream is closed past it (reopened on its next line). */
const MAX_OPEN_STREAMS = 64;

/** Where a function's log files live under a data dir. */
export function functionLogDirectory(dataDir: string, functionName: string): string {
  return join(dataDir, 'logs', functionName);
}

/** The file name of one log stream. */
export function logStreamFileName(logStreamName: string): string {
  return `${logStreamName.replaceAll('/', '-')}.log`;
}

/**
 * The function's log files, oldest stream first: by the file's creation time where the file system records it,
 * else by name (which starts with the stream's day).
 */
export function functionLogFiles(dataDir: string, functionName: string): string[] {
  const directory = functionLogDirectory(dataDir, functionName);
  let names: string[];
  try {
    names = readdirSync(directory).filter((name) => name.endsWith('.log'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const files = names.map((name) => {
    const path = join(directory, name);
    return { path, name, born: statSync(path, { throwIfNoEntry: false })?.birthtimeMs ?? 0 };
  });
  const haveBirthTimes = files.every((file) => file.born > 0);
  files.sort((a, b) => (haveBirthTimes && a.born !== b.born ? a.born - b.born : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return files.map((file) => file.path);
}

export interface FileLogSinkOptions {
  /** Told when a line cannot be written (disk full, directory removed); the line is dropped, the host carries on. */
  onError?: (error: unknown) => void;
}

export class FileLogSink implements LogSink {
  readonly dataDir: string;
  /** Open descriptors by `<function>\n<stream>`, in least-recently-written order (a Map keeps insertion order). */
  private readonly open = new Map<string, number>();
  private readonly onError: (error: unknown) => void;
  private closed = false;

  constructor(dataDir: string, options: FileLogSinkOptions = {}) {
    this.dataDir = dataDir;
    this.onError = options.onError ?? (() => {});
  }

  write(functionName: string, logStreamName: string, message: string): void {
    if (this.closed) return;
    const line = message.includes('\n') ? message.replace(NEWLINES, '\r') : message;
    try {
      writeSync(this.descriptor(functionName, logStreamName), `${line}\n`);
    } catch (error) {
      this.onError(error);
    }
  }

  /** Closes every file; lines written afterwards are dropped. */
  close(): void {
    this.closed = true;
    for (const fd of this.open.values()) closeSync(fd);
    this.open.clear();
  }

  private descriptor(functionName: string, logStreamName: string): number {
    const key = `${functionName}\n${logStreamName}`;
    const known = this.open.get(key);
    if (known !== undefined) {
      // Most recently written goes last.
      this.open.delete(key);
      this.open.set(key, known);
      return known;
    }
    const directory = functionLogDirectory(this.dataDir, functionName);
    mkdirSync(directory, { recursive: true });
    const fd = openSync(join(directory, logStreamFileName(logStreamName)), 'a');
    this.open.set(key, fd);
    if (this.open.size > MAX_OPEN_STREAMS) {
      const [oldestKey, oldestFd] = this.open.entries().next().value!;
      this.open.delete(oldestKey);
      closeSync(oldestFd);
    }
    return fd;
  }
}
