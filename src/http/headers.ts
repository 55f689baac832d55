// Reading request headers and writing whole answers the same way in every lambkin server: a header's one value,
// an answer with its Content-Type, and the rule for a failure that comes after the answer's head went out.
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerResponse } from 'node:http';

export const JSON_CONTENT_TYPE = 'application/json';

/** A request header's value; the first when it came more than once. */
export function firstHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Writes a whole answer: the caller's `headers`, then the Content-Type (which they cannot override), then the body. */
export function sendBody(res: ServerResponse, status: number, contentType: string, body: string | Buffer, headers: OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { ...headers, 'Content-Type': contentType }).end(body);
}

/** Writes a whole JSON answer; `json` is the text (or bytes) already serialised. */
export function sendJson(res: ServerResponse, status: number, json: string | Buffer, headers: OutgoingHttpHeaders = {}): void {
  sendBody(res, status, JSON_CONTENT_TYPE, json, headers);
}

export function sendText(res: ServerResponse, status: number, text: string): void {
  sendBody(res, status, 'text/plain', text);
}

/**
 * A failure while serving a request: answered by `answer` while nothing has been written, else the connection is
 * cut, since a head (and perhaps a streamed body) already sent cannot take an error any more; the client sees the
 * answer break off instead of ending as if whole.
 */
export function answerOrCut(res: ServerResponse, answer: () => void): void {
  if (res.headersSent) res.destroy();
  else answer();
}
