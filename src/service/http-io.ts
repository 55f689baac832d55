// Reading requests and writing answers on node:http, in the Lambda API's conventions.
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { sendJson } from '../http/headers.ts';
import { invalidRequestContent, type LambdaError } from './lambda-error.ts';

export interface ServiceResponse {
  status: number;
  headers?: Record<string, string>;
  /** A JSON value to send as application/json; or raw bytes; or a stream to pass through. */
  json?: unknown;
  body?: Buffer | Readable;
  /** Trailers to add once a streamed body has ended. */
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
  sendJson(res, error.status, error.toBody(), { ...error.headers, 'x-amzn-ErrorType': error.type, 'x-amzn-RequestId': requestId });
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
  const trailers = response.trailers;
  if (trailers) headers.Trailer = 'X-Amz-Function-Error';
  res.writeHead(response.status, headers);
  body.pipe(res, { end: false });
  body.once('error', () => res.destroy());
  body.once('end', () => {
    if (!trailers) return void res.end();
    // A failure after the first byte can only be told in trailers.
    void trailers.then(
      (values) => {
        if (Object.keys(values).length > 0) res.addTrailers(values);
        res.end();
      },
      () => res.end(),
    );
  });
}
