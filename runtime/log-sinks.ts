// Where formatted log records go (logging.ts formats them): stdout lines, as AWS's StdoutLogger writes them, or
// raw lines on a file descriptor, as its SocketLogger writes them in multi-concurrent mode. The telemetry log fd's
// frames are in telemetry-log.ts. A sink gets each record as one line without its trailing newline: the text
// format's line with its real newlines (`time\trequestId\tLEVEL\tmessage`), or the JSON record.

// Not an import, for start-up time: see the note in errors.ts.
const { writeSync } = process.getBuiltinModule('node:fs');

/** Takes one record: its level's index in LEVELS (TRACE 0 … FATAL 5), its time in epoch ms, its line. */
export type LogSink = (levelIndex: number, timeMs: number, line: string) => void;

const NEWLINES = /\n/g;

/**
 * Lines on stdout through process.stdout, as AWS's client writes them when it has no telemetry fd. A text record
 * keeps to one line by turning each `\n` into `\r` (CloudWatch splits events on newlines). A JSON record needs
 * no such care: JSON.stringify escapes every control character, so its line has no raw newline.
 */
export function stdoutSink(json: boolean): LogSink {
  // process.stdout is built on first use; a function that does not log while loading need not pay for it then.
  let stdout: NodeJS.WriteStream | undefined;
  if (json) {
    return (_level, _time, line) => {
      (stdout ??= process.stdout).write(`${line}\n`);
    };
  }
  return (_level, _time, line) => {
    (stdout ??= process.stdout).write(`${line.includes('\n') ? line.replace(NEWLINES, '\r') : line}\n`);
  };
}

/**
 * Lines written straight to a file descriptor with write(2) (multi-concurrent mode: fd 1, as AWS's SocketLogger
 * does; synchronous, so it works alike from the main thread and from worker threads, whose process.stdout is
 * relayed through the main thread). A failing write drops the record: there is nowhere else to log it, and a
 * function must not fail because of its logging.
 */
export function fdLineSink(fd: number): LogSink {
  return (_level, _time, line) => {
    try {
      scratch.writeTo(fd, scratch.encode(`${line}\n`, 0));
    } catch {
      // EPIPE, EBADF: nobody reads this fd any more.
    }
  };
}

/**
 * A reusable buffer for encoding records before a write(2), so that logging allocates no buffer per record. The
 * writes are synchronous, so one buffer per thread (per module instance) is never used by two records at once.
 */
class ScratchBuffer {
  static readonly INITIAL_BYTES = 64 * 1024;
  bytes: Buffer = Buffer.alloc(0);

  /** Encodes `text` as UTF-8 at `offset` (the bytes before it are the caller's); returns the end offset. */
  encode(text: string, offset: number): number {
    // A UTF-16 unit encodes to at most 3 bytes: when that worst case fits, no exact count is needed.
    if (this.bytes.length - offset < text.length * 3) {
      const needed = offset + Buffer.byteLength(text, 'utf8');
      if (this.bytes.length < needed) this.bytes = Buffer.allocUnsafe(Math.max(needed, ScratchBuffer.INITIAL_BYTES));
    }
    return offset + this.bytes.write(text, offset, 'utf8');
  }

  /** write(2)s bytes [0, end) to `fd` (see writeFully), then lets go of a buffer grown for a huge record. */
  writeTo(fd: number, end: number): void {
    try {
      writeFully(fd, this.bytes, end);
    } finally {
      if (this.bytes.length > ScratchBuffer.INITIAL_BYTES) this.bytes = Buffer.alloc(0);
    }
  }
}

export const scratch = new ScratchBuffer();

let pause: Int32Array | undefined;

/**
 * write(2)s bytes [0, end) of `bytes`, all of them. A blocking pipe takes them in one call (atomically up to
 * PIPE_BUF); a descriptor someone made non-blocking (Node.js does that to fd 1 once process.stdout is used) may
 * take part of them or answer EAGAIN while the reader lags: then wait a millisecond and go on. Other errors throw.
 */
export function writeFully(fd: number, bytes: Buffer, end: number): void {
  let offset = 0;
  while (offset < end) {
    try {
      offset += writeSync(fd, bytes, offset, end - offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      Atomics.wait((pause ??= new Int32Array(new SharedArrayBuffer(4))), 0, 0, 1);
    }
  }
}
