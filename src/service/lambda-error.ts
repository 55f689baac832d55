// Errors that cross the Lambda API. The SDK (restJson1) names the error from the x-amzn-ErrorType header and
// reads its text from `message`, so every failure the service answers is one of these, in Lambda's own terms.
// The stores refuse in their own terms (storage/errors.ts); asLambdaError says each as Lambda does.
import { tooManyEntriesMessage, unzippedSizeMessage } from '../limits/package-limits.ts';
import { FunctionAlreadyExists, InvalidZip, TooManyZipEntries, UnzippedSizeTooLarge } from './storage/errors.ts';

export class LambdaError extends Error {
  readonly status: number;
  readonly type: string;
  /** Extra body fields some errors carry (TooManyRequestsException's Reason, for one). */
  readonly fields: Record<string, unknown>;
  /** Extra response headers (Retry-After). */
  readonly headers: Record<string, string>;

  constructor(status: number, type: string, message: string, fields: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
    super(message);
    this.name = type;
    this.status = status;
    this.type = type;
    this.fields = fields;
    this.headers = headers;
  }

  /** The wire body, as the real service sends it: the caller's fault is `User`, ours is `Service`. */
  toBody(): string {
    return JSON.stringify({ Type: this.status >= 500 ? 'Service' : 'User', message: this.message, ...this.fields });
  }
}

export const resourceNotFound = (message: string) => new LambdaError(404, 'ResourceNotFoundException', message);
export const functionNotFound = (arn: string) => resourceNotFound(`Function not found: ${arn}`);
export const invalidParameter = (message: string) => new LambdaError(400, 'InvalidParameterValueException', message);
export const invalidRequestContent = (message: string) => new LambdaError(400, 'InvalidRequestContentException', message);
/** Lambda's words for a value that breaks a field's constraint. */
const constraintMessage = (value: unknown, field: string, rule: string) =>
  `1 validation error detected: Value '${String(value)}' at '${field}' failed to satisfy constraint: ${rule}`;
/** A field's value breaks its constraint, as most operations answer it. */
export const invalidValue = (value: unknown, field: string, rule: string) => invalidParameter(constraintMessage(value, field, rule));
/** A field's value breaks its constraint, as the layer operations (and a function's Layers) answer it. */
export const validationError = (value: unknown, field: string, rule: string) =>
  new LambdaError(400, 'ValidationException', constraintMessage(value, field, rule));
export const resourceConflict = (message: string) => new LambdaError(409, 'ResourceConflictException', message);
export const requestTooLarge = (limit: number, operation: string) =>
  new LambdaError(413, 'RequestTooLargeException', `Request must be smaller than ${limit} bytes for the ${operation} operation`);
export const unsupportedMediaType = (message: string) => new LambdaError(415, 'UnsupportedMediaTypeException', message);
export const serviceError = (message: string) => new LambdaError(500, 'ServiceException', message);
export const unknownOperation = (method: string, path: string) => new LambdaError(404, 'UnknownOperationException', `Unknown operation: ${method} ${path}`);
/** A request refused before it is read (a browser's): its body is not wanted, nor the connection kept. */
export const accessDenied = (message: string) => new LambdaError(403, 'AccessDeniedException', message, {}, { Connection: 'close' });
/** The service is stopping: 503, so that a client (and the SDK's retry logic) knows to try again later. */
export const serviceShuttingDown = (message: string) => new LambdaError(503, 'ServiceException', message, {}, { Connection: 'close' });

/**
 * A failure as the Lambda API answers it: a LambdaError as it is, a store's refusal (storage/errors.ts) in Lambda's
 * words; undefined for anything else (a fault of lambkin's own, answered as a ServiceException).
 */
export function asLambdaError(error: unknown): LambdaError | undefined {
  if (error instanceof LambdaError) return error;
  if (error instanceof FunctionAlreadyExists) return resourceConflict(`Function already exist: ${error.functionName}`);
  if (error instanceof InvalidZip) {
    return invalidParameter(
      error.reason === undefined
        ? 'Could not unzip uploaded file. Please check your file, then try to upload again.'
        : `Could not unzip uploaded file: ${error.reason}`,
    );
  }
  if (error instanceof TooManyZipEntries) return invalidParameter(`${tooManyEntriesMessage(error.entryCount, error.maxEntries)}.`);
  if (error instanceof UnzippedSizeTooLarge) return invalidParameter(unzippedSizeMessage(error.maxUnzippedBytes));
  return undefined;
}
