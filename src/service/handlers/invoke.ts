// Invoke: the Lambda API's front on the one invocation path (src/invocation/invoke-function.ts), with the request read
// and the outcome answered in Invoke's HTTP terms (src/invocation/, shared with the emulator). An Event invoke is
// checked the same way, then queued (src/delivery/: stored before the 202) and run later on the same path.
import { invocationTarget, runTarget } from '../../invocation/invoke-function.ts';
import { parseInvocationType, parseInvokeRequest } from '../../invocation/invoke-request.ts';
import { dryRunResponse, invokeResponse } from '../../invocation/invoke-response.ts';
import { newEvent } from '../../delivery/event-queue.ts';
import type { InvocationTarget } from '../../invocation/invoke-function.ts';
import type { ServiceResponse } from '../http-io.ts';
import { invalidParameter, LambdaError } from '../lambda-error.ts';
import type { OperationHandler, ServiceContext, ServiceRequest } from './context.ts';

export const invoke: OperationHandler = async (context, request) => {
  const invocationType = parseInvocationType(request.headers);
  const target = await invocationTarget(context, request.functionName ?? '', request.query.get('Qualifier'));
  if (invocationType === 'DryRun') return dryRunResponse(target.executedVersion);
  const { payload, clientContext, traceId, logTail } = parseInvokeRequest(request.headers, request.body);
  if (invocationType === 'Event') return queueEvent(context, target, request, payload, traceId);
  const result = await runTarget(context, target, {
    // The id the caller gets as x-amzn-RequestId is the one the function sees and its log names.
    requestId: request.requestId,
    payload,
    ...(clientContext !== undefined ? { clientContext } : {}),
    ...(traceId !== undefined ? { traceId } : {}),
    logTail,
  });
  return invokeResponse(result.outcome, { executedVersion: result.executedVersion, logTail: logTail ? (result.logTail ?? '') : undefined });
};

/**
 * The deprecated InvokeAsync: an Event invoke of the unqualified function by another route, answered 202 with no body
 * (its one output, Status, is the HTTP status).
 */
export const invokeAsync: OperationHandler = async (context, request) => {
  const target = await invocationTarget(context, request.functionName ?? '', null);
  const { payload, traceId } = parseInvokeRequest(request.headers, request.body);
  return queueEvent(context, target, request, payload, traceId);
};

/** Lambda's limit on an Event invoke's payload: 1 MB since late 2025 (256 KB before). */
export const MAX_EVENT_PAYLOAD_BYTES = 1_048_576;

/**
 * An Event invoke: stored, then answered 202 with no body; the client context is not kept (Lambda gives it to
 * synchronous invokes only). The qualifier the caller named goes with it, so an alias routes each attempt anew.
 */
async function queueEvent(
  context: ServiceContext,
  target: InvocationTarget,
  request: ServiceRequest,
  payload: Buffer,
  traceId: string | undefined,
): Promise<ServiceResponse> {
  if (request.body.length > MAX_EVENT_PAYLOAD_BYTES) {
    // AWS's words (as its SDKs have reported them for this refusal since the 128 KB limit).
    throw new LambdaError(
      413,
      'RequestEntityTooLargeException',
      `${request.body.length} byte payload is too large for the Event invocation type (limit ${MAX_EVENT_PAYLOAD_BYTES} bytes)`,
    );
  }
  if (!context.asyncInvokes) throw invalidParameter('Asynchronous (Event) invocations need an event queue, and this service has none');
  await context.asyncInvokes.accept(
    newEvent({
      requestId: request.requestId,
      functionName: target.latest.name,
      ...(target.qualifier !== undefined ? { qualifier: target.qualifier } : {}),
      payload,
      ...(traceId !== undefined ? { traceId } : {}),
    }),
  );
  return { status: 202, headers: {}, body: Buffer.alloc(0) };
}
