// The `context` argument handlers receive (reference/node-runtime.md, "Context object"). A class so that every
// invoke's context has the same shape and getRemainingTimeInMillis lives once on the prototype; the fields
// users read (and log with JSON.stringify) are plain own properties.
import type { RuntimeConfig } from './config.ts';
import type { NextInvocation } from './runtime-api-client.ts';

/** How the context's legacy completion methods reach the invoke they belong to. */
export interface CompletionSink {
  /** done/succeed/fail: complete now, without waiting for the event loop. */
  completeNow(error: unknown, result?: unknown): void;
}

export interface CognitoIdentity {
  cognitoIdentityId?: string;
  cognitoIdentityPoolId?: string;
  [key: string]: unknown;
}

export class InvokeContext {
  readonly awsRequestId: string;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string | undefined;
  readonly memoryLimitInMB: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  readonly identity: CognitoIdentity | undefined;
  readonly clientContext: unknown;
  readonly tenantId: string | undefined;
  readonly xRayTraceId: string | undefined;
  /** For callback handlers: respond only once the event loop is empty (AWS's default) or as soon as called. */
  callbackWaitsForEmptyEventLoop = true;
  /** Legacy completion API (Node 0.10 era), still used by wrappers; each responds at once. Bound, so it can be passed around. */
  readonly done: (error?: unknown, result?: unknown) => void;
  readonly succeed: (result?: unknown) => void;
  readonly fail: (error: unknown) => void;
  readonly #deadlineMs: number;

  /** `identity` and `clientContext` arrive parsed: the caller reports malformed JSON as the invoke's error. */
  constructor(invocation: NextInvocation, config: RuntimeConfig, identity: CognitoIdentity | undefined, clientContext: unknown, sink: CompletionSink) {
    this.awsRequestId = invocation.requestId;
    this.functionName = config.functionName;
    this.functionVersion = config.functionVersion;
    this.invokedFunctionArn = invocation.invokedFunctionArn;
    this.memoryLimitInMB = config.memoryLimitInMB;
    this.logGroupName = config.logGroupName;
    this.logStreamName = config.logStreamName;
    this.identity = identity;
    this.clientContext = clientContext;
    this.tenantId = invocation.tenantId;
    this.xRayTraceId = invocation.traceId;
    this.#deadlineMs = invocation.deadlineMs;
    this.done = (error, result) => sink.completeNow(error, result);
    this.succeed = (result) => sink.completeNow(null, result);
    this.fail = (error) => sink.completeNow(error ?? new Error('context.fail() called without an error'));
  }

  /** Milliseconds until the invoke's deadline; 0 once it has passed. */
  getRemainingTimeInMillis(): number {
    const remaining = this.#deadlineMs - Date.now();
    // With no deadline from the API, report the longest function timeout Lambda allows (15 minutes).
    return Number.isNaN(remaining) ? 900_000 : Math.max(0, remaining);
  }
}
