// What the service needs from whatever runs functions: hand it a function and an event, get the outcome back.
// The Docker environment pool implements it (src/environments/); tests run the runtime as a local process.
import type { InvokeOutcome } from '../runtime-api/types.ts';
import type { FunctionRecord } from './function-record.ts';

export interface InvokeCall {
  /** The event, already checked to be JSON (an empty body has become `{}`). */
  payload: Buffer;
  /** Decoded client context (JSON text, not base64). */
  clientContext?: string;
  /** X-Amzn-Trace-Id as the caller sent it. */
  traceId?: string;
  /** Whether the caller asked for the log tail (X-Amz-Log-Type: Tail). */
  logTail: boolean;
}

export interface InvokeResult {
  outcome: InvokeOutcome;
  /** The end of the invoke's log (at most the last 4 KB are sent), when `logTail` was asked for. */
  logTail?: string;
}

/**
 * Runs one invoke of a function. Throwing a LambdaError answers the caller with it (TooManyRequestsException,
 * ResourceNotReadyException); any other error (image missing, Docker down) becomes a ServiceException.
 */
export interface FunctionInvoker {
  invoke(fn: FunctionRecord, request: InvokeCall): Promise<InvokeResult>;
  /**
   * The function was updated or deleted: its environments are stale. Idle ones go now, busy ones when their
   * invoke ends (an invoker without environments has nothing to do).
   */
  retire?(functionName: string): void;
}
