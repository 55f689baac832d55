// A poller's batch, run through the one invocation path like any other invoke (synchronously, as Lambda runs a
// mapping's batches), with its outcome in the terms pollers decide by: the function answered, failed, or the invoke
// was refused before it ran (throttled, the function or its qualifier gone, lambkin unable to start it).
import { randomUUID } from 'node:crypto';
import { invokeFunction, type InvocationHome } from '../../invocation/invoke-function.ts';
import type { LambdaError } from '../../invocation/lambda-error.ts';
import { wholeAnswer } from '../../invocation/whole-answer.ts';
import type { EventSourceMappingRecord } from './mapping.ts';

export type BatchOutcome =
  | { kind: 'success'; requestId: string; executedVersion: string; payload: Buffer }
  | { kind: 'function-error'; requestId: string; executedVersion: string; payload: Buffer }
  | { kind: 'refused'; requestId: string; error: LambdaError };

export async function invokeBatch(home: InvocationHome, mapping: EventSourceMappingRecord, payload: Buffer): Promise<BatchOutcome> {
  const requestId = randomUUID();
  const functionName = mapping.qualifier === undefined ? mapping.functionName : `${mapping.functionName}:${mapping.qualifier}`;
  try {
    const run = await invokeFunction(home, { functionName, qualifier: null, call: { requestId, payload, logTail: false } });
    const answer = await wholeAnswer(run.outcome);
    return { kind: answer.functionError ? 'function-error' : 'success', requestId, executedVersion: run.executedVersion, payload: answer.payload };
  } catch (error) {
    // invokeFunction throws LambdaErrors only (src/invocation/invoke-errors.ts).
    return { kind: 'refused', requestId, error: error as LambdaError };
  }
}
