// `lambkin logs FN`: prints a function's log lines, as `lambkin serve` filed them (FileLogSink): every stream,
// oldest stream first. With --follow it keeps printing lines as they are appended, until Ctrl-C. Each line of a
// file is one event; an event of several lines (a multi-line log record) has them as carriage returns there, and
// is printed with line breaks, as CloudWatch shows it.
//
// Following is a bounded poll of the files' sizes (every FOLLOW_POLL_MS), not fs.watch: fs.watch differs by
// platform and file system (none on some network and container mounts, events coalesced or lost elsewhere), and
// one stat per stream file a few times a second costs nothing. New streams (new environments) are picked up too.
import { open, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { functionLogDirectory, functionLogFiles } from '../environments/file-log-sink.ts';
import { parseFunctionName } from '../service/function-name.ts';
import { DEFAULT_DATA_DIR, parseFlags, runCommand, UsageError } from './flags.ts';

export const LOGS_USAGE = `usage: lambkin logs FUNCTION [--data-dir DIR] [--follow]

  FUNCTION         the function's name (or ARN)
  --data-dir DIR   the data dir of the lambkin serve that ran it (default ./.lambkin)
  --follow, -f     keep printing new lines as they are written, until Ctrl-C`;

const FOLLOW_POLL_MS = 200;
/** Read at most this much of a file at once, so a large log is printed in pieces, not loaded whole. */
const READ_CHUNK_BYTES = 1 << 20;

export function main(args: string[]): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  runCommand('logs', LOGS_USAGE, args, logs);
}

async function logs(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, { 'data-dir': { type: 'string' }, follow: { type: 'boolean', short: 'f' } }, { min: 1, max: 1 });
  let functionName: string;
  try {
    functionName = parseFunctionName(positionals[0]!).name;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const dataDir = resolve((values['data-dir'] as string | undefined) ?? DEFAULT_DATA_DIR);
  const reader = new LogReader(dataDir, functionName);

  if (!values.follow) {
    if (!(await reader.printNew())) {
      // CloudWatch's words for a function that has never logged (never invoked, or a misspelt name).
      process.stderr.write(
        `lambkin logs: ResourceNotFoundException: The specified log group does not exist (no log files in ${functionLogDirectory(dataDir, functionName)})\n`,
      );
      return 1;
    }
    return 0;
  }
  const stopOn = () => process.exit(0);
  process.on('SIGINT', stopOn);
  process.on('SIGTERM', stopOn);
  for (;;) {
    await reader.printNew();
    await new Promise((wake) => setTimeout(wake, FOLLOW_POLL_MS));
  }
}

/** Prints what was appended to the function's log files since the last call, whole lines only. */
class LogReader {
  private readonly dataDir: string;
  private readonly functionName: string;
  /** Bytes already printed, and the end of a line not yet complete, per file. */
  private readonly files = new Map<string, { offset: number; partial: Buffer }>();

  constructor(dataDir: string, functionName: string) {
    this.dataDir = dataDir;
    this.functionName = functionName;
  }

  /** Resolves false when the function has no log files at all. */
  async printNew(): Promise<boolean> {
    const paths = functionLogFiles(this.dataDir, this.functionName);
    // Streams seen before keep their place; new ones come after them.
    for (const path of paths) if (!this.files.has(path)) this.files.set(path, { offset: 0, partial: Buffer.alloc(0) });
    for (const [path, file] of this.files) {
      const size = (await stat(path).catch(() => undefined))?.size ?? 0;
      if (size <= file.offset) continue;
      const handle = await open(path, 'r');
      try {
        while (file.offset < size) {
          const length = Math.min(READ_CHUNK_BYTES, size - file.offset);
          const { buffer, bytesRead } = await handle.read(Buffer.alloc(length), 0, length, file.offset);
          if (bytesRead === 0) break;
          file.offset += bytesRead;
          const text = Buffer.concat([file.partial, buffer.subarray(0, bytesRead)]);
          const end = text.lastIndexOf(0x0a) + 1;
          file.partial = Buffer.from(text.subarray(end));
          if (end > 0) await writeOut(withLineBreaks(text.subarray(0, end)));
        }
      } finally {
        await handle.close();
      }
    }
    return paths.length > 0;
  }
}

/** An event's inner carriage returns as line breaks (a `\r` that ends a line is left: it is a `\r\n`). */
function withLineBreaks(chunk: Buffer): Buffer {
  if (!chunk.includes(0x0d)) return chunk;
  const out = Buffer.from(chunk);
  for (let i = 0; i < out.length; i++) if (out[i] === 0x0d && out[i + 1] !== 0x0a) out[i] = 0x0a;
  return out;
}

/** Writes to stdout, waiting when the reader is slower; a reader that went away (`| head`) ends the command. */
function writeOut(chunk: Buffer): Promise<void> {
  return new Promise((done) => {
    if (process.stdout.write(chunk)) done();
    else process.stdout.once('drain', done);
  });
}
