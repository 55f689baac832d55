// Where an asynchronous invoke's results go: the invocation record as AWS writes it, delivered to a real SQS and SNS
// (fauxqs, in this process) through the SDK's standard endpoint settings, the dead-letter event with its three
// attributes, and the failures a worker must be able to log and move on from. EventBridge has no broker here: its
// PutEvents request is checked against a recording HTTP server (the tests say "mock").
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type DestinationRecord, destinationRecord, zeroReservedConcurrencyRecord } from '../src/delivery/destination-record.ts';
import { DestinationDeliveryError, Destinations } from '../src/delivery/destinations.ts';
import { FAUXQS_ACCOUNT, type Fauxqs, startFauxqsForTest } from './support/fauxqs.ts';

const LAMBKIN_ACCOUNT = '123456789012';
const FUNCTION_ARN = `arn:aws:lambda:us-east-1:${LAMBKIN_ACCOUNT}:function:orders:$LATEST`;
const REQUEST_ID = '6f1c3a0e-96c4-4d44-9a4b-2f5f3d2b8c11';
const AT = new Date('2019-11-14T18:16:05.568Z');

// AWS-recorded record bodies (localstack tests/aws/services/lambda_/test_lambda_destinations.snapshot.json), with the
// snapshot's placeholders filled in. Compared as text: the key order is part of what AWS writes.
const AWS_SUCCESS_RECORD = `{"version":"1.0","timestamp":"2019-11-14T18:16:05.568Z","requestContext":{"requestId":"${REQUEST_ID}","functionArn":"${FUNCTION_ARN}","condition":"Success","approximateInvokeCount":1},"requestPayload":{},"responseContext":{"statusCode":200,"executedVersion":"$LATEST"},"responsePayload":{"event":{},"context":{"function_version":"$LATEST","client_context":null}}}`;
const ERROR_BODY = `{"errorMessage":"intentional failure","errorType":"Exception","requestId":"${REQUEST_ID}","stackTrace":["  File \\"/var/task/handler.py\\", line 7, in handler\\n    raise Exception(\\"intentional failure\\")\\n"]}`;
const AWS_RETRIES_EXHAUSTED_RECORD = `{"version":"1.0","timestamp":"2019-11-14T18:16:05.568Z","requestContext":{"requestId":"${REQUEST_ID}","functionArn":"${FUNCTION_ARN}","condition":"RetriesExhausted","approximateInvokeCount":3},"requestPayload":{"message":"m-1"},"responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},"responsePayload":${ERROR_BODY}}`;
const AWS_EVENT_AGE_EXCEEDED_RECORD = `{"version":"1.0","timestamp":"2019-11-14T18:16:05.568Z","requestContext":{"requestId":"${REQUEST_ID}","functionArn":"${FUNCTION_ARN}","condition":"EventAgeExceeded","approximateInvokeCount":2},"requestPayload":{"message":"m-1"},"responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},"responsePayload":${ERROR_BODY}}`;

function failureRecord(requestPayload = '{"message":"m-1"}'): DestinationRecord {
  return destinationRecord({
    requestId: REQUEST_ID,
    functionArn: FUNCTION_ARN,
    condition: 'RetriesExhausted',
    approximateInvokeCount: 3,
    event: Buffer.from(requestPayload),
    executedVersion: '$LATEST',
    functionError: 'Unhandled',
    response: Buffer.from(ERROR_BODY),
  });
}

