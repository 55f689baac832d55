// The telemetry log fd: when Lambda's sandbox gives the runtime a pipe and names it in _LAMBDA_TELEMETRY_LOG_FD, each
// log record goes to it as one frame instead of a line on stdout, so that a record keeps its newlines, its level and
// its exact time (reference/node-runtime.md, "Logging"). The frame, big-endian:
//
//   type: 4 bytes | length: 4 bytes | time: 8 bytes, epoch µs | payload: length bytes
//
// with type 0xa55a0003 (text) or 0xa55a0002 (JSON) OR'd with the level's mask (TRACE 4 … FATAL 24); AWS's client
// (aws-lambda-ric 4.x) ORs the mask into text frames too, and so do we. The host side reads these frames in
// src/runtime-api/telemetry-frames.ts (with the same constants); this bundle does not import src/, hence the copy.
import { type LogSink, scratch } from './log-sinks.ts';

// Not an import, for start-up time: see the note in errors.ts.
const { fstatSync, readdirSync } = process.getBuiltinModule('node:fs');
type Stats = import('node:fs').Stats;

const FRAME_HEADER_BYTES = 16;
const FRAME_TYPE_TEXT = 0xa55a0003;
const FRAME_TYPE_JSON = 0xa55a0002;
/** The level masks by level index (TRACE, DEBUG, INFO, WARN, ERROR, FATAL). */
const LEVEL_MASKS = [4, 8, 12, 16, 20, 24];

/**
 * The fd named by _LAMBDA_TELEMETRY_LOG_FD, if it is an integer > 0, and removes the variable from the
 * environment (always, as AWS's client does: the handler never sees it, and child processes do not write to a
 * pipe meant for the runtime). 0 is refused, as on AWS (`if (telemetryFd)`): it is stdin.
 */
export function consumeTelemetryFd(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env._LAMBDA_TELEMETRY_LOG_FD;
  delete env._LAMBDA_TELEMETRY_LOG_FD;
  if (raw === undefined) return undefined;
  const fd = Number(raw);
  return Number.isInteger(fd) && fd > 0 ? fd : undefined;
}

/**
 * Why `fd` cannot be the telemetry pipe, or undefined if it can. A number the sandbox did not really pass is not
 * just closed: Node.js opens a dozen descriptors of its own while starting, from 3 up (libuv's epoll, io_uring and
 * eventfds, and pipes whose both ends it holds), and frames written to one of them would be lost, or worse, read
 * by libuv as its own messages. A telemetry fd is the write end of a pipe or a socket whose reader is another
 * process (or a file); libuv's are anonymous inodes, or pipes whose other end is in this process too (Linux: found
 * through /proc/self/fd). Node.js marks inherited descriptors close-on-exec as well, so that flag tells nothing.
 * Checked once, at start-up, before the runtime opens anything itself.
 */
export function unusableTelemetryFd(fd: number): string | undefined {
  let stats: Stats;
  try {
    stats = fstatSync(fd);
  } catch (error) {
    return `it is not open (${(error as NodeJS.ErrnoException).code})`;
  }
  if (!(stats.isFIFO() || stats.isSocket() || stats.isFile())) return 'it is not a pipe, a socket or a file (Node.js opened it for itself)';
  if (stats.isFIFO() && pipeHasAnotherEndHere(fd, stats)) return 'this process holds both ends of that pipe (Node.js opened it for itself)';
  return undefined;
}

function pipeHasAnotherEndHere(fd: number, pipe: Stats): boolean {
  let entries: string[];
  try {
    entries = readdirSync('/proc/self/fd');
  } catch {
    return false;
  }
  for (const entry of entries) {
    const other = Number(entry);
    if (other === fd) continue;
    try {
      const stats = fstatSync(other);
      if (stats.ino === pipe.ino && stats.dev === pipe.dev) return true;
    } catch {
      // Closed since the listing (the listing's own fd).
    }
  }
  return false;
}

/**
 * Frames on the telemetry fd. A text payload is the line with its real newlines plus a final `\n`; a JSON payload
 * is the record alone. Header and payload go out in ONE write(2) (AWS's client makes two): a pipe takes up to
 * PIPE_BUF bytes atomically, so a frame is never split by another writer's. If the fd turns out not to be
 * writable (EBADF, EPIPE: the reader is gone), the record and every later one go to `fallback` instead, and
 * stderr says so once: a function must not fail because of its logging.
 */
export function telemetrySink(fd: number, json: boolean, fallback: LogSink): LogSink {
  const frameType = json ? FRAME_TYPE_JSON : FRAME_TYPE_TEXT;
  let failedOver = false;
  return (levelIndex, timeMs, line) => {
    if (failedOver) return fallback(levelIndex, timeMs, line);
    const end = scratch.encode(json ? line : `${line}\n`, FRAME_HEADER_BYTES);
    const bytes = scratch.bytes;
    bytes.writeUInt32BE((frameType | (LEVEL_MASKS[levelIndex] ?? 0)) >>> 0, 0);
    bytes.writeUInt32BE(end - FRAME_HEADER_BYTES, 4);
    // Microseconds since the epoch: below 2^53 for the next quarter million years, so a double holds them
    // exactly and the two 32-bit halves need no BigInt.
    const micros = timeMs * 1000;
    bytes.writeUInt32BE(Math.floor(micros / 0x1_0000_0000), 8);
    bytes.writeUInt32BE(micros >>> 0, 12);
    try {
      scratch.writeTo(fd, end);
    } catch (error) {
      failedOver = true;
      process.stderr.write(
        `lambkin runtime: cannot write logs to the telemetry log fd ${fd} (${(error as NodeJS.ErrnoException).code ?? error}); logging to stdout from now on\n`,
      );
      fallback(levelIndex, timeMs, line);
    }
  };
}
