// Errors that cross the Lambda API. The SDK (restJson1) names the error from the x-amzn-ErrorType header and
// reads its text from the member the service model gives that error (`Message` for ResourceNotFoundException,
// `message` for most), so every failure the service answers is one of these, in Lambda's own terms.
// The stores refuse in their own terms (storage/errors.ts); asLambdaError says each as Lambda does.
import { tooManyEntriesMessage, unzippedSizeMessage, zippedSizeMessage } from '../limits/package-limits.ts';
import { LAMBDA_MODEL } from './model/lambda-model.ts';
import { modelOperationAt } from './model/operation-routes.ts';
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

  /**
   * The wire body, as the real service sends it: the caller's fault is `User`, ours is `Service`; the text under the
   * member the model names for this error (an error the model does not know, ValidationException for one, `message`).
   */
  toBody(): string {
    const messageMember = LAMBDA_MODEL.errorMessageMembers[this.type] ?? 'message';
    return JSON.stringify({ Type: this.status >= 500 ? 'Service' : 'User', [messageMember]: this.message, ...this.fields });
  }
}

/** AccessDeniedException as Lambda answers a function ARN of another account: 403, its message null. */
class AccessDeniedNoMessage extends LambdaError {
  override toBody(): string {
    return JSON.stringify({ Message: null });
  }
}

export const resourceNotFound = (message: string) => new LambdaError(404, 'ResourceNotFoundException', message);
export const functionNotFound = (arn: string) => resourceNotFound(`Function not found: ${arn}`);
export const invalidParameter = (message: string) => new LambdaError(400, 'InvalidParameterValueException', message);
export const invalidRequestContent = (message: string) => new LambdaError(400, 'InvalidRequestContentException', message);
/** Lambda's words for a value that breaks a field's constraint. */
const constraintMessage = (value: unknown, field: string, rule: string) =>
  `1 validation error detected: Value '${String(value)}' at '${field}' failed to satisfy constraint: ${rule}`;
/** A field's value breaks a rule the service applies beyond the API model's (Lambda's 900 s timeout, for one). */
export const invalidValue = (value: unknown, field: string, rule: string) => invalidParameter(constraintMessage(value, field, rule));
/** A field's value breaks a constraint of the API model (model/validate-input.ts finds those). */
export const validationError = (value: unknown, field: string, rule: string) =>
  new LambdaError(400, 'ValidationException', constraintMessage(value, field, rule));
/** Input that breaks the API model's constraints: `message` is AWS's ("N validation errors detected: ..."). */
export const validationException = (message: string) => new LambdaError(400, 'ValidationException', message);
/** A function ARN naming another region than the service's. */
export const otherRegion = (region: string, serviceRegion: string) =>
  resourceNotFound(`Functions from '${region}' are not reachable in this region ('${serviceRegion}')`);
/** A function ARN naming another account than the service's. */
export const otherAccount = () => new AccessDeniedNoMessage(403, 'AccessDeniedException', '');
export const resourceConflict = (message: string) => new LambdaError(409, 'ResourceConflictException', message);
/**
 * A request over its operation's size limit. AWS answers RequestEntityTooLargeException (not the model's
 * RequestTooLargeException): test_lambda_api.snapshot.json, test_oversized_request_create_lambda, and the same code
 * for an Invoke over 6 MB ("Request must be smaller than 6291456 bytes for the InvokeFunction operation").
 */
export const requestTooLarge = (limit: number, operation: string) =>
  new LambdaError(413, 'RequestEntityTooLargeException', `Request must be smaller than ${limit} bytes for the ${operation} operation`);
/** A zip sent inline over Lambda's 50 MB (test_oversized_zipped_create_lambda). */
export const zippedTooLarge = (maxZippedBytes: number) => new LambdaError(413, 'RequestEntityTooLargeException', zippedSizeMessage(maxZippedBytes));
export const unsupportedMediaType = (message: string) => new LambdaError(415, 'UnsupportedMediaTypeException', message);
export const serviceError = (message: string) => new LambdaError(500, 'ServiceException', message);
/**
 * A request lambkin does not route: an operation of the Lambda API it does not serve yet is named (501: the
 * request is well formed, the service lacks the function); anything else is no operation at all (404).
 */
export function unknownOperation(method: string, path: string): LambdaError {
  const operation = modelOperationAt(method, path, new URLSearchParams());
  if (operation === undefined) return new LambdaError(404, 'UnknownOperationException', `Unknown operation: ${method} ${path}`);
  return new LambdaError(501, 'UnsupportedOperationException', `lambkin does not support the ${operation} operation yet (${method} ${path}).`);
}
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
