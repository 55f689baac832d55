// A streamed HTTP-integration answer (`awslambda.HttpResponseStream.from`): a JSON prelude with the status, headers
// and cookies, eight NUL bytes, then the body. The prelude is read here; the body bytes after it are handed on as
// they come.
import { MalformedResponse } from './url-response.ts';

export const HTTP_INTEGRATION_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
const SEPARATOR = Buffer.alloc(8);
/** A prelude is small (status, headers, cookies); one that never ends is not read forever. */
const MAX_PRELUDE_BYTES = 1024 * 1024;

export interface SplitStream {
  prelude: Record<string, unknown>;
  /** Body bytes that came with the prelude. */
  first: Buffer;
  /** The rest of the body, as the function writes it. */
  rest: AsyncIterator<unknown>;
}

/** Reads a stream up to the end of its prelude. A stream that ends without one has no HTTP metadata: MalformedResponse. */
export async function splitPrelude(body: AsyncIterable<unknown>): Promise<SplitStream> {
  const rest = body[Symbol.asyncIterator]();
  let seen = Buffer.alloc(0);
  for (;;) {
    const next = await rest.next();
    if (next.done) break;
    seen = Buffer.concat([seen, Buffer.from(next.value as Uint8Array)]);
    const at = seen.indexOf(SEPARATOR);
    if (at !== -1) return { prelude: parsePrelude(seen.subarray(0, at)), first: seen.subarray(at + SEPARATOR.length), rest };
    if (seen.length > MAX_PRELUDE_BYTES) break;
  }
  throw new MalformedResponse('the streamed response has no HTTP prelude');
}

/** Splits a whole HTTP-integration answer (a streaming function behind a BUFFERED URL). */
export function splitWholePrelude(bytes: Buffer): { prelude: Record<string, unknown>; body: Buffer } {
  const at = bytes.indexOf(SEPARATOR);
  if (at === -1) throw new MalformedResponse('the response has no HTTP prelude');
  return { prelude: parsePrelude(bytes.subarray(0, at)), body: bytes.subarray(at + SEPARATOR.length) };
}

function parsePrelude(json: Buffer): Record<string, unknown> {
  let prelude: unknown;
  try {
    prelude = JSON.parse(json.toString('utf8') || '{}');
  } catch {
    throw new MalformedResponse('the HTTP prelude is not JSON');
  }
  if (prelude === null || typeof prelude !== 'object' || Array.isArray(prelude)) throw new MalformedResponse('the HTTP prelude is not an object');
  return prelude as Record<string, unknown>;
}
