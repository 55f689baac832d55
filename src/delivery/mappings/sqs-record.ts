// The `aws:sqs` record a function receives from an SQS event source mapping, built from a ReceiveMessage Message as
// AWS writes it (AWS-recorded in LocalStack's test_lambda_integration_sqs.snapshot.json; docs with-sqs.md): the SQS
// API's members renamed lower-camel, the system attributes under their API names, the message attributes with empty
// list members, and the key order AWS uses (a function that prints its event shows it).
import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';

export interface SqsMessageAttribute {
  stringValue?: string;
  /** Base64, as in the SQS JSON API. */
  binaryValue?: string;
  stringListValues: string[];
  binaryListValues: string[];
  dataType: string;
}

export interface SqsRecord {
  messageId: string;
  receiptHandle: string;
  body: string;
  attributes: Record<string, string>;
  messageAttributes: Record<string, SqsMessageAttribute>;
  md5OfMessageAttributes?: string;
  md5OfBody: string;
  eventSource: 'aws:sqs';
  eventSourceARN: string;
  awsRegion: string;
}

// AWS's order of the system attributes in a record; FIFO queues' three sit among them (docs' FIFO example). Any
// other attribute SQS returns (AWSTraceHeader, DeadLetterQueueSourceArn) follows, in SQS's order.
const ATTRIBUTE_ORDER = [
  'ApproximateReceiveCount',
  'SentTimestamp',
  'SequenceNumber',
  'MessageGroupId',
  'SenderId',
  'MessageDeduplicationId',
  'ApproximateFirstReceiveTimestamp',
];

export function sqsRecord(message: Message, queue: { arn: string; region: string }): SqsRecord {
  const messageAttributes = Object.fromEntries(Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [name, recordAttribute(value)]));
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: orderedAttributes(message.Attributes ?? {}),
    messageAttributes,
    // Only a message with attributes has their digest (AWS leaves the key out, not null).
    ...(Object.keys(messageAttributes).length > 0 && message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queue.arn,
    awsRegion: queue.region,
  };
}

/**
 * What FilterCriteria patterns are matched against (filter-criteria.ts): the record with its body parsed when it is
 * JSON, so `{"body": {"kind": ["order"]}}` reaches into it, and left a string when not.
 */
export function filterableSqsRecord(record: SqsRecord): unknown {
  return { ...record, body: parsedBody(record.body) };
}

function parsedBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

function orderedAttributes(attributes: Record<string, string>): Record<string, string> {
  const ordered: Record<string, string> = {};
  for (const name of ATTRIBUTE_ORDER) {
    const value = attributes[name];
    if (value !== undefined) ordered[name] = value;
  }
  for (const [name, value] of Object.entries(attributes)) {
    if (!(name in ordered)) ordered[name] = value;
  }
  return ordered;
}

function recordAttribute(value: MessageAttributeValue): SqsMessageAttribute {
  return {
    ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
    ...(value.BinaryValue !== undefined ? { binaryValue: base64(value.BinaryValue) } : {}),
    stringListValues: value.StringListValues ?? [],
    binaryListValues: (value.BinaryListValues ?? []).map(base64),
    dataType: value.DataType ?? 'String',
  };
}

const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
