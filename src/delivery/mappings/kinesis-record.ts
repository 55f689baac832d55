// What a Kinesis mapping hands on, in AWS's shapes: each stream record as the function sees it (`aws:kinesis`), the
// form FilterCriteria patterns are matched against (the data decoded), and the on-failure record a batch leaves
// behind when Lambda gives up on it (KinesisBatchInfo names the records; they are not in it).
import type { BatchOutcome } from './invoke-batch.ts';

/** A record as GetRecords answers it (the v3 client's _Record, the fields read here). */
export interface StreamRecord {
  SequenceNumber?: string | undefined;
  PartitionKey?: string | undefined;
  Data?: Uint8Array | undefined;
  ApproximateArrivalTimestamp?: Date | undefined;
}

export interface KinesisEventRecord {
  kinesis: {
    kinesisSchemaVersion: '1.0';
    partitionKey: string;
    sequenceNumber: string;
    data: string;
    /** Epoch seconds with milliseconds as the fraction. */
    approximateArrivalTimestamp: number;
  };
  eventSource: 'aws:kinesis';
  eventVersion: '1.0';
  eventID: string;
  eventName: 'aws:kinesis:record';
  invokeIdentityArn: string;
  awsRegion: string;
  eventSourceARN: string;
}

export interface RecordSource {
  shardId: string;
  /** The function's execution role: AWS names it as the identity the mapping invokes with. */
  invokeIdentityArn: string;
  awsRegion: string;
  eventSourceArn: string;
}

export function kinesisEventRecord(record: StreamRecord, source: RecordSource): KinesisEventRecord {
  const sequenceNumber = record.SequenceNumber ?? '';
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: record.PartitionKey ?? '',
      sequenceNumber,
      data: Buffer.from(record.Data ?? new Uint8Array()).toString('base64'),
      approximateArrivalTimestamp: (record.ApproximateArrivalTimestamp?.getTime() ?? 0) / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${source.shardId}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: source.invokeIdentityArn,
    awsRegion: source.awsRegion,
    eventSourceARN: source.eventSourceArn,
  };
}

/**
 * What a FilterCriteria pattern sees of a record: the record with its data decoded and parsed when it is JSON (a
 * pattern's `data` key then reaches into it); data that is not JSON stays as it came, so a `data` pattern misses it.
 */
export function filterableRecord(record: KinesisEventRecord): unknown {
  const text = Buffer.from(record.kinesis.data, 'base64').toString('utf8');
  try {
    return { ...record, kinesis: { ...record.kinesis, data: JSON.parse(text) as unknown } };
  } catch {
    return record;
  }
}

export type FailureCondition = 'RetryAttemptsExhausted' | 'RecordAgeExceeded';

export interface GivenUpBatch {
  records: KinesisEventRecord[];
  shardId: string;
  streamArn: string;
  functionArn: string;
  condition: FailureCondition;
  /** Invokes of this batch that reached the function. */
  invokeCount: number;
  /** The last invoke's outcome; absent when none reached the function (throttled until the records were too old). */
  last: BatchOutcome | undefined;
  now: number;
}

/** The on-failure record of a stream batch, as AWS sends it to an SQS queue or SNS topic. */
export function onFailureRecord(batch: GivenUpBatch) {
  const first = batch.records[0]!.kinesis;
  const last = batch.records[batch.records.length - 1]!.kinesis;
  const outcome = batch.last;
  return {
    requestContext: {
      requestId: outcome?.requestId ?? '',
      functionArn: batch.functionArn,
      condition: batch.condition,
      approximateInvokeCount: batch.invokeCount,
    },
    responseContext:
      outcome === undefined
        ? { statusCode: 429, executedVersion: '', functionError: '' }
        : outcome.kind === 'refused'
          ? { statusCode: outcome.error.status, executedVersion: '', functionError: '' }
          : {
              statusCode: 200,
              executedVersion: outcome.executedVersion,
              ...(outcome.kind === 'function-error' ? { functionError: 'Unhandled' } : {}),
            },
    version: '1.0',
    timestamp: new Date(batch.now).toISOString(),
    KinesisBatchInfo: {
      shardId: batch.shardId,
      startSequenceNumber: first.sequenceNumber,
      endSequenceNumber: last.sequenceNumber,
      approximateArrivalOfFirstRecord: new Date(first.approximateArrivalTimestamp * 1000).toISOString(),
      approximateArrivalOfLastRecord: new Date(last.approximateArrivalTimestamp * 1000).toISOString(),
      batchSize: batch.records.length,
      streamArn: batch.streamArn,
    },
  };
}