describe('destinationRecord', () => {
  it('writes a Success record as AWS does: fields, key order, no functionError', () => {
    const record = destinationRecord({
      requestId: REQUEST_ID,
      functionArn: FUNCTION_ARN,
      condition: 'Success',
      approximateInvokeCount: 1,
      event: Buffer.from('{}'),
      executedVersion: '$LATEST',
      functionError: 'Unhandled',
      response: Buffer.from('{"event":{},"context":{"function_version":"$LATEST","client_context":null}}'),
      at: AT,
    });
    expect(JSON.stringify(record)).toBe(AWS_SUCCESS_RECORD);
  });

  it('writes RetriesExhausted and EventAgeExceeded records as AWS does, with the error body and the attempt count', () => {
    const common = {
      requestId: REQUEST_ID,
      functionArn: FUNCTION_ARN,
      event: Buffer.from('{"message":"m-1"}'),
      executedVersion: '$LATEST',
      functionError: 'Unhandled',
      response: Buffer.from(ERROR_BODY),
      at: AT,
    };
    expect(JSON.stringify(destinationRecord({ ...common, condition: 'RetriesExhausted', approximateInvokeCount: 3 }))).toBe(AWS_RETRIES_EXHAUSTED_RECORD);
    expect(JSON.stringify(destinationRecord({ ...common, condition: 'EventAgeExceeded', approximateInvokeCount: 2 }))).toBe(AWS_EVENT_AGE_EXCEEDED_RECORD);
  });

  it('stamps the record with milliseconds and Z, now by default', () => {
    const before = Date.now();
    const record = failureRecord();
    expect(record.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(record.timestamp)).toBeGreaterThanOrEqual(before - 1);
  });

  it('embeds a response that is not JSON as its text, and an empty event as {}', () => {
    const record = destinationRecord({
      requestId: REQUEST_ID,
      functionArn: FUNCTION_ARN,
      condition: 'Success',
      approximateInvokeCount: 1,
      event: Buffer.alloc(0),
      executedVersion: '1',
      response: Buffer.from('plain text answer'),
    });
    expect(record.requestPayload).toEqual({});
    expect(record.responsePayload).toBe('plain text answer');
  });

  it('writes the reserved-concurrency-0 record with no response and no attempt', () => {
    const record = zeroReservedConcurrencyRecord({ requestId: REQUEST_ID, functionArn: FUNCTION_ARN, event: Buffer.from('{"a":1}'), at: AT });
    expect(JSON.stringify(record)).toBe(
      `{"version":"1.0","timestamp":"2019-11-14T18:16:05.568Z","requestContext":{"requestId":"${REQUEST_ID}","functionArn":"${FUNCTION_ARN}","condition":"ZeroReservedConcurrency","approximateInvokeCount":0},"requestPayload":{"a":1}}`,
    );
  });
});

