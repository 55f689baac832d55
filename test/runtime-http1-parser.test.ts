// The runtime's cold-path HTTP/1.1 response reader, fed the byte shapes a Runtime API may answer with,
// also split at every possible point (TCP delivers bytes in arbitrary pieces).
import { describe, expect, it } from 'vitest';
import { Http1ResponseParser } from '../runtime/http1-response-parser.ts';

function parseWhole(raw: string) {
  return new Http1ResponseParser().push(Buffer.from(raw, 'latin1'));
}

/** Feeds `raw` split at every position; every split must give the same result. */
function parseEverySplit(raw: string) {
  const bytes = Buffer.from(raw, 'latin1');
  const results = [];
  for (let cut = 1; cut < bytes.length; cut++) {
    const parser = new Http1ResponseParser();
    expect(parser.push(bytes.subarray(0, cut))).toBeUndefined();
    results.push(parser.push(bytes.subarray(cut)));
  }
  return results;
}

describe('the cold-path HTTP/1.1 response parser', () => {
  const nextAnswer =
    'HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: abc\r\nLambda-Runtime-Deadline-Ms: 123\r\n' +
    'Content-Type: application/json\r\nContent-Length: 11\r\n\r\n{"hello":1}';

  it('reads a Content-Length response, with lower-cased header names', () => {
    const parsed = parseWhole(nextAnswer)!;
    expect(parsed.exchange.status).toBe(200);
    expect(parsed.exchange.headers['lambda-runtime-aws-request-id']).toBe('abc');
    expect(parsed.exchange.body.toString()).toBe('{"hello":1}');
    expect(parsed.keepAlive).toBe(true);
  });

  it('gives the same answer however the bytes are split', () => {
    for (const parsed of parseEverySplit(nextAnswer)) expect(parsed?.exchange.body.toString()).toBe('{"hello":1}');
  });

  it('decodes a chunked body, also split anywhere', () => {
    const chunked = 'HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n';
    expect(parseWhole(chunked)!.exchange.body.toString()).toBe('hello world');
    for (const parsed of parseEverySplit(chunked)) expect(parsed?.exchange.body.toString()).toBe('hello world');
  });

  it('reads a body that runs to the end of the connection, and says the connection is done', () => {
    const parser = new Http1ResponseParser();
    expect(parser.push(Buffer.from('HTTP/1.0 200 OK\r\n\r\npartial '))).toBeUndefined();
    expect(parser.push(Buffer.from('body'))).toBeUndefined();
    const parsed = parser.end()!;
    expect(parsed.exchange.body.toString()).toBe('partial body');
    expect(parsed.keepAlive).toBe(false);
  });

  it('honours Connection: close and empty-bodied statuses', () => {
    expect(parseWhole('HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok')!.keepAlive).toBe(false);
    expect(parseWhole('HTTP/1.1 204 No Content\r\n\r\n')!.exchange.body.length).toBe(0);
  });

  it('keeps repeated headers', () => {
    expect(parseWhole('HTTP/1.1 200 OK\r\nX-A: 1\r\nX-A: 2\r\nContent-Length: 0\r\n\r\n')!.exchange.headers['x-a']).toEqual(['1', '2']);
  });

  it('rejects what is not HTTP, with the parse-error codes Node uses', () => {
    expect(() => parseWhole('garbage that is not http\r\n\r\n')).toThrow(expect.objectContaining({ code: 'HPE_INVALID_CONSTANT' }));
    expect(() => parseWhole('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n')).toThrow(expect.objectContaining({ code: 'HPE_INVALID_CONTENT_LENGTH' }));
    expect(() => parseWhole('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')).toThrow(
      expect.objectContaining({ code: 'HPE_INVALID_CHUNK_SIZE' }),
    );
    expect(() => new Http1ResponseParser().push(Buffer.alloc(70 * 1024, 0x61))).toThrow(expect.objectContaining({ code: 'HPE_HEADER_OVERFLOW' }));
  });
});
