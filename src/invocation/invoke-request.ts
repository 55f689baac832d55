// Invoke's request as the Lambda API reads it, for `lambkin serve` and the emulator alike: which invocation type,
// the event (checked as Lambda checks it), the client context, the trace header, whether the log tail is wanted.
// What breaks Lambda's rules is thrown as the LambdaError Lambda answers with.
import type { IncomingHttpHeaders } from 'node:http';
import { firstHeader } from '../http/headers.ts';
import { checkInvokePayload } from '../http/invoke-payload.ts';
import { invalidParameter, invalidRequestContent, invalidValue } from './lambda-error.ts';

export const INVOCATION_TYPES = ['RequestResponse', 'Event', 'DryRun'] as const;
export type InvocationType = (typeof INVOCATION_TYPES)[number];

/** X-Amz-Client-Context, base64 as sent, is at most this long (the API model's ClientContext). */
export const MAX_CLIENT_CONTEXT_BYTES = 3_583;

export interface InvokeRequest {
  invocationType: InvocationType;
  /** The event to deliver: JSON, as checked (an empty body is `{}`). */
  payload: Buffer;
  /** The client context decoded (JSON text, not base64); absent when none was sent. */
  clientContext?: string;
  /** X-Amzn-Trace-Id as the caller sent it. */
  traceId?: string;
  /** X-Amz-Log-Type: Tail: the caller wants X-Amz-Log-Result. */
  logTail: boolean;
}

/** X-Amz-Invocation-Type, RequestResponse when absent. */
export function parseInvocationType(headers: IncomingHttpHeaders): InvocationType {
  const value = firstHeader(headers, 'x-amz-invocation-type') ?? 'RequestResponse';
  if (!(INVOCATION_TYPES as readonly string[]).includes(value)) {
    throw invalidValue(value, 'invocationType', 'Member must satisfy enum value set: [Event, RequestResponse, DryRun]');
  }
  return value as InvocationType;
}

/** The whole request: throws the LambdaError Lambda answers a request breaking its rules with. */
export function parseInvokeRequest(headers: IncomingHttpHeaders, body: Buffer): InvokeRequest {
  const invocationType = parseInvocationType(headers);
  const check = checkInvokePayload(body);
  if (!check.ok) throw invalidRequestContent(check.message);
  const request: InvokeRequest = { invocationType, payload: check.payload, logTail: firstHeader(headers, 'x-amz-log-type') === 'Tail' };
  const clientContext = parseClientContext(firstHeader(headers, 'x-amz-client-context'));
  if (clientContext !== undefined) request.clientContext = clientContext;
  const traceId = firstHeader(headers, 'x-amzn-trace-id');
  if (traceId !== undefined) request.traceId = traceId;
  return request;
}

function parseClientContext(encoded: string | undefined): string | undefined {
  if (encoded === undefined || encoded === '') return undefined;
  if (Buffer.byteLength(encoded) > MAX_CLIENT_CONTEXT_BYTES) {
    throw invalidParameter(
      "1 validation error detected: Value at 'clientContext' failed to satisfy constraint: " +
        `Member must have length less than or equal to ${MAX_CLIENT_CONTEXT_BYTES}`,
    );
  }
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  try {
    JSON.parse(decoded);
  } catch {
    throw invalidParameter('Client context must be a valid Base64-encoded JSON object.');
  }
  return decoded;
}
