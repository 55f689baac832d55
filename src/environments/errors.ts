// Errors that cross the environments API carry the Lambda error type a caller of Invoke would see, so the
// service can hand them on unchanged (a missing image is the function's problem, a dead engine is ours).
export type EnvironmentErrorType =
  /** The engine is unreachable or failed in a way the function cannot fix. */
  | 'ServiceException'
  /** The function's image does not exist on the engine. */
  | 'ResourceNotFoundException'
  /** The engine refused the container's configuration (bad bind mount, bad option). */
  | 'InvalidParameterValueException'
  /** The machine's memory budget is taken by busy environments: nothing idle can be evicted to make room. */
  | 'TooManyRequestsException';

export class LambdaEnvironmentError extends Error {
  readonly errorType: EnvironmentErrorType;

  constructor(errorType: EnvironmentErrorType, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LambdaEnvironmentError';
    this.errorType = errorType;
  }
}
