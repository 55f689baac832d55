// The message attributes Lambda puts on an event it sends to a function's dead-letter queue or topic
// (docs invocation-async-retain-records, "Dead-letter queues"; AWS-recorded in localstack's
// test_lambda_destinations.snapshot.json, TestLambdaDLQ): RequestID String, ErrorCode Number, ErrorMessage String.

export interface DeadLetterCause {
  requestId: string;
  /** The invoke's status code: 200 for a function error, as on AWS. */
  errorCode: number;
  /** The function's error message; Lambda keeps its first 1 KB. */
  errorMessage: string;
}

/** SQS's and SNS's message attribute shape (the two SDKs declare the same fields). */
export interface StringMessageAttribute {
  DataType: 'String' | 'Number';
  StringValue: string;
}

const ERROR_MESSAGE_LIMIT_BYTES = 1024;

export function deadLetterAttributes(cause: DeadLetterCause): Record<string, StringMessageAttribute> {
  const attributes: Record<string, StringMessageAttribute> = {
    RequestID: { DataType: 'String', StringValue: cause.requestId },
    ErrorCode: { DataType: 'Number', StringValue: String(cause.errorCode) },
  };
  // SQS and SNS refuse an attribute with an empty value, and losing the whole event over it would be worse.
  const errorMessage = firstBytes(cause.errorMessage, ERROR_MESSAGE_LIMIT_BYTES);
  if (errorMessage.length > 0) attributes.ErrorMessage = { DataType: 'String', StringValue: errorMessage };
  return attributes;
}

/** The longest prefix of `text` whose UTF-8 encoding fits in `limit` bytes, never splitting a character. */
export function firstBytes(text: string, limit: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= limit) return text;
  let end = limit;
  // Back up over continuation bytes (10xxxxxx) to the start of the character the limit cuts.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}
