// Errors that cross the Lambda API. The SDK (restJson1) names the error from the x-amzn-ErrorType header and
// reads its text from the member the service model gives that error (`Message` for ResourceNotFoundException,
// `message` for most), so every failure the service answers is one of these, in Lambda's own terms.
// The stores refuse in their own terms (storage/errors.ts); asLambdaError says each as Lambda does. The class and the
// refusals Invoke's own checks make live in src/invocation/lambda-error.ts (the emulator answers with them too).
import { tooManyEntriesMessage, unzippedSizeMessage, zippedSizeMessage } from '../limits/package-limits.ts';
import {
  accessDenied,
  invalidParameter,
  invalidRequestContent,
  invalidValue,
  LambdaError,
  requestTooLarge,
  resourceNotFound,
  serviceError,
  constraintMessage,
} from '../invocation/lambda-error.ts';

import { modelOperationAt } from './model/operation-routes.ts';
import { FunctionAlreadyExists, InvalidZip, TooManyZipEntries, UnzippedSizeTooLarge } from './storage/errors.ts';

export { accessDenied, invalidParameter, invalidRequestContent, invalidValue, LambdaError, requestTooLarge, resourceNotFound, serviceError };

/** AccessDeniedException as Lambda answers a function ARN of another account: 403, its message null. */
class AccessDeniedNoMessage extends LambdaError {
  override toBody(): string {
    return JSON.stringify({ Message: null });
  }
}

export const functionNotFound = (arn: string) => resourceNotFound(`Function not found: ${arn}`);
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
/** A zip sent inline over Lambda's 50 MB (test_oversized_zipped_create_lambda). */
export const zippedTooLarge = (maxZippedBytes: number) => new LambdaError(413, 'RequestEntityTooLargeException', zippedSizeMessage(maxZippedBytes));
export const unsupportedMediaType = (message: string) => new LambdaError(415, 'UnsupportedMediaTypeException', message);
/**
 * A request lambkin does not route: an operation of the Lambda API it does not serve yet is named (501: the
 * request is well formed, the service lacks the function); anything else is no operation at all (404).
 */
export function unknownOperation(method: string, path: string): LambdaError {
  const operation = modelOperationAt(method, path, new URLSearchParams());
  if (operation === undefined) return new LambdaError(404, 'UnknownOperationException', `Unknown operation: ${method} ${path}`);
  return new LambdaError(501, 'UnsupportedOperationException', `lambkin does not support the ${operation} operation yet (${method} ${path}).`);
}
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
