// The telemetry log fd's framing, read back from bytes as a runtime writes them (the format AWS's client documents
// in its TelemetryLogger: type | length | microsecond time | payload, big-endian).
import { describe, expect, it } from 'vitest';
import { TelemetryFrameDecoder, TelemetryFrameError, encodeTelemetryFrame } from '../src/runtime-api/telemetry-frames.ts';

/** A frame assembled by hand, byte by byte, so the test does not trust the encoder it checks. */
function handMadeFrame(type: number, timestampUs: bigint, message: string): Buffer {
  const payload = Buffer.from(message, 'utf8');
  const header = Buffer.alloc(16);
  header.writeUInt32BE(type >>> 0, 0);
  header.writeInt32BE(payload.length, 4);
  header.writeBigInt64BE(timestampUs, 8);
  return Buffer.concat([header, payload]);
}

describe('telemetry frames', () => {
  it('reads a text frame with its level, time and real newlines, and a JSON frame', () => {
    const decoder = new TelemetryFrameDecoder();
    const text = handMadeFrame(0xa55a0003 | 20, 1_700_000_000_123_000n, '2026-01-01T00:00:00.123Z\tid-1\tERROR\tline one\nline two\n');
    const json = handMadeFrame(0xa55a0002 | 12, 1_700_000_000_124_000n, '{"level":"INFO","message":"hi"}');
    expect(decoder.push(Buffer.concat([text, json]))).toEqual([
      { format: 'text', level: 'ERROR', timestampUs: 1_700_000_000_123_000n, message: '2026-01-01T00:00:00.123Z\tid-1\tERROR\tline one\nline two\n' },
      { format: 'json', level: 'INFO', timestampUs: 1_700_000_000_124_000n, message: '{"level":"INFO","message":"hi"}' },
    ]);
  });

  it('assembles frames split across chunks at any byte, multi-byte characters included', () => {
    const frames = Buffer.concat([
      encodeTelemetryFrame({ format: 'text', level: 'WARN', timestampUs: 1n, message: 'héllo ✓\n' }),
      encodeTelemetryFrame({ format: 'json', level: 'FATAL', timestampUs: 2n, message: '{"m":"€"}' }),
      encodeTelemetryFrame({ format: 'text', timestampUs: 3n, message: 'no level\n' }),
    ]);
    for (let cut = 1; cut < frames.length; cut++) {
      const decoder = new TelemetryFrameDecoder();
      const records = [...decoder.push(frames.subarray(0, cut)), ...decoder.push(frames.subarray(cut))];
      expect(records.map((r) => [r.format, r.level, r.timestampUs, r.message])).toEqual([
        ['text', 'WARN', 1n, 'héllo ✓\n'],
        ['json', 'FATAL', 2n, '{"m":"€"}'],
        ['text', undefined, 3n, 'no level\n'],
      ]);
      expect(decoder.pendingBytes).toBe(0);
    }
  });

  it('every level mask AWS defines round-trips', () => {
    for (const level of ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const) {
      const [record] = new TelemetryFrameDecoder().push(encodeTelemetryFrame({ format: 'text', level, timestampUs: 0n, message: 'x' }));
      expect(record?.level).toBe(level);
    }
  });

  it('refuses a stream that is not telemetry framing, and keeps refusing', () => {
    const decoder = new TelemetryFrameDecoder();
    const plain = Buffer.from('2026-01-01T00:00:00.000Z\tid\tINFO\tplain stdout text\n');
    expect(() => decoder.push(plain)).toThrow(TelemetryFrameError);
    expect(() => decoder.push(encodeTelemetryFrame({ format: 'text', timestampUs: 0n, message: 'x' }))).toThrow(/not a telemetry log frame/);
  });

  it('refuses a frame that claims more than the payload limit instead of buffering it', () => {
    const header = handMadeFrame(0xa55a0003, 0n, '').subarray(0, 16);
    header.writeUInt32BE(64 * 1024 * 1024, 4);
    expect(() => new TelemetryFrameDecoder().push(header)).toThrow(/length 67108864/);
  });
});
