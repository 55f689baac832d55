// The `context` argument handlers receive (reference/node-runtime.md, "Context object"). Its own enumerable
// keys are exactly AWS's 4.x context's, in its order, so that Object.keys, spreading and JSON.stringify give
// what they give on AWS: clientContext, identity, invokedFunctionArn, awsRequestId, tenantId, xRayTraceId,
// getRemainingTimeInMillis, functionName, functionVersion, memoryLimitInMB, logGroupName, logStreamName
// (present even when undefined). The callback-era members AWS 4.x dropped (callbackWaitsForEmptyEventLoop,
// done, succeed, fail) are kept for callback handlers, as accessors on the prototype: readable, writable and
// passable on their own, but not own keys, so they show nowhere AWS's context does not have them.
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

type Done = (error?: unknown, result?: unknown) => void;
type Succeed = (result?: unknown) => void;
type Fail = (error: unknown) => void;

/** With no deadline from the API, report the longest function timeout Lambda allows (15 minutes). */
const NO_DEADLINE_REMAINING_MS = 900_000;

export class InvokeContext {
  // Declared (and so defined) in AWS's key order.
  readonly clientContext: unknown;
  readonly identity: CognitoIdentity | undefined;
  readonly invokedFunctionArn: string | undefined;
  readonly awsRequestId: string;
  readonly tenantId: string | undefined;
  readonly xRayTraceId: string | undefined;
  /** Milliseconds until the invoke's deadline: negative once it has passed, as on AWS. An own key there too. */
  readonly getRemainingTimeInMillis: () => number;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly memoryLimitInMB: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  #sink: CompletionSink;
  #waitsForEmptyEventLoop = true;
  #done: Done | undefined;
  #succeed: Succeed | undefined;
  #fail: Fail | undefined;

  /** `identity` and `clientContext` arrive parsed: the caller reports malformed JSON as the invoke's error. */
  constructor(invocation: NextInvocation, config: RuntimeConfig, identity: CognitoIdentity | undefined, clientContext: unknown, sink: CompletionSink) {
    this.clientContext = clientContext;
    this.identity = identity;
    this.invokedFunctionArn = invocation.invokedFunctionArn;
    this.awsRequestId = invocation.requestId;
    this.tenantId = invocation.tenantId;
    this.xRayTraceId = invocation.traceId;
    const deadlineMs = invocation.deadlineMs;
    this.getRemainingTimeInMillis = Number.isNaN(deadlineMs) ? () => NO_DEADLINE_REMAINING_MS : () => deadlineMs - Date.now();
    this.functionName = config.functionName;
    this.functionVersion = config.functionVersion;
    this.memoryLimitInMB = config.memoryLimitInMB;
    this.logGroupName = config.logGroupName;
    this.logStreamName = config.logStreamName;
    this.#sink = sink;
  }

  /**
   * For callback handlers: respond only once the event loop is empty (AWS's default) or as soon as called. With
   * several invokes at once the loop never empties, and the callback responds at once (buffered-invocation.ts).
   */
  get callbackWaitsForEmptyEventLoop(): boolean {
    return this.#waitsForEmptyEventLoop;
  }

  set callbackWaitsForEmptyEventLoop(value: boolean) {
    this.#waitsForEmptyEventLoop = value;
  }

  // Legacy completion API (Node 0.10 era), still used by wrappers; each responds at once. Made on first use and
  // bound to this invoke, so it can be passed around; a wrapper may replace it, as it could on AWS 3.x.
  get done(): Done {
    this.#done ??= (error, result) => this.#sink.completeNow(error, result);
    return this.#done;
  }

  set done(fn: Done) {
    this.#done = fn;
  }

  get succeed(): Succeed {
    this.#succeed ??= (result) => this.#sink.completeNow(null, result);
    return this.#succeed;
  }

  set succeed(fn: Succeed) {
    this.#succeed = fn;
  }

  get fail(): Fail {
    this.#fail ??= (error) => this.#sink.completeNow(error ?? new Error('context.fail() called without an error'));
    return this.#fail;
  }

  set fail(fn: Fail) {
    this.#fail = fn;
  }
}
