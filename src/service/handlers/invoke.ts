// Invoke (synchronous): checks the request as Lambda does, hands the event to the FunctionInvoker and answers
// with the outcome in Invoke's HTTP terms. Event (asynchronous) invokes come later, with src/delivery/.
import type { IncomingHttpHeaders } from 'node:http';
import { firstHeader } from '../../http/headers.ts';
import { checkInvokePayload } from '../../http/invoke-payload.ts';
import type { InvokeOutcome } from '../../runtime-api/types.ts';
import type { ServiceResponse } from '../http-io.ts';
import type { InvokeCall } from '../invoker.ts';
import { ThrottleError } from '../../scheduling/throttle.ts';
import { asLambdaError, invalidParameter, invalidRequestContent, invalidValue, LambdaError, serviceError } from '../lambda-error.ts';
import { current, notActive } from '../function-lifecycle.ts';
import { findFunction, type OperationHandler, type ServiceRequest } from './context.ts';
import { parseFunctionName, resolveQualifier } from '../function-name.ts';

export const MAX_CLIENT_CONTEXT_BYTES = 3_583;
/** X-Amz-Log-Result carries at most the last 4 KB of the invoke's log. */
export const LOG_TAIL_BYTES = 4_096;

const INVOCATION_TYPES = ['RequestResponse', 'Event', 'DryRun'];

export const invoke: OperationHandler = async (context, request) => {
  const invocationType = firstHeader(request.headers, 'x-amz-invocation-type') ?? 'RequestResponse';
  if (!INVOCATION_TYPES.includes(invocationType)) {
    throw invalidValue(invocationType, 'invocationType', 'Member must satisfy enum value set: [Event, RequestResponse, DryRun]');
  }
  const fn = await current(context, await findFunction(context, request));
  // A Pending function is not invoked (function-lifecycle.ts); one whose update is in progress is, as in Lambda.
  if (fn.state === 'Pending') throw notActive(fn);
  if (invocationType === 'DryRun') return { status: 204, headers: { 'X-Amz-Executed-Version': '$LATEST' } };
  if (invocationType === 'Event') {
    throw invalidParameter('Asynchronous (Event) invocations are not supported yet by lambkin serve');
  }

  const call: InvokeCall = {
    payload: jsonPayload(request.body),
    clientContext: clientContext(request.headers),
    traceId: firstHeader(request.headers, 'x-amzn-trace-id'),
    logTail: firstHeader(request.headers, 'x-amz-log-type') === 'Tail',
    invokedFunctionArn: invokedArn(fn.arn, request),
  };
  const observer = context.invokeObserver;
  let result;
  // Concurrency is admitted before any environment is touched; the scaling rate only when one must be started.
  let admission;
  try {
    admission = context.scheduler.admit(fn.name);
    result = await context.invoker.invoke(fn, call, { beforeColdStart: admission.coldStart });
  } catch (error) {
    admission?.release();
    const refusal = lambdaErrorOf(error, fn.name);
    if (refusal.status === 429) observer?.throttled(fn.name, String(refusal.fields.Reason ?? 'Unknown'));
    throw refusal;
  }
  const { outcome } = result;
  const report = (durationMs: number, error: boolean) => {
    admission.release();
    observer?.invoked(fn.name, {
      error,
      durationMs,
      coldStart: result.coldStart ?? false,
      provisioned: result.provisioned ?? false,
      ...(result.initDurationMs !== undefined ? { initDurationMs: result.initDurationMs } : {}),
    });
  };
  // A streamed response is in flight until its runtime has finished it.
  if (outcome.kind === 'streaming') {
    outcome.end.then(
      ({ durationMs, trailers }) => report(durationMs, trailers.errorType !== undefined),
      () => report(0, true),
    );
  } else {
    report('durationMs' in outcome ? outcome.durationMs : 0, outcome.kind !== 'success');
  }
  const response = outcomeResponse(outcome);
  if (call.logTail) {
    const tail = Buffer.from(result.logTail ?? '', 'utf8');
    response.headers!['X-Amz-Log-Result'] = tail.subarray(Math.max(0, tail.length - LOG_TAIL_BYTES)).toString('base64');
  }
  return response;
};

/** A refusal in the Lambda API's terms: throttles become 429 with their Reason and Retry-After. */
function lambdaErrorOf(error: unknown, functionName: string): LambdaError {
  if (error instanceof ThrottleError) {
    const headers: Record<string, string> = error.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(error.retryAfterSeconds) };
    return new LambdaError(429, 'TooManyRequestsException', error.message, { Reason: error.reason }, headers);
  }
  const known = asLambdaError(error);
  if (known) return known;
  // The image is missing, the engine is down: the caller learns why, and the server carries on.
  return serviceError(`lambkin could not run function ${functionName}: ${(error as Error).message ?? String(error)}`);
}

function outcomeResponse(outcome: InvokeOutcome): ServiceResponse & { headers: Record<string, string> } {
  const headers: Record<string, string> = { 'X-Amz-Executed-Version': '$LATEST' };
  const failed = { ...headers, 'Content-Type': 'application/json', 'X-Amz-Function-Error': 'Unhandled' };
  switch (outcome.kind) {
    case 'success':
      return { status: 200, headers: { ...headers, 'Content-Type': outcome.contentType }, body: outcome.body };
    case 'streaming':
      // Passed through as it arrives; InvokeWithResponseStream's event-stream framing comes later.
      return {
        status: 200,
        headers: { ...headers, 'Content-Type': outcome.contentType },
        body: outcome.body,
        trailers: outcome.end.then(({ trailers }): Record<string, string> => (trailers.errorType ? { 'X-Amz-Function-Error': 'Unhandled' } : {})),
      };
    case 'function-error':
    case 'init-error':
      return { status: 200, headers: failed, body: outcome.body };
    case 'timeout':
    case 'runtime-exit':
      return { status: 200, headers: failed, body: Buffer.from(JSON.stringify(outcome.error)) };
  }
}

/** The event must be JSON; an empty body is the empty object, as in Lambda. */
/** The event to deliver: the body checked as Lambda checks it (src/http/invoke-payload.ts). */
function jsonPayload(body: Buffer): Buffer {
  const check = checkInvokePayload(body);
  if (!check.ok) throw invalidRequestContent(check.message);
  return check.payload;
}

function clientContext(headers: IncomingHttpHeaders): string | undefined {
  const encoded = firstHeader(headers, 'x-amz-client-context');
  if (encoded === undefined || encoded === '') return undefined;
  if (Buffer.byteLength(encoded) > MAX_CLIENT_CONTEXT_BYTES) {
    throw invalidParameter(
      "1 validation error detected: Value at 'clientContext' failed to satisfy constraint: " +
        `Member must have length less than or equal to ${MAX_CLIENT_CONTEXT_BYTES}`,
    );
  }
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  try {
    JSON.parse(decoded);
  } catch {
    throw invalidParameter('Client context must be a valid Base64-encoded JSON object.');
  }
  return decoded;
}

/** The function's ARN with the qualifier the caller named (findFunction has already refused any but $LATEST). */
function invokedArn(arn: string, request: ServiceRequest): string {
  const qualifier = resolveQualifier(parseFunctionName(request.functionName ?? ''), request.query.get('Qualifier'));
  return qualifier === undefined ? arn : `${arn}:${qualifier}`;
}
