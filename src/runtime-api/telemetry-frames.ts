// The telemetry log fd's framing (the contract between a Lambda runtime and the platform): when the sandbox hands the
// runtime a pipe and names it in _LAMBDA_TELEMETRY_LOG_FD, the runtime writes each log record to it as one frame
// instead of a line on stdout, so a record keeps its newlines, its level and its exact time:
//
//   +----------------------+---------------------+---------------------+------------------------+
//   | type: 4 bytes        | length: 4 bytes     | time: 8 bytes       | payload: length bytes  |
//   +----------------------+---------------------+---------------------+------------------------+
//
// Big-endian. The type is 0xa55a0003 for a text record or 0xa55a0002 for a JSON one, OR'd with the level's mask
// (TRACE 4, DEBUG 8, INFO 12, WARN 16, ERROR 20, FATAL 24; 0 when the record has no level); the time is
// microseconds since the epoch. AWS's Node.js client (aws-lambda-ric 4.x) writes exactly this; so does ours.
// This module reads it; the host gives the pipe and files each record as one log event.

/** Bytes before the payload: type, length, time. */
export const FRAME_HEADER_BYTES = 16;
/** The type word with no level mask: text records. */
export const FRAME_TYPE_TEXT = 0xa55a0003;
/** The type word with no level mask: JSON records. */
export const FRAME_TYPE_JSON = 0xa55a0002;
/** The bits of the type word that are the frame's kind (the rest is the level mask). */
const FRAME_MAGIC_MASK = 0xffff0000;
const FRAME_MAGIC = 0xa55a0000;
/**
 * A frame longer than this is not a log record but a corrupt stream (a writer that is not a runtime, or a torn
 * write): reading stops rather than buffering without bound. CloudWatch's own limit on an event is 256 KB;
 * AWS's client cuts nothing, so this leaves room for a record well past it.
 */
export const MAX_FRAME_PAYLOAD_BYTES = 1024 * 1024;

export const LEVEL_MASKS = { TRACE: 4, DEBUG: 8, INFO: 12, WARN: 16, ERROR: 20, FATAL: 24 } as const;
export type TelemetryLevel = keyof typeof LEVEL_MASKS;

const LEVEL_BY_MASK = new Map<number, TelemetryLevel>(Object.entries(LEVEL_MASKS).map(([level, mask]) => [mask, level as TelemetryLevel]));

export interface TelemetryRecord {
  format: 'text' | 'json';
  /** The level from the type word's mask; undefined when the runtime gave none. */
  level: TelemetryLevel | undefined;
  /** When the runtime wrote the record, epoch microseconds (a bigint: it does not fit a double's exact range). */
  timestampUs: bigint;
  /** The payload as written: a text record ends with its own newline, a JSON one with none. */
  message: string;
}

/** A stream that is not the telemetry framing: the reader stops at the first bad frame. */
export class TelemetryFrameError extends Error {
  override readonly name = 'TelemetryFrameError';
}

/** The frame for a record: used by tests and tools that play the runtime's part. */
export function encodeTelemetryFrame(record: { format: 'text' | 'json'; level?: TelemetryLevel; timestampUs: bigint; message: string }): Buffer {
  const payload = Buffer.from(record.message, 'utf8');
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  const type = (record.format === 'json' ? FRAME_TYPE_JSON : FRAME_TYPE_TEXT) | (record.level ? LEVEL_MASKS[record.level] : 0);
  frame.writeUInt32BE(type >>> 0, 0);
  frame.writeUInt32BE(payload.length, 4);
  frame.writeBigInt64BE(record.timestampUs, 8);
  payload.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

/**
 * Turns the bytes of a telemetry pipe, in whatever chunks they arrive, into records. push() returns the records
 * completed by a chunk; a partial frame waits for the next chunk. A malformed header throws TelemetryFrameError
 * (and every later push() throws it again): the stream cannot be resynchronised.
 */
export class TelemetryFrameDecoder {
  #pending: Buffer = Buffer.alloc(0);
  #broken: TelemetryFrameError | undefined;

  push(chunk: Buffer): TelemetryRecord[] {
    if (this.#broken) throw this.#broken;
    let buffer = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const records: TelemetryRecord[] = [];
    while (buffer.length >= FRAME_HEADER_BYTES) {
      const type = buffer.readUInt32BE(0);
      const length = buffer.readUInt32BE(4);
      if ((type & FRAME_MAGIC_MASK) >>> 0 !== FRAME_MAGIC || length > MAX_FRAME_PAYLOAD_BYTES) {
        this.#broken = new TelemetryFrameError(
          `not a telemetry log frame: type 0x${type.toString(16).padStart(8, '0')}, length ${length} (at most ${MAX_FRAME_PAYLOAD_BYTES})`,
        );
        throw this.#broken;
      }
      if (buffer.length < FRAME_HEADER_BYTES + length) break;
      // The low two bits say text (3) or JSON (2); the bits above them are the level mask.
      const kind = type & 0x3;
      records.push({
        format: kind === (FRAME_TYPE_JSON & 0x3) ? 'json' : 'text',
        level: LEVEL_BY_MASK.get(type & 0xfffc),
        timestampUs: buffer.readBigInt64BE(8),
        message: buffer.toString('utf8', FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length),
      });
      buffer = buffer.subarray(FRAME_HEADER_BYTES + length);
    }
    // Copied, so a large chunk's consumed part can be collected.
    this.#pending = buffer.length === 0 ? Buffer.alloc(0) : Buffer.from(buffer);
    return records;
  }

  /** Bytes of an unfinished frame still held (a runtime that died mid-write leaves some). */
  get pendingBytes(): number {
    return this.#pending.length;
  }
}
