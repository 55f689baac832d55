// The runtime's main loop: take an event from /next, hand it to the handler, deliver the outcome, repeat.
// This is the hot path measured by the benchmark, so each invoke does only what it must: one context object,
// one invocation object, and no awaits other than the API exchanges and the invocation's outcome.
//
// With several invokes at once (AWS_LAMBDA_MAX_CONCURRENCY; each worker thread runs runConcurrentInvokeLoop, see
// multi-concurrency.ts) the loop does not wait for an invoke's outcome: it asks for the next event as soon as it has
// one, and starts the invoke in its own invoke-store context; the Runtime API caps how many are in flight. As on
// AWS then, _X_AMZN_TRACE_ID is left alone (one environment variable cannot hold several invokes' trace ids; the
// context and the invoke store have each invoke's), and, the event loop never emptying (a /next always waits), a
// callback handler's callback and a handler that returns undefined settle the invoke at once.
import { BufferedInvocation } from './buffered-invocation.ts';
import type { RuntimeConfig } from './config.ts';
import { InvokeContext, type CognitoIdentity } from './context.ts';
import { RuntimeError, type ErrorBody } from './errors.ts';
import type { LoadedHandler } from './handler-loader.ts';
import { reportInvokeError, setInFlight, type InFlightInvoke } from './in-flight.ts';
import { enterInvoke, runInInvoke } from './invoke-store.ts';
import type { NextInvocation, RuntimeApiClient } from './runtime-api-client.ts';

interface InvokeInputs {
  event: unknown;
  identity: CognitoIdentity | undefined;
  clientContext: unknown;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new RuntimeError('Runtime.UnmarshalError', `Unable to parse ${what} as JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Decodes the event and the JSON headers; a malformed one fails this invoke only (Runtime.UnmarshalError). */
function readInputs(next: NextInvocation): InvokeInputs {
  return {
    event: parseJson(next.body.toString('utf8'), 'the event'),
    identity:
      next.cognitoIdentity === undefined ? undefined : (parseJson(next.cognitoIdentity, 'the Lambda-Runtime-Cognito-Identity header') as CognitoIdentity),
    clientContext: next.clientContext === undefined ? undefined : parseJson(next.clientContext, 'the Lambda-Runtime-Client-Context header'),
  };
}

function thenOf(value: unknown): ((onValue: (v: unknown) => void, onError: (e: unknown) => void) => unknown) | undefined {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return undefined;
  const then = (value as { then?: unknown }).then;
  return typeof then === 'function' ? (then as never) : undefined;
}

function startBuffered(next: NextInvocation, api: RuntimeApiClient, handler: LoadedHandler, config: RuntimeConfig): InFlightInvoke {
  const loopCanEmpty = !config.multiConcurrent;
  const invocation = new BufferedInvocation(next.requestId, api, loopCanEmpty);
  setInFlight(invocation);
  let result: unknown;
  try {
    const inputs = readInputs(next);
    const context = new InvokeContext(next, config, inputs.identity, inputs.clientContext, invocation);
    invocation.context = context;
    // Called through a local so stack traces name the user's function, not a property of ours.
    const fn = handler.fn;
    result = handler.callbackStyle ? fn(inputs.event, context, invocation.makeCallback()) : fn(inputs.event, context);
    const then = thenOf(result);
    if (then !== undefined) {
      invocation.returnedPromise = true;
      then.call(
        result,
        (value) => invocation.resolveWith(value),
        (error) => invocation.rejectWith(error),
      );
    } else if (!handler.callbackStyle && (result !== undefined || !loopCanEmpty)) {
      invocation.resolveWith(result);
    }
    // Otherwise the outcome comes from the callback, context.done/succeed/fail, or the event loop emptying.
  } catch (error) {
    invocation.rejectWith(error);
  }
  return invocation;
}

type StreamingModule = typeof import('./streaming-invocation.ts');
let streamingModule: Promise<StreamingModule> | undefined;

async function startStreaming(next: NextInvocation, api: RuntimeApiClient, handler: LoadedHandler, config: RuntimeConfig): Promise<InFlightInvoke> {
  const { StreamingInvocation } = await (streamingModule ??= import('./streaming-invocation.ts'));
  const invocation = new StreamingInvocation(next.requestId, api, handler.highWaterMark);
  setInFlight(invocation);
  try {
    const inputs = readInputs(next);
    const context = new InvokeContext(next, config, inputs.identity, inputs.clientContext, invocation);
    const fn = handler.fn;
    invocation.followResult(fn(inputs.event, invocation.responseStream, context));
  } catch (error) {
    invocation.fail(error);
  }
  return invocation;
}

// The last trace id written to the environment, so that repeated values cost no setenv.
let lastTraceId: string | undefined;

function exposeTraceId(traceId: string | undefined): void {
  if (traceId === lastTraceId) return;
  lastTraceId = traceId;
  // X-Ray SDKs read the current trace from the environment.
  if (traceId === undefined) delete process.env._X_AMZN_TRACE_ID;
  else process.env._X_AMZN_TRACE_ID = traceId;
}

/** An error rebuilt from its body, for a caller that posts only the body. */
function bodyAsError(body: ErrorBody): Error {
  const error = new Error(body.errorMessage);
  Object.defineProperty(error, 'name', { value: body.errorType, configurable: true, writable: true });
  error.stack = body.trace.join('\n');
  return error;
}

/**
 * Every buffered invoke's error goes through api.postError: hooked there, once per process, each failed invoke
 * gets AWS's "Invoke Error" log line at no cost to the invokes that succeed (streamed invokes, whose errors go in
 * trailers, log it in StreamingInvocation.fail). The hook logs the thrown value the caller passes along.
 */
function logInvokeErrors(api: RuntimeApiClient): void {
  const postError = api.postError;
  api.postError = function (this: RuntimeApiClient, ...args: Parameters<RuntimeApiClient['postError']>) {
    const thrown = args.length > 2 ? (args as unknown[])[2] : bodyAsError(args[1]);
    reportInvokeError(thrown);
    return postError.apply(this, args);
  };
}

/** Serves events one at a time until the Runtime API fails; throws RuntimeApiError then. */
export async function runInvokeLoop(api: RuntimeApiClient, handler: LoadedHandler, config: RuntimeConfig): Promise<never> {
  logInvokeErrors(api);
  for (;;) {
    const next = await api.next();
    exposeTraceId(next.traceId);
    enterInvoke(next.requestId, next.traceId, next.tenantId);
    const invocation = handler.streaming ? await startStreaming(next, api, handler, config) : startBuffered(next, api, handler, config);
    await invocation.finished;
  }
}

/**
 * Serves events without waiting for their outcomes (several invokes at once, in a worker thread), until the Runtime
 * API fails; throws RuntimeApiError then. The next /next goes out before the invoke starts, so that a handler busy
 * on the CPU does not hold up the next event for the other invokes.
 */
export async function runConcurrentInvokeLoop(api: RuntimeApiClient, handler: LoadedHandler, config: RuntimeConfig): Promise<never> {
  logInvokeErrors(api);
  let next = await api.next();
  for (;;) {
    const following = api.next();
    const current = next;
    runInInvoke(current.requestId, current.traceId, current.tenantId, () => {
      if (handler.streaming) void startStreaming(current, api, handler, config);
      else startBuffered(current, api, handler, config);
    });
    next = await following;
  }
}