describe('Destinations against fauxqs (SQS, SNS)', () => {
  let fauxqs: Fauxqs;
  let destinations: Destinations;

  beforeAll(async () => {
    fauxqs = await startFauxqsForTest();
    // The SDK's own standard settings, as a user would set them: lambkin has no endpoint option of its own.
    vi.stubEnv('AWS_ENDPOINT_URL_SQS', fauxqs.endpoint);
    vi.stubEnv('AWS_ENDPOINT_URL_SNS', fauxqs.endpoint);
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
    destinations = new Destinations({ timeoutMs: 5_000 });
  });

  afterAll(async () => {
    destinations?.close();
    await fauxqs?.stop();
    vi.unstubAllEnvs();
  });

  it('sends the record to an SQS queue of another account (fauxqs 000000000000) as the message body', async () => {
    const { queueArn, queueUrl } = fauxqs.createQueue('on-success');
    expect(queueArn).toBe(`arn:aws:sqs:us-east-1:${FAUXQS_ACCOUNT}:on-success`);
    const record = failureRecord();
    await destinations.send(queueArn, record);
    const message = await fauxqs.receiveOne(queueUrl);
    expect(message.Body).toBe(JSON.stringify(record));
    expect(JSON.parse(message.Body ?? '')).toEqual(record);
  });

  it('reuses the queue it looked up for the next record', async () => {
    const { queueArn, queueUrl } = fauxqs.createQueue('twice');
    await destinations.send(queueArn, failureRecord('{"n":1}'));
    await destinations.send(queueArn, failureRecord('{"n":2}'));
    const first = JSON.parse((await fauxqs.receiveOne(queueUrl)).Body ?? '');
    const second = JSON.parse((await fauxqs.receiveOne(queueUrl)).Body ?? '');
    expect([first.requestPayload, second.requestPayload]).toEqual(expect.arrayContaining([{ n: 1 }, { n: 2 }]));
  });

  it('publishes the record to an SNS topic: a subscribed queue receives it as the notification message', async () => {
    const { topicArn, queueUrl } = fauxqs.createSubscribedTopic('results');
    const record = failureRecord();
    await destinations.send(topicArn, record);
    const notification = JSON.parse((await fauxqs.receiveOne(queueUrl)).Body ?? '');
    expect(notification.Type).toBe('Notification');
    expect(notification.TopicArn).toBe(topicArn);
    expect(notification.Message).toBe(JSON.stringify(record));
  });

  it('sends a dead-letter event as it came, with RequestID (String), ErrorCode (Number) and ErrorMessage (String)', async () => {
    const { queueArn, queueUrl } = fauxqs.createQueue('dlq');
    const event = '{"raise_error": 1}';
    await destinations.deadLetter(queueArn, Buffer.from(event), {
      requestId: REQUEST_ID,
      errorCode: 200,
      errorMessage: 'Test exception (this is intentional)',
    });
    const message = await fauxqs.receiveOne(queueUrl);
    expect(message.Body).toBe(event);
    expect(message.MessageAttributes).toEqual({
      ErrorCode: { DataType: 'Number', StringValue: '200' },
      ErrorMessage: { DataType: 'String', StringValue: 'Test exception (this is intentional)' },
      RequestID: { DataType: 'String', StringValue: REQUEST_ID },
    });
  });

  it('keeps the first 1 KB of a long error message, without splitting a character', async () => {
    const { queueArn, queueUrl } = fauxqs.createQueue('dlq-long');
    await destinations.deadLetter(queueArn, Buffer.from('{}'), { requestId: REQUEST_ID, errorCode: 200, errorMessage: `a${'é'.repeat(2000)}` });
    const kept = (await fauxqs.receiveOne(queueUrl)).MessageAttributes?.ErrorMessage?.StringValue ?? '';
    expect(Buffer.byteLength(kept)).toBe(1023);
    expect(kept).toBe(`a${'é'.repeat(511)}`);
  });

  it('publishes a dead-letter event to an SNS topic with the three attributes', async () => {
    const { topicArn, queueUrl } = fauxqs.createSubscribedTopic('dead-letters');
    await destinations.deadLetter(topicArn, Buffer.from('{"k":"v"}'), { requestId: REQUEST_ID, errorCode: 200, errorMessage: 'boom' });
    const notification = JSON.parse((await fauxqs.receiveOne(queueUrl)).Body ?? '');
    expect(notification.Message).toBe('{"k":"v"}');
    expect(notification.MessageAttributes).toEqual({
      RequestID: { Type: 'String', Value: REQUEST_ID },
      ErrorCode: { Type: 'Number', Value: '200' },
      ErrorMessage: { Type: 'String', Value: 'boom' },
    });
  });

  it('fails with the queue service’s own reason when the queue does not exist', async () => {
    const error = await destinations.send(`arn:aws:sqs:us-east-1:${FAUXQS_ACCOUNT}:no-such-queue`, failureRecord()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DestinationDeliveryError);
    expect(error).toMatchObject({ code: 'DestinationFailed', destinationArn: `arn:aws:sqs:us-east-1:${FAUXQS_ACCOUNT}:no-such-queue` });
    expect((error as Error).message).toMatch(/^Could not deliver to arn:aws:sqs:us-east-1:000000000000:no-such-queue: .*(QueueDoesNotExist|does not exist)/);
  });
});

