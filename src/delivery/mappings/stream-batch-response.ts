// A stream batch's answer under ReportBatchItemFailures: the function names the records that failed by sequence number,
// and Lambda resumes from the lowest of them (the records before it are done). An answer that is not a valid report
// (an empty or null itemIdentifier, one not in the batch, a malformed list) fails the whole batch, as on AWS; no
// report at all (null, {}, an empty list) is success.

export type BatchResponse = { kind: 'done' } | { kind: 'failed-from'; index: number } | { kind: 'all-failed' };

/** `sequenceNumbers`: the batch's records in order. */
export function readBatchResponse(payload: Buffer, sequenceNumbers: readonly string[]): BatchResponse {
  let answer: unknown;
  try {
    const text = payload.toString('utf8').trim();
    answer = text === '' ? null : JSON.parse(text);
  } catch {
    return { kind: 'done' };
  }
  if (answer === null || typeof answer !== 'object' || Array.isArray(answer)) return { kind: 'done' };
  const failures = (answer as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return { kind: 'done' };
  if (!Array.isArray(failures)) return { kind: 'all-failed' };
  let lowest: number | undefined;
  for (const failure of failures) {
    const identifier = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof identifier !== 'string' || identifier === '') return { kind: 'all-failed' };
    const index = sequenceNumbers.indexOf(identifier);
    if (index < 0) return { kind: 'all-failed' };
    lowest = lowest === undefined ? index : Math.min(lowest, index);
  }
  return lowest === undefined ? { kind: 'done' } : { kind: 'failed-from', index: lowest };
}
