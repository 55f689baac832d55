// Reads a whole request body up to a limit, for every server that takes one: the Runtime API (a function's
// answer), the emulator's invoke path and the Lambda API (a caller's request). Past the limit only a count is
// kept, so an oversized body is refused without being buffered, and it is still drained, so the connection stays
// usable for the next request.
import type { IncomingMessage } from 'node:http';

/** What reading a body up to a limit came to: the bytes, the size it reached when it was over, or a peer gone. */
export type BodyRead = { ok: true; body: Buffer } | { ok: false; size: number } | { ok: false; aborted: true };

/** Reads the body; never rejects: a peer that goes away mid-body is `aborted`. */
export function readBody(req: IncomingMessage, limit: number): Promise<BodyRead> {
  return collect(req, limit, 'settle');
}

/** The whole body; undefined past `limit`. Rejects with the request's error when the caller goes away mid-body. */
export function readBodyUpTo(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return collect(req, limit, 'reject').then((read) => (read.ok ? read.body : undefined));
}

/**
 * `settle`: an abort resolves (node:http then emits no 'error', as nothing listens for it); `reject`: the
 * request's 'error' (which follows its 'aborted') rejects.
 */
function collect(req: IncomingMessage, limit: number, onAbort: 'settle' | 'reject'): Promise<BodyRead> {
  // A declared length past the limit: nothing need be kept from the first byte.
  const declared = Number(req.headers['content-length']);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = declared > limit;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      if (!over) chunks.push(chunk);
    });
    req.once('end', () => resolve(over ? { ok: false, size } : { ok: true, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size) }));
    if (onAbort === 'settle') req.once('aborted', () => resolve({ ok: false, aborted: true }));
    else req.once('error', reject);
  });
}
