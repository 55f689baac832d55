// The application/vnd.amazon.eventstream framing, encoding side only, and only what InvokeWithResponseStream sends:
// messages whose headers are all strings. A message is a 12-byte prelude (total length, headers length, the CRC32 of
// those 8 bytes), the headers, the payload and the CRC32 of everything before it; integers are big-endian. The SDKs
// check both CRCs, so a framing mistake fails the caller's read rather than passing garbled bytes.
import { crc32 } from 'node:zlib';

/** Prelude (12 bytes, its CRC included) and the trailing message CRC (4 bytes). */
const PRELUDE_BYTES = 12;
const MESSAGE_CRC_BYTES = 4;
/** Header value type 7: a string, its length as a uint16 then its UTF-8 bytes. */
const STRING_VALUE_TYPE = 7;
/** Header names are at most 255 bytes (one length byte); string values at most 65,535 (two). */
const MAX_HEADER_NAME_BYTES = 0xff;
const MAX_STRING_VALUE_BYTES = 0xffff;

/** One message: string headers, in the order given, and its payload. */
export function encodeEventMessage(headers: Record<string, string>, payload: Uint8Array): Buffer {
  const encodedHeaders = encodeStringHeaders(headers);
  const total = PRELUDE_BYTES + encodedHeaders.length + payload.length + MESSAGE_CRC_BYTES;
  const message = Buffer.allocUnsafe(total);
  message.writeUInt32BE(total, 0);
  message.writeUInt32BE(encodedHeaders.length, 4);
  message.writeUInt32BE(crc32(message.subarray(0, 8)), 8);
  encodedHeaders.copy(message, PRELUDE_BYTES);
  message.set(payload, PRELUDE_BYTES + encodedHeaders.length);
  message.writeUInt32BE(crc32(message.subarray(0, total - MESSAGE_CRC_BYTES)), total - MESSAGE_CRC_BYTES);
  return message;
}

/** An `event` message of `eventType` (the event stream member it is, e.g. PayloadChunk), as the SDKs read one. */
export function encodeEvent(eventType: string, contentType: string, payload: Uint8Array): Buffer {
  return encodeEventMessage({ ':event-type': eventType, ':content-type': contentType, ':message-type': 'event' }, payload);
}

function encodeStringHeaders(headers: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const nameBytes = Buffer.from(name, 'utf8');
    const valueBytes = Buffer.from(value, 'utf8');
    if (nameBytes.length > MAX_HEADER_NAME_BYTES) throw new RangeError(`event stream header name over ${MAX_HEADER_NAME_BYTES} bytes: ${name}`);
    if (valueBytes.length > MAX_STRING_VALUE_BYTES) throw new RangeError(`event stream header ${name}: value over ${MAX_STRING_VALUE_BYTES} bytes`);
    const header = Buffer.allocUnsafe(1 + nameBytes.length + 1 + 2 + valueBytes.length);
    header.writeUInt8(nameBytes.length, 0);
    nameBytes.copy(header, 1);
    header.writeUInt8(STRING_VALUE_TYPE, 1 + nameBytes.length);
    header.writeUInt16BE(valueBytes.length, 2 + nameBytes.length);
    valueBytes.copy(header, 4 + nameBytes.length);
    parts.push(header);
  }
  return Buffer.concat(parts);
}
