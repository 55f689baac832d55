// Reads a whole request body up to a limit. Shared by the HTTP fronts that take events from callers (the
// emulator's invoke path, the Lambda API): both refuse a body past the limit without buffering it.
import type { IncomingMessage } from 'node:http';

/** The whole body; undefined (with the rest drained, so the connection stays usable) past `limit` bytes. */
export function readBodyUpTo(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.once('end', () => resolve(size > limit ? undefined : Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}
