// What the service needs from whatever runs functions: hand it a function and an event, get the outcome back.
// The Docker environment pool implements it (src/environments/); tests run the runtime as a local process.
import type { ResolvedImage } from '../environments/image-facts.ts';
import type { PoolSnapshot } from '../environments/pool-snapshot.ts';
import type { ProvisionedStatus } from '../environments/provisioned-concurrency.ts';
import type { InvokeOutcome } from '../runtime-api/types.ts';
import type { FunctionRecord } from './function-record.ts';

export interface InvokeCall {
  /**
   * The invoke's id: the caller's x-amzn-RequestId, the function's context.awsRequestId (Lambda-Runtime-Aws-Request-Id),
   * and the id its START, END and REPORT lines name.
   */
  requestId: string;
  /** The event, already checked to be JSON (an empty body has become `{}`). */
  payload: Buffer;
  /** Decoded client context (JSON text, not base64). */
  clientContext?: string;
  /** X-Amzn-Trace-Id as the caller sent it. */
  traceId?: string;
  /** Whether the caller asked for the log tail (X-Amz-Log-Type: Tail). */
  logTail: boolean;
  /**
   * The ARN the function sees as context.invokedFunctionArn: qualified when the caller named a qualifier
   * (`name:$LATEST`, ?Qualifier=$LATEST), as Lambda gives it; the function's own ARN when omitted.
   */
  invokedFunctionArn?: string;
}

export interface InvokeResult {
  outcome: InvokeOutcome;
  /** The end of the invoke's log (at most the last 4 KB are sent), when `logTail` was asked for. */
  logTail?: string;
  /**
   * The same once the invoke is over: for a streamed answer, with the output, END and REPORT that follow the moment
   * its head goes out (InvokeWithResponseStream's InvokeComplete carries it). Absent: `logTail` is already final.
   */
  finalLogTail?: Promise<string>;
  /** The invoke waited for a new environment's init (Lambda's cold start). */
  coldStart?: boolean;
  /** The init phase's duration, on a cold start. */
  initDurationMs?: number;
  /** The invoke ran on a provisioned-concurrency environment. */
  provisioned?: boolean;
}

export interface InvokeOptions {
  /** Asked before the invoke needs a new environment; throwing (a scaling-rate throttle) refuses it. */
  beforeColdStart?: () => void;
}

/**
 * Runs one invoke of a function. Throwing a LambdaError answers the caller with it (TooManyRequestsException,
 * ResourceNotReadyException); any other error (image missing, Docker down) becomes a ServiceException.
 */
export interface FunctionInvoker {
  invoke(fn: FunctionRecord, request: InvokeCall, options?: InvokeOptions): Promise<InvokeResult>;
  /**
   * A version's environments are stale ($LATEST updated, a version or the function deleted); `environmentKey` names
   * the version (src/invocation/environment-key.ts: the function's name for $LATEST). Idle ones go now, busy ones when
   * their invoke ends (an invoker without environments has nothing to do).
   */
  retire?(environmentKey: string): void;
  /** Provisioned concurrency for `fn`'s version (a published version's record; 0 removes it). */
  provision?(fn: FunctionRecord, requested: number): void;
  provisionedStatus?(environmentKey: string): ProvisionedStatus | undefined;
  /** The environments held now, for /metrics and `lambkin status`. */
  snapshot?(): PoolSnapshot;
  /**
   * An image function's ImageUri resolved to the image its environments would run now (its digest, for CodeSha256
   * and ResolvedImageUri). Throws InvalidParameterValueException, in Lambda's words, for an image the engine does
   * not have or a name it cannot read. Absent: an invoker that runs no images (the tests' in-process ones).
   */
  resolveImage?(imageUri: string): Promise<ResolvedImage>;
}
