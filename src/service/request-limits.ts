// Lambda's limits on the size of a request, checked as soon as its body is read and before the API model's
// constraints, in AWS's words (test_lambda_api.snapshot.json, TestLambdaSizeLimits): the request as a whole, and a
// zip sent inline (Code.ZipFile, ZipFile, Content.ZipFile), which is checked first.
import { MAX_ZIPPED_BYTES } from '../limits/package-limits.ts';
import { MAX_INVOKE_REQUEST_BYTES } from '../http/invoke-payload.ts';
import { parseJsonObject } from './http-io.ts';
import { requestTooLarge, zippedTooLarge } from './lambda-error.ts';
import type { Operation } from './router.ts';

/**
 * Lambda's limit on a control-plane request (AWS: "Request must be smaller than 70167211 bytes for the
 * CreateFunction operation"): a 50 MB zip base64-encoded (69,905,067 bytes) and 256 KiB for the rest of the request.
 */
export const MAX_CONTROL_PLANE_REQUEST_BYTES = 70_167_211;

/** The operation name Lambda uses in its RequestEntityTooLargeException message. */
const LIMIT_NAMES: Partial<Record<Operation, string>> = { Invoke: 'InvokeFunction' };

/** Where each operation that takes a zip inline carries it. */
const INLINE_ZIP: Partial<Record<Operation, (input: Record<string, unknown>) => unknown>> = {
  CreateFunction: (input) => member(input.Code, 'ZipFile'),
  UpdateFunctionCode: (input) => input.ZipFile,
  PublishLayerVersion: (input) => member(input.Content, 'ZipFile'),
};

const member = (value: unknown, name: string): unknown => (typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined);

/** How many bytes `operation`'s request body may have. */
export function requestLimit(operation: Operation): number {
  return operation === 'Invoke' || operation === 'InvokeWithResponseStream' ? MAX_INVOKE_REQUEST_BYTES : MAX_CONTROL_PLANE_REQUEST_BYTES;
}

/** The refusal of a body over requestLimit(operation). */
export function requestOverLimit(operation: Operation) {
  return requestTooLarge(requestLimit(operation), LIMIT_NAMES[operation] ?? operation);
}

/**
 * Refuses a zip sent inline over 50 MB (AWS: 413 "Zipped size must be smaller than 52428800 bytes",
 * test_oversized_zipped_create_lambda). AWS checks it before the request's own limit; lambkin reads no further than
 * that limit, so a body over both is refused for the request's size: the zip's cannot be known without reading it all.
 */
export function checkInlineZipSize(operation: Operation, body: Buffer): void {
  const zipOf = INLINE_ZIP[operation];
  if (!zipOf || body.length === 0) return;
  const zip = zipOf(parseJsonObject(body));
  // The decoded size, without decoding: base64 is 3 bytes per 4 characters, less its padding.
  if (typeof zip === 'string' && Buffer.byteLength(zip, 'base64') > MAX_ZIPPED_BYTES) throw zippedTooLarge(MAX_ZIPPED_BYTES);
}
