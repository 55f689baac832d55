// The runtime's telemetry log pipe, on the emulator's side: the frames it reads (src/runtime-api/telemetry-frames.ts)
// become lines of the container's log, written as the runtime itself would have written them on stdout had it no
// pipe: a text record is its own text, a JSON record its JSON, each with one newline at the end and every newline
// inside turned into a carriage return. The container's log is read line by line (docker logs, `lambkin serve`'s
// attach, a log agent), so a record printed with its newlines would come out as several entries; `\r` is what
// AWS's client and ours put on stdout for the same reason, so the log reads the same with or without the pipe.
import type { Readable } from 'node:stream';
import { TelemetryFrameDecoder, type TelemetryRecord } from '../runtime-api/telemetry-frames.ts';

const INNER_NEWLINES = /\n/g;

/** A record as one line of the container's log, with its newline. */
export function recordLine(record: TelemetryRecord): string {
  const text = record.message.endsWith('\n') ? record.message.slice(0, -1) : record.message;
  return `${text.includes('\n') ? text.replace(INNER_NEWLINES, '\r') : text}\n`;
}

export interface TelemetryLogOptions {
  /** Each record, in the order the runtime wrote them. */
  onRecord: (record: TelemetryRecord) => void;
  /** The pipe carried something that is not the framing: told once, the rest of the pipe is read and dropped. */
  onBroken: (error: Error) => void;
}

/**
 * Reads a runtime's telemetry pipe until the runtime closes it. The pipe is always drained, even once its framing
 * is broken: a runtime whose writes nobody reads would block in them.
 */
export function readTelemetryLog(pipe: Readable, options: TelemetryLogOptions): void {
  const decoder = new TelemetryFrameDecoder();
  let broken = false;
  pipe.on('data', (chunk: Buffer) => {
    if (broken) return;
    let records: TelemetryRecord[];
    try {
      records = decoder.push(chunk);
    } catch (error) {
      broken = true;
      options.onBroken(error as Error);
      return;
    }
    for (const record of records) options.onRecord(record);
  });
  // The runtime's end closes its side; an error on ours (it died mid-write) changes nothing for the log.
  pipe.on('error', () => {});
}
