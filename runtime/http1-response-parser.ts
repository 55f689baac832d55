// Reads one HTTP/1.1 response from a byte stream: status line, headers, and a body framed by Content-Length,
// chunked transfer coding, or the end of the connection. Just what the cold-path transport needs from the
// Runtime API; anything else is a parse error with an `HPE_` code, as Node's own parser reports it.
import type { Exchange } from './api-exchange.ts';

const MAX_HEADER_BYTES = 64 * 1024;
const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

export class HttpParseError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(`Parse Error: ${message}`);
    this.name = 'HttpParseError';
    this.code = code;
  }
}

export interface ParsedResponse {
  exchange: Exchange;
  /** False when the server said `Connection: close` (or the body ran to the end of the connection). */
  keepAlive: boolean;
}

type BodyFraming = { kind: 'length'; remaining: number } | { kind: 'chunked' } | { kind: 'until-close' };

export class Http1ResponseParser {
  #buffer: Buffer = Buffer.alloc(0);
  #status = 0;
  #headers: Record<string, string | string[]> | undefined;
  #framing: BodyFraming | undefined;
  #keepAlive = true;
  readonly #body: Buffer[] = [];
  #bodyBytes = 0;
  /** Chunked coding: bytes of the current chunk still to read, or -1 when a size line comes next. */
  #chunkRemaining = -1;
  #inTrailers = false;

  /** Feeds bytes; returns the response once it is complete. Throws HttpParseError on malformed input. */
  push(chunk: Buffer): ParsedResponse | undefined {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    if (!this.#headers && !this.#readHead()) return undefined;
    return this.#readBody();
  }

  /** The connection ended: a body framed by the end of the connection is complete now; anything else is not. */
  end(): ParsedResponse | undefined {
    if (this.#framing?.kind !== 'until-close') return undefined;
    this.#keepAlive = false;
    return this.#done();
  }

  #readHead(): boolean {
    const end = this.#buffer.indexOf(HEADER_END);
    if (end === -1) {
      if (this.#buffer.length > MAX_HEADER_BYTES) throw new HttpParseError('HPE_HEADER_OVERFLOW', 'Header overflow');
      return false;
    }
    const lines = this.#buffer.toString('latin1', 0, end).split('\r\n');
    this.#buffer = this.#buffer.subarray(end + HEADER_END.length);
    const status = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0] ?? '');
    if (!status) throw new HttpParseError('HPE_INVALID_CONSTANT', `Expected HTTP/, got ${JSON.stringify((lines[0] ?? '').slice(0, 40))}`);
    this.#status = Number(status[1]);

    const headers: Record<string, string | string[]> = {};
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon <= 0) throw new HttpParseError('HPE_INVALID_HEADER_TOKEN', `Invalid header line ${JSON.stringify(line.slice(0, 40))}`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      const previous = headers[name];
      headers[name] = previous === undefined ? value : Array.isArray(previous) ? [...previous, value] : [previous, value];
    }
    this.#headers = headers;
    this.#keepAlive = String(headers.connection ?? '').toLowerCase() !== 'close';

    const transferEncoding = String(headers['transfer-encoding'] ?? '').toLowerCase();
    const contentLength = headers['content-length'];
    if (this.#status === 204 || this.#status === 304 || (this.#status >= 100 && this.#status < 200)) {
      this.#framing = { kind: 'length', remaining: 0 };
    } else if (transferEncoding.endsWith('chunked')) {
      this.#framing = { kind: 'chunked' };
    } else if (typeof contentLength === 'string') {
      const length = Number(contentLength);
      if (!Number.isSafeInteger(length) || length < 0) throw new HttpParseError('HPE_INVALID_CONTENT_LENGTH', 'Invalid Content-Length');
      this.#framing = { kind: 'length', remaining: length };
    } else {
      this.#framing = { kind: 'until-close' };
    }
    return true;
  }

  #readBody(): ParsedResponse | undefined {
    const framing = this.#framing!;
    if (framing.kind === 'until-close') {
      this.#take(this.#buffer.length);
      return undefined;
    }
    if (framing.kind === 'length') {
      framing.remaining -= this.#take(Math.min(framing.remaining, this.#buffer.length));
      return framing.remaining === 0 ? this.#done() : undefined;
    }
    return this.#readChunks();
  }

  #readChunks(): ParsedResponse | undefined {
    for (;;) {
      if (this.#inTrailers) {
        // Trailers (none expected) end with an empty line.
        const end = this.#buffer.indexOf(CRLF);
        if (end === -1) return undefined;
        this.#buffer = this.#buffer.subarray(end + CRLF.length);
        if (end === 0) return this.#done();
        continue;
      }
      if (this.#chunkRemaining === -1) {
        const end = this.#buffer.indexOf(CRLF);
        if (end === -1) return undefined;
        const size = Number.parseInt(this.#buffer.toString('latin1', 0, end).split(';')[0]!.trim(), 16);
        if (!Number.isSafeInteger(size) || size < 0) throw new HttpParseError('HPE_INVALID_CHUNK_SIZE', 'Invalid chunk size');
        this.#buffer = this.#buffer.subarray(end + CRLF.length);
        if (size === 0) {
          this.#inTrailers = true;
          continue;
        }
        this.#chunkRemaining = size;
      }
      this.#chunkRemaining -= this.#take(Math.min(this.#chunkRemaining, this.#buffer.length));
      if (this.#chunkRemaining > 0) return undefined;
      // The CRLF after a chunk's data.
      if (this.#buffer.length < CRLF.length) {
        this.#chunkRemaining = 0;
        return undefined;
      }
      this.#buffer = this.#buffer.subarray(CRLF.length);
      this.#chunkRemaining = -1;
    }
  }

  #take(count: number): number {
    if (count > 0) {
      this.#body.push(this.#buffer.subarray(0, count));
      this.#bodyBytes += count;
      this.#buffer = this.#buffer.subarray(count);
    }
    return count;
  }

  #done(): ParsedResponse {
    const body = this.#body.length === 1 ? this.#body[0]! : Buffer.concat(this.#body, this.#bodyBytes);
    return { exchange: { status: this.#status, headers: this.#headers!, body }, keepAlive: this.#keepAlive };
  }
}
