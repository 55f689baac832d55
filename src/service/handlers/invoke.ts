// Invoke (synchronous): checks the request as Lambda does, hands the event to the FunctionInvoker and answers
// with the outcome in Invoke's HTTP terms (both shared with the emulator: src/invocation/). Event (asynchronous)
// invokes come later, with src/delivery/.
import { lambdaErrorOf } from '../../invocation/invoke-errors.ts';
import { parseInvocationType, parseInvokeRequest } from '../../invocation/invoke-request.ts';
import { dryRunResponse, invokeResponse } from '../../invocation/invoke-response.ts';
import type { InvokeCall } from '../invoker.ts';
import { invalidParameter } from '../lambda-error.ts';
import { current, notActive } from '../function-lifecycle.ts';
import { findFunction, type OperationHandler, type ServiceRequest } from './context.ts';
import { parseFunctionName, resolveQualifier } from '../function-name.ts';

const EXECUTED_VERSION = '$LATEST';

export const invoke: OperationHandler = async (context, request) => {
  const invocationType = parseInvocationType(request.headers);
  const fn = await current(context, await findFunction(context, request));
  // A Pending function is not invoked (function-lifecycle.ts); one whose update is in progress is, as in Lambda.
  if (fn.state === 'Pending') throw notActive(fn);
  if (invocationType === 'DryRun') return dryRunResponse(EXECUTED_VERSION);
  if (invocationType === 'Event') {
    throw invalidParameter('Asynchronous (Event) invocations are not supported yet by lambkin serve');
  }

  const { payload, clientContext, traceId, logTail } = parseInvokeRequest(request.headers, request.body);
  const call: InvokeCall = {
    // The id the caller gets as x-amzn-RequestId is the one the function sees and its log names.
    requestId: request.requestId,
    payload,
    ...(clientContext !== undefined ? { clientContext } : {}),
    ...(traceId !== undefined ? { traceId } : {}),
    logTail,
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
  return invokeResponse(outcome, { executedVersion: EXECUTED_VERSION, logTail: logTail ? (result.logTail ?? '') : undefined });
};

/** The function's ARN with the qualifier the caller named (findFunction has already refused any but $LATEST). */
function invokedArn(arn: string, request: ServiceRequest): string {
  const qualifier = resolveQualifier(parseFunctionName(request.functionName ?? ''), request.query.get('Qualifier'));
  return qualifier === undefined ? arn : `${arn}:${qualifier}`;
}
