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

/** The HTTP status of a docker-modem error (404 no such image/container, 409 conflict), if it has one. */
export function engineStatus(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** The engine's own words for an error, without docker-modem's "(HTTP code 404) no such container -" prefix. */
export function engineMessage(error: unknown): string {
  const json = (error as { json?: { message?: unknown } } | null)?.json;
  if (json && typeof json.message === 'string') return json.message;
  return error instanceof Error ? error.message : String(error);
}

/** Errors that mean no engine answers at all (socket missing, refused, reset). */
export function isEngineUnreachable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EACCES' || code === 'EPIPE';
}
