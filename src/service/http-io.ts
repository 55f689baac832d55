// Reading requests and writing answers on node:http, in the Lambda API's conventions.
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { sendJson } from '../http/headers.ts';
import { writeInvokeResponse } from '../invocation/invoke-response.ts';
import { sendLambdaError } from '../invocation/lambda-error.ts';
import { invalidRequestContent, type LambdaError } from './lambda-error.ts';

export interface ServiceResponse {
  status: number;
  headers?: Record<string, string>;
  /** A JSON value to send as application/json; or raw bytes; or a stream to pass through. */
  json?: unknown;
  body?: Buffer | Readable;
  /** Trailers to add once a streamed body has ended (the `Trailer` header that declares them is in `headers`). */
  trailers?: Promise<Record<string, string>>;
}

/**
 * Each body's JSON, parsed once: the request checks (model/check-request.ts) read it before the operation's handler
 * does, and a CreateFunction body can be 70 MB. Neither changes it.
 */
const parsedBodies = new WeakMap<Buffer, Record<string, unknown>>();

/** A control-plane request body as a JSON object; `{}` when empty. */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  const parsed = parsedBodies.get(body);
  if (parsed) return parsed;
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw invalidRequestContent(`Could not parse request body into json: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidRequestContent('Could not parse request body into json: expected an object');
  }
  parsedBodies.set(body, value as Record<string, unknown>);
  return value as Record<string, unknown>;
}

export function sendError(res: ServerResponse, error: LambdaError, requestId: string): void {
  sendLambdaError(res, error, { 'x-amzn-RequestId': requestId });
}

export function sendResponse(res: ServerResponse, response: ServiceResponse, requestId: string): void {
  const headers: Record<string, string> = { 'x-amzn-RequestId': requestId, ...response.headers };
  if (response.json !== undefined) {
    sendJson(res, response.status, JSON.stringify(response.json), headers);
    return;
  }
  const body = response.body;
  if (body === undefined || Buffer.isBuffer(body)) {
    res.writeHead(response.status, headers).end(body);
    return;
  }
  // A stream, and the trailers that may follow it: only the invokes answer with one.
  // A caller gone mid-stream: stop reading the answer, so the function's stream is drained rather than stalled.
  res.once('close', () => {
    if (!res.writableFinished) body.destroy();
  });
  writeInvokeResponse(res, { status: response.status, headers, body, ...(response.trailers ? { trailers: response.trailers } : {}) });
}