describe('Destinations after close()', () => {
  it('refuses to send, instead of building new clients that nobody would close', async () => {
    const destinations = new Destinations({ invokeAsync: async () => {} });
    destinations.close();
    await expect(destinations.send(`arn:aws:lambda:us-east-1:${LAMBKIN_ACCOUNT}:function:x`, failureRecord())).rejects.toMatchObject({
      code: 'DestinationFailed',
      message: `Could not deliver to arn:aws:lambda:us-east-1:${LAMBKIN_ACCOUNT}:function:x: destinations are closed (lambkin is stopping)`,
    });
  });
});

describe('Destinations that cannot be reached', () => {
  const servers: (Server | TcpServer)[] = [];
  const sockets: Socket[] = [];

  beforeAll(() => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  });

  afterEach(() => {
    vi.unstubAllEnvs();
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    vi.unstubAllEnvs();
  });

  it('gives up on an endpoint that accepts connections and never answers, within the timeout, saying so', async () => {
    const silent = createTcpServer((socket) => sockets.push(socket));
    servers.push(silent);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    vi.stubEnv('AWS_ENDPOINT_URL_SQS', `http://127.0.0.1:${port}`);
    const destinations = new Destinations({ timeoutMs: 500 });
    try {
      const started = Date.now();
      const error = await destinations.send(`arn:aws:sqs:us-east-1:${FAUXQS_ACCOUNT}:q`, failureRecord()).catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(error).toBeInstanceOf(DestinationDeliveryError);
      expect(error).toMatchObject({ code: 'DestinationTimeout' });
      expect((error as Error).message).toBe(`Could not deliver to arn:aws:sqs:us-east-1:${FAUXQS_ACCOUNT}:q: no answer within 500 ms`);
    } finally {
      destinations.close();
    }
  });

  it('fails on an endpoint nobody listens on, naming the connection error', async () => {
    const closed = createTcpServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as { port: number };
    await new Promise((resolve) => closed.close(resolve));
    vi.stubEnv('AWS_ENDPOINT_URL_SNS', `http://127.0.0.1:${port}`);
    const destinations = new Destinations({ timeoutMs: 5_000 });
    try {
      const started = Date.now();
      const error = await destinations.send(`arn:aws:sns:us-east-1:${FAUXQS_ACCOUNT}:t`, failureRecord()).catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(error).toMatchObject({ code: 'DestinationFailed' });
      expect((error as Error).message).toMatch(/^Could not deliver to arn:aws:sns:us-east-1:000000000000:t: .*ECONNREFUSED/);
    } finally {
      destinations.close();
    }
  });

  it('refuses S3, unknown services and non-ARNs without calling anything', async () => {
    const destinations = new Destinations();
    try {
      await expect(destinations.send('arn:aws:s3:::bucket', failureRecord())).rejects.toMatchObject({ code: 'DestinationUnsupported' });
      await expect(destinations.send('arn:aws:dynamodb:us-east-1:123456789012:table/t', failureRecord())).rejects.toMatchObject({
        code: 'DestinationUnsupported',
        message: expect.stringContaining('lambkin does not deliver to dynamodb'),
      });
      await expect(destinations.send('queue', failureRecord())).rejects.toMatchObject({ code: 'DestinationUnsupported' });
      await expect(
        destinations.deadLetter(`arn:aws:lambda:us-east-1:${LAMBKIN_ACCOUNT}:function:other`, Buffer.from('{}'), {
          requestId: REQUEST_ID,
          errorCode: 200,
          errorMessage: 'x',
        }),
      ).rejects.toMatchObject({ code: 'DestinationUnsupported' });
    } finally {
      destinations.close();
    }
  });
});

