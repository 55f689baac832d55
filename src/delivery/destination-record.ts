// The invocation record Lambda sends to an asynchronous invoke's OnSuccess / OnFailure destination, field for field
// and in the key order AWS writes it (localstack tests/aws/services/lambda_/test_lambda_destinations.snapshot.json,
// recorded against AWS): users parse these records, and some compare them as text.

/** Why a record was sent: the outcome of the event's last attempt, or why it was given up. */
export type DestinationCondition = 'Success' | 'RetriesExhausted' | 'EventAgeExceeded';

export interface DestinationRecordRequestContext {
  requestId: string;
  /** Version-qualified, `…:function:fn:$LATEST` or `…:function:fn:3`, even when the event named no qualifier. */
  functionArn: string;
  condition: DestinationCondition | 'ZeroReservedConcurrency';
  approximateInvokeCount: number;
}

export interface DestinationRecordResponseContext {
  /** 200 even after a function error, as on AWS: the invoke itself went through. */
  statusCode: 200;
  executedVersion: string;
  /** `Unhandled` or `Handled`; absent on Success. */
  functionError?: string;
}

export interface DestinationRecord {
  version: '1.0';
  /** ISO 8601 with milliseconds and `Z`. */
  timestamp: string;
  requestContext: DestinationRecordRequestContext;
  requestPayload: unknown;
  responseContext?: DestinationRecordResponseContext;
  responsePayload?: unknown;
}

export interface InvocationOutcome {
  requestId: string;
  /** The version-qualified ARN of the version that ran. */
  functionArn: string;
  condition: DestinationCondition;
  /** Attempts made, the first one included. */
  approximateInvokeCount: number;
  /** The event as the caller sent it. */
  event: Buffer;
  executedVersion: string;
  /** The last attempt's X-Amz-Function-Error; ignored on Success. */
  functionError?: string;
  /** The last attempt's response body: the function's result, or its error document. */
  response: Buffer;
  /** When the record is written; now by default. */
  at?: Date;
}

/** The record of an event that ran (Success) or was given up after running (RetriesExhausted, EventAgeExceeded). */
export function destinationRecord(outcome: InvocationOutcome): DestinationRecord {
  const responseContext: DestinationRecordResponseContext = { statusCode: 200, executedVersion: outcome.executedVersion };
  if (outcome.condition !== 'Success' && outcome.functionError !== undefined) responseContext.functionError = outcome.functionError;
  return {
    version: '1.0',
    timestamp: (outcome.at ?? new Date()).toISOString(),
    requestContext: {
      requestId: outcome.requestId,
      functionArn: outcome.functionArn,
      condition: outcome.condition,
      approximateInvokeCount: outcome.approximateInvokeCount,
    },
    requestPayload: parseEvent(outcome.event),
    responseContext,
    responsePayload: parseResponse(outcome.response),
  };
}

export interface RefusedEvent {
  requestId: string;
  functionArn: string;
  event: Buffer;
  at?: Date;
}

/**
 * The record of an event refused because the function's reserved concurrency is 0: it never ran, so the record has
 * no response, and Lambda sends it straight to OnFailure without retries.
 */
export function zeroReservedConcurrencyRecord(refused: RefusedEvent): DestinationRecord {
  return {
    version: '1.0',
    timestamp: (refused.at ?? new Date()).toISOString(),
    requestContext: { requestId: refused.requestId, functionArn: refused.functionArn, condition: 'ZeroReservedConcurrency', approximateInvokeCount: 0 },
    requestPayload: parseEvent(refused.event),
  };
}

/** Whether a record reports a success: EventBridge's detail-type tells the two kinds apart. */
export function isSuccessRecord(record: DestinationRecord): boolean {
  return record.requestContext.condition === 'Success';
}

// Invoke accepts only JSON events (InvalidRequestContentException otherwise); an empty body is the event `{}`, as the
// function itself receives it.
function parseEvent(event: Buffer): unknown {
  if (event.length === 0) return {};
  return parseJsonOrText(event);
}

// A function may answer with any bytes (a custom runtime posts what it likes): JSON is embedded as JSON, anything
// else as its text, so the record stays valid JSON either way.
function parseResponse(response: Buffer): unknown {
  if (response.length === 0) return null;
  return parseJsonOrText(response);
}

function parseJsonOrText(body: Buffer): unknown {
  const text = body.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
