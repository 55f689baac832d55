// InvokeWithResponseStream: the Lambda API's streaming front on the one invocation path
// (src/invocation/invoke-function.ts). It is refused as Invoke is (not found, throttled, a bad request: ordinary JSON
// errors) until the function runs; from then on the answer is 200 and an event stream (src/invocation/stream-response.ts)
// that carries the function's answer as it is written and ends by telling whether the function failed.
// Only RequestResponse and DryRun exist here: the API model refuses Event before this runs.
import { invocationTarget, runTarget } from '../../invocation/invoke-function.ts';
import { parseInvocationType, parseInvokeRequest } from '../../invocation/invoke-request.ts';
import { dryRunResponse } from '../../invocation/invoke-response.ts';
import { EVENT_STREAM_CONTENT_TYPE, streamResponseBody } from '../../invocation/stream-response.ts';
import type { OperationHandler } from './context.ts';

export const invokeWithResponseStream: OperationHandler = async (context, request) => {
  const invocationType = parseInvocationType(request.headers);
  const target = await invocationTarget(context, request.functionName ?? '', request.query.get('Qualifier'));
  if (invocationType === 'DryRun') return dryRunResponse(target.executedVersion);
  const { payload, clientContext, traceId, logTail } = parseInvokeRequest(request.headers, request.body);
  const result = await runTarget(context, target, {
    // The id the caller gets as x-amzn-RequestId is the one the function sees and its log names.
    requestId: request.requestId,
    payload,
    ...(clientContext !== undefined ? { clientContext } : {}),
    ...(traceId !== undefined ? { traceId } : {}),
    logTail,
  });
  return {
    status: 200,
    headers: { 'X-Amz-Executed-Version': result.executedVersion, 'Content-Type': EVENT_STREAM_CONTENT_TYPE },
    body: streamResponseBody(result.outcome, { logTail: logTail ? (result.finalLogTail ?? result.logTail ?? '') : undefined }),
  };
};