describe('Destinations to another function', () => {
  it('queues the record as the event of an asynchronous invoke of that function', async () => {
    const invoked: { functionArn: string; payload: Buffer }[] = [];
    const destinations = new Destinations({
      invokeAsync: async (functionArn, payload) => {
        invoked.push({ functionArn, payload });
      },
    });
    const record = failureRecord();
    const target = `arn:aws:lambda:us-east-1:${LAMBKIN_ACCOUNT}:function:on-failure`;
    await destinations.send(target, record);
    expect(invoked).toHaveLength(1);
    expect(invoked[0]?.functionArn).toBe(target);
    expect(JSON.parse(invoked[0]?.payload.toString() ?? '')).toEqual(record);
  });

  it('reports a function the queue refuses, and a lambkin without an async queue', async () => {
    const refusing = new Destinations({
      invokeAsync: async () => {
        throw new Error('Function not found: arn:aws:lambda:us-east-1:123456789012:function:gone');
      },
    });
    await expect(refusing.send(`arn:aws:lambda:us-east-1:${LAMBKIN_ACCOUNT}:function:gone`, failureRecord())).rejects.toMatchObject({
      code: 'DestinationFailed',
      message: expect.stringContaining('Function not found'),
    });
    await expect(new Destinations().send(`arn:aws:lambda:us-east-1:${LAMBKIN_ACCOUNT}:function:x`, failureRecord())).rejects.toMatchObject({
      code: 'DestinationUnsupported',
    });
  });
});

describe('Destinations to EventBridge (mock: a recording HTTP server, no EventBridge broker runs here)', () => {
  interface Recorded {
    target: string | undefined;
    body: { Entries: Record<string, unknown>[] };
  }
  let server: Server;
  let recorded: Recorded[];
  let answer: unknown;

  beforeAll(async () => {
    recorded = [];
    server = createServer((request: IncomingMessage, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        recorded.push({ target: request.headers['x-amz-target'] as string | undefined, body: JSON.parse(Buffer.concat(chunks).toString()) });
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    vi.stubEnv('AWS_ENDPOINT_URL_EVENTBRIDGE', `http://127.0.0.1:${port}`);
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    vi.unstubAllEnvs();
  });

  const busArn = `arn:aws:events:us-east-1:${LAMBKIN_ACCOUNT}:event-bus/results`;

  it('mock: puts a Success record as one event: source lambda, the Success detail-type, bus and function as resources', async () => {
    answer = { Entries: [{ EventId: 'e-1' }], FailedEntryCount: 0 };
    const destinations = new Destinations();
    try {
      const record = destinationRecord({
        requestId: REQUEST_ID,
        functionArn: FUNCTION_ARN,
        condition: 'Success',
        approximateInvokeCount: 1,
        event: Buffer.from('{"mode":"success"}'),
        executedVersion: '$LATEST',
        response: Buffer.from('{"hello":"world"}'),
      });
      await destinations.send(busArn, record);
      expect(recorded.at(-1)?.target).toBe('AWSEvents.PutEvents');
      expect(recorded.at(-1)?.body).toEqual({
        Entries: [
          {
            EventBusName: busArn,
            Source: 'lambda',
            DetailType: 'Lambda Function Invocation Result - Success',
            Resources: [busArn, FUNCTION_ARN],
            Detail: JSON.stringify(record),
          },
        ],
      });
    } finally {
      destinations.close();
    }
  });

  it('mock: puts a failure record with the Failure detail-type, and reports an entry EventBridge refused', async () => {
    const destinations = new Destinations();
    try {
      answer = { Entries: [{ EventId: 'e-2' }], FailedEntryCount: 0 };
      await destinations.send(busArn, failureRecord());
      expect(recorded.at(-1)?.body.Entries[0]?.DetailType).toBe('Lambda Function Invocation Result - Failure');

      answer = { Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }], FailedEntryCount: 1 };
      await expect(destinations.send(busArn, failureRecord())).rejects.toMatchObject({
        code: 'DestinationFailed',
        message: `Could not deliver to ${busArn}: PutEvents refused the event: InternalFailure: try again`,
      });
    } finally {
      destinations.close();
    }
  });
});
