// Invoke (synchronous): the Lambda API's front on the one invocation path (src/invocation/invoke-function.ts), with
// the request read and the outcome answered in Invoke's HTTP terms (src/invocation/, shared with the emulator).
// Event (asynchronous) invokes come later, with src/delivery/.
import { invocationTarget, runTarget } from '../../invocation/invoke-function.ts';
import { parseInvocationType, parseInvokeRequest } from '../../invocation/invoke-request.ts';
import { dryRunResponse, invokeResponse } from '../../invocation/invoke-response.ts';
import { invalidParameter } from '../lambda-error.ts';
import type { OperationHandler } from './context.ts';

export const invoke: OperationHandler = async (context, request) => {
  const invocationType = parseInvocationType(request.headers);
  const target = await invocationTarget(context, request.functionName ?? '', request.query.get('Qualifier'));
  if (invocationType === 'DryRun') return dryRunResponse(target.executedVersion);
  if (invocationType === 'Event') {
    throw invalidParameter('Asynchronous (Event) invocations are not supported yet by lambkin serve');
  }
  const { payload, clientContext, traceId, logTail } = parseInvokeRequest(request.headers, request.body);
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
