// The delivery worker's results (async-delivery.ts ResultSink) as Lambda sends them: the invocation record to the
// event's OnSuccess / OnFailure destination, and a failed event's payload to the version's dead-letter queue with the
// attributes Lambda puts on it (destination-record.ts, destinations.ts).
import type { EventEnd, ResultSink } from './async-delivery.ts';
import { destinationRecord, zeroReservedConcurrencyRecord, type DestinationRecord } from './destination-record.ts';
import type { Destinations } from './destinations.ts';

export class DestinationResults implements ResultSink {
  private readonly destinations: Destinations;

  constructor(destinations: Destinations) {
    this.destinations = destinations;
  }

  destination(arn: string, end: EventEnd): Promise<void> {
    return this.destinations.send(arn, recordOf(end));
  }

  deadLetter(arn: string, end: EventEnd): Promise<void> {
    return this.destinations.deadLetter(arn, end.event.payload, {
      requestId: end.event.requestId,
      // The invoke's status: 200, as on AWS, also when the function failed (the invoke itself went through).
      errorCode: 200,
      errorMessage: errorMessageOf(end),
    });
  }
}

/** The record of how an event ended. */
export function recordOf(end: EventEnd): DestinationRecord {
  const { event, functionArn } = end;
  if (end.condition === 'ZeroReservedConcurrency') return zeroReservedConcurrencyRecord({ requestId: event.requestId, functionArn, event: event.payload });
  return destinationRecord({
    requestId: event.requestId,
    functionArn,
    condition: end.condition,
    approximateInvokeCount: event.invokes,
    event: event.payload,
    executedVersion: end.result?.executedVersion ?? functionArn.slice(functionArn.lastIndexOf(':') + 1),
    ...(end.result?.functionError ? { functionError: end.result.functionError } : {}),
    response: end.result?.payload ?? Buffer.alloc(0),
  });
}

/** The function's error message (its error body's errorMessage), or why the event was given up when it never ran. */
function errorMessageOf(end: EventEnd): string {
  if (!end.result) return end.condition === 'ZeroReservedConcurrency' ? 'Rate Exceeded.' : `Event age exceeded (${end.condition})`;
  try {
    const body = JSON.parse(end.result.payload.toString('utf8')) as { errorMessage?: unknown };
    if (typeof body.errorMessage === 'string') return body.errorMessage;
  } catch {
    // Not JSON: the text itself.
  }
  return end.result.payload.toString('utf8');
}
