// Whatever an invoke throws, as the Lambda API answers it: the scheduler's throttles, an environment that cannot be
// had, a store's refusal, or a fault of lambkin's own. The Invoke handler and the Docker invoker both say failures
// through this, so a 429 (its Reason, its Retry-After) is built in one place.
import { LambdaEnvironmentError } from '../environments/errors.ts';
import { ThrottleError, type ThrottleReason } from '../scheduling/throttle.ts';
import { asLambdaError } from '../service/lambda-error.ts';
import { invalidParameter, LambdaError, resourceNotFound, serviceError } from './lambda-error.ts';

/** TooManyRequestsException: its Reason in the body; Retry-After when waiting will help. */
export function tooManyRequests(reason: ThrottleReason, message: string, retryAfterSeconds: number | undefined): LambdaError {
  const headers: Record<string, string> = retryAfterSeconds === undefined ? {} : { 'Retry-After': String(retryAfterSeconds) };
  return new LambdaError(429, 'TooManyRequestsException', message, { Reason: reason }, headers);
}

/** A failure of an invoke of `functionName` as the caller is answered: always a LambdaError. */
export function lambdaErrorOf(error: unknown, functionName: string): LambdaError {
  if (error instanceof ThrottleError) return tooManyRequests(error.reason, error.message, error.retryAfterSeconds);
  if (error instanceof LambdaEnvironmentError) return environmentError(error);
  const known = asLambdaError(error);
  if (known) return known;
  // The engine failed in a way nothing above names: the caller learns why, and the server carries on.
  return serviceError(`lambkin could not run function ${functionName}: ${(error as Error)?.message ?? String(error)}`);
}

/** An environment that cannot be started, in the error type the environments API gave it. */
function environmentError(error: LambdaEnvironmentError): LambdaError {
  switch (error.errorType) {
    case 'TooManyRequestsException':
      // The memory budget: as when the account's concurrency is all in use, any invoke that ends frees room.
      return tooManyRequests('ConcurrentInvocationLimitExceeded', error.message, 1);
    case 'ResourceNotFoundException':
      return resourceNotFound(error.message);
    case 'InvalidParameterValueException':
      return invalidParameter(error.message);
    case 'ServiceException':
      return serviceError(error.message);
  }
}
