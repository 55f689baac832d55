// Asynchronous invokes (InvocationType Event) through the real SDK, end to end: 202 and the queue, attempts counted by
// the function itself (it appends each one to a file), Lambda's retries and their growing delays, the records on
// OnSuccess / OnFailure destinations in a real SQS (fauxqs) and on a destination function, the dead-letter queue's
// attributes, reserved concurrency 0, event age under a throttle, and events that outlive a restart. The functions
// run as local processes with our runtime (ProcessInvoker); the worker's clock is scaled by 0.01 (retries after 0.6 s
// and 1.2 s, the 60 s minimum event age 0.6 s), as `lambkin serve --retry-delay-scale 0.01` would run them.
import {
  DeleteFunctionCommand,
  InvokeAsyncCommand,
  InvokeCommand,
  type LambdaClient,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  PutFunctionEventInvokeConfigCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeZip } from '../tools/zip.ts';
import { type Fauxqs, startFauxqsForTest } from './support/fauxqs.ts';
import { createNodeFunction, invokeJson, waitUntilUpdated } from './support/lambda-fixtures.ts';
import { failure, makeDataDir, removeDataDir, startLocalService, type LocalService } from './support/local-service.ts';
import { ProcessInvoker } from './support/process-invoker.ts';
import { eventually } from './support/eventually.ts';
import { recordedLines } from './support/recorded-lines.ts';

const SCALE = 0.01;

// Each attempt is appended to $RECORD: the request id the function saw, when, and its event; `fail` makes it throw
// (unless NO_FAIL is set), `sleepMs` makes it wait first.
const RECORDING_HANDLER = `
import { appendFileSync } from 'node:fs';
export const handler = async (event, context) => {
  appendFileSync(process.env.RECORD, JSON.stringify({ id: context.awsRequestId, at: Date.now(), event, version: context.functionVersion }) + '\\n');
  if (event.sleepMs) await new Promise((resolve) => setTimeout(resolve, event.sleepMs));
  if (event.fail && !process.env.NO_FAIL) throw new Error('asked to fail: ' + event.fail);
  return { ok: event };
};
`;

type Attempt = { id: string; at: number; event: Record<string, unknown>; version: string };

let dataDir: string;
let recordDir: string;
let service: LocalService;
let lambda: LambdaClient;
let fauxqs: Fauxqs;
const invoker = new ProcessInvoker();
const dropped: string[] = [];

async function start(): Promise<void> {
  service = await startLocalService({ dataDir, invoker, async: { delayScale: SCALE, observer: { dropped: (event) => dropped.push(event.requestId) } } });
  lambda = service.lambda;
}

/** A recording function `name`, its attempts in its own file. */
async function createRecording(name: string): Promise<void> {
  await createNodeFunction(lambda, name, makeZip([{ name: 'index.mjs', content: RECORDING_HANDLER }]), {
    Environment: { Variables: { RECORD: join(recordDir, `${name}.jsonl`) } },
  });
}

async function attemptsOf(name: string): Promise<Attempt[]> {
  return recordedLines(join(recordDir, `${name}.jsonl`));
}

/** An Event invoke: the SDK's answer. */
const invokeEvent = (FunctionName: string, event: unknown, Qualifier?: string) =>
  lambda.send(new InvokeCommand({ FunctionName, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(event)), ...(Qualifier ? { Qualifier } : {}) }));

beforeAll(async () => {
  fauxqs = await startFauxqsForTest();
  vi.stubEnv('AWS_ENDPOINT_URL_SQS', fauxqs.endpoint);
  vi.stubEnv('AWS_ENDPOINT_URL_SNS', fauxqs.endpoint);
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  dataDir = await makeDataDir('lambkin-async-');
  recordDir = await mkdtemp(join(tmpdir(), 'lambkin-async-records-'));
  await start();
}, 60_000);

afterAll(async () => {
  await service?.stop();
  await invoker.close();
  await fauxqs?.stop();
  vi.unstubAllEnvs();
  await removeDataDir(dataDir);
  await rm(recordDir, { recursive: true, force: true });
});

describe('Event invokes', () => {
  it('answer 202 with no body, and the function runs the event once under the request id the caller got', async () => {
    await createRecording('plain');
    const answer = await invokeEvent('plain', { n: 1 });
    expect(answer.StatusCode).toBe(202);
    expect(answer.Payload?.length ?? 0).toBe(0);
    expect(answer.FunctionError).toBeUndefined();
    const [attempt] = await eventually(
      () => attemptsOf('plain'),
      (attempts) => expect(attempts).toHaveLength(1),
    );
    expect(attempt).toMatchObject({ id: answer.$metadata.requestId, event: { n: 1 }, version: '$LATEST' });
    // Nothing more arrives: a success is delivered once.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await attemptsOf('plain')).toHaveLength(1);
  });

  it('also come through the deprecated InvokeAsync, answered 202', async () => {
    await createRecording('legacy');
    const answer = await lambda.send(new InvokeAsyncCommand({ FunctionName: 'legacy', InvokeArgs: Buffer.from('{"legacy":true}') }));
    expect(answer.Status).toBe(202);
    const [attempt] = await eventually(
      () => attemptsOf('legacy'),
      (attempts) => expect(attempts).toHaveLength(1),
    );
    expect(attempt).toMatchObject({ id: answer.$metadata.requestId, event: { legacy: true } });
  });

  it('run the version the caller named', async () => {
    await createRecording('versioned');
    await lambda.send(new PublishVersionCommand({ FunctionName: 'versioned' }));
    const answer = await invokeEvent('versioned', { v: 1 }, '1');
    expect(answer.StatusCode).toBe(202);
    const [attempt] = await eventually(
      () => attemptsOf('versioned'),
      (attempts) => expect(attempts).toHaveLength(1),
    );
    expect(attempt?.version).toBe('1');
  });

  it('refuse a payload over 1 MB with 413, as AWS words it, and an unknown function with 404', async () => {
    await createRecording('big');
    const payload = JSON.stringify({ blob: 'x'.repeat(1_048_576) });
    const tooLarge = await failure(lambda.send(new InvokeCommand({ FunctionName: 'big', InvocationType: 'Event', Payload: Buffer.from(payload) })));
    expect([tooLarge.name, tooLarge.$metadata.httpStatusCode, tooLarge.message]).toEqual([
      'RequestEntityTooLargeException',
      413,
      `${payload.length} byte payload is too large for the Event invocation type (limit 1048576 bytes)`,
    ]);
    const missing = await failure(invokeEvent('nobody', {}));
    expect([missing.name, missing.$metadata.httpStatusCode]).toEqual(['ResourceNotFoundException', 404]);
  });
});

describe('retries after a function error', () => {
  it('tries an event three times by default (two retries), each later than the last, under one request id', async () => {
    await createRecording('failing');
    const answer = await invokeEvent('failing', { fail: 'always' });
    const attempts = await eventually(
      () => attemptsOf('failing'),
      (found) => expect(found).toHaveLength(3),
    );
    expect(new Set(attempts.map((a) => a.id))).toEqual(new Set([answer.$metadata.requestId]));
    // AWS's delays, scaled: about 60 s then 120 s, here 0.6 s then 1.2 s.
    const [first, second, third] = attempts.map((a) => a.at) as [number, number, number];
    expect(second - first).toBeGreaterThanOrEqual(550);
    expect(third - second).toBeGreaterThanOrEqual(1_150);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await attemptsOf('failing')).toHaveLength(3);
  });

  it('tries once with MaximumRetryAttempts 0, then sends the RetriesExhausted record and the event to the dead-letter queue', async () => {
    await createRecording('once');
    const onFailure = fauxqs.createQueue('once-failure');
    const dlq = fauxqs.createQueue('once-dlq');
    await lambda.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: 'once',
        MaximumRetryAttempts: 0,
        DestinationConfig: { OnFailure: { Destination: onFailure.queueArn } },
      }),
    );
    await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'once', DeadLetterConfig: { TargetArn: dlq.queueArn } }));
    await waitUntilUpdated(lambda, 'once');
    const answer = await invokeEvent('once', { fail: 'once' });
    const record = JSON.parse((await fauxqs.receiveOne(onFailure.queueUrl, 10)).Body ?? '');
    expect(record).toMatchObject({
      version: '1.0',
      requestContext: {
        requestId: answer.$metadata.requestId,
        functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:once:$LATEST',
        condition: 'RetriesExhausted',
        approximateInvokeCount: 1,
      },
      requestPayload: { fail: 'once' },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: 'Error', errorMessage: 'asked to fail: once' },
    });
    const dead = await fauxqs.receiveOne(dlq.queueUrl, 10);
    expect(JSON.parse(dead.Body ?? '')).toEqual({ fail: 'once' });
    expect(dead.MessageAttributes).toMatchObject({
      RequestID: { DataType: 'String', StringValue: answer.$metadata.requestId },
      ErrorCode: { DataType: 'Number', StringValue: '200' },
      ErrorMessage: { DataType: 'String', StringValue: 'asked to fail: once' },
    });
    expect(await attemptsOf('once')).toHaveLength(1);
  });
});

describe('destinations', () => {
  it('sends a success record to OnSuccess (SQS), and a failure record to a destination function as its event', async () => {
    await createRecording('routed');
    await createRecording('on-failure-fn');
    const onSuccess = fauxqs.createQueue('routed-success');
    await lambda.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: 'routed',
        MaximumRetryAttempts: 0,
        DestinationConfig: {
          OnSuccess: { Destination: onSuccess.queueArn },
          OnFailure: { Destination: 'arn:aws:lambda:us-east-1:123456789012:function:on-failure-fn' },
        },
      }),
    );
    const ok = await invokeEvent('routed', { hello: 'world' });
    const success = JSON.parse((await fauxqs.receiveOne(onSuccess.queueUrl, 10)).Body ?? '');
    expect(success).toMatchObject({
      requestContext: { requestId: ok.$metadata.requestId, condition: 'Success', approximateInvokeCount: 1 },
      requestPayload: { hello: 'world' },
      responseContext: { statusCode: 200, executedVersion: '$LATEST' },
      responsePayload: { ok: { hello: 'world' } },
    });
    expect(success.responseContext).not.toHaveProperty('functionError');

    const failed = await invokeEvent('routed', { fail: 'routed' });
    const [delivered] = await eventually(
      () => attemptsOf('on-failure-fn'),
      (attempts) => expect(attempts).toHaveLength(1),
    );
    expect(delivered?.event).toMatchObject({
      requestContext: { requestId: failed.$metadata.requestId, condition: 'RetriesExhausted' },
      requestPayload: { fail: 'routed' },
    });
  });

  it('sends an event of a function with reserved concurrency 0 straight to OnFailure, never running it', async () => {
    await createRecording('stopped');
    const onFailure = fauxqs.createQueue('stopped-failure');
    await lambda.send(
      new PutFunctionEventInvokeConfigCommand({ FunctionName: 'stopped', DestinationConfig: { OnFailure: { Destination: onFailure.queueArn } } }),
    );
    await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'stopped', ReservedConcurrentExecutions: 0 }));
    const answer = await invokeEvent('stopped', { n: 0 });
    expect(answer.StatusCode).toBe(202);
    const record = JSON.parse((await fauxqs.receiveOne(onFailure.queueUrl, 10)).Body ?? '');
    expect(record).toEqual({
      version: '1.0',
      timestamp: expect.any(String),
      requestContext: {
        requestId: answer.$metadata.requestId,
        functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:stopped:$LATEST',
        condition: 'ZeroReservedConcurrency',
        approximateInvokeCount: 0,
      },
      requestPayload: { n: 0 },
    });
    expect(await attemptsOf('stopped')).toHaveLength(0);
  });

  it('gives up on a throttled event once it is older than MaximumEventAgeInSeconds, with EventAgeExceeded', async () => {
    await createRecording('busy');
    const onFailure = fauxqs.createQueue('busy-failure');
    await lambda.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: 'busy',
        MaximumEventAgeInSeconds: 60,
        DestinationConfig: { OnFailure: { Destination: onFailure.queueArn } },
      }),
    );
    await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'busy', ReservedConcurrentExecutions: 1 }));
    // A synchronous invoke holds the one environment for 3 s; the event is throttled meanwhile, past its 0.6 s age.
    const holding = invokeJson(lambda, 'busy', { sleepMs: 3_000 });
    await eventually(
      () => attemptsOf('busy'),
      (attempts) => expect(attempts).toHaveLength(1),
    );
    const answer = await invokeEvent('busy', { late: true });
    const record = JSON.parse((await fauxqs.receiveOne(onFailure.queueUrl, 10)).Body ?? '');
    expect(record.requestContext).toMatchObject({ requestId: answer.$metadata.requestId, condition: 'EventAgeExceeded', approximateInvokeCount: 0 });
    await holding;
    expect((await attemptsOf('busy')).map((a) => a.event)).toEqual([{ sleepMs: 3_000 }]);
  }, 20_000);
});

describe('lifecycle', () => {
  it('drops the queued events of a deleted function, with a word to the observer', async () => {
    await createRecording('doomed');
    await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'doomed', MaximumRetryAttempts: 2 }));
    const answer = await invokeEvent('doomed', { fail: 'doomed' });
    await eventually(
      () => attemptsOf('doomed'),
      (attempts) => expect(attempts).toHaveLength(1),
    );
    await lambda.send(new DeleteFunctionCommand({ FunctionName: 'doomed' }));
    await eventually(
      async () => dropped,
      (ids) => expect(ids).toContain(answer.$metadata.requestId),
    );
    expect(await attemptsOf('doomed')).toHaveLength(1);
  });

  it('keeps an event queued across an update of the function: its retry runs the new configuration', async () => {
    await createRecording('updated');
    const answer = await invokeEvent('updated', { fail: 'before the fix' });
    await eventually(
      () => attemptsOf('updated'),
      (attempts) => expect(attempts).toHaveLength(1),
    );
    await lambda.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: 'updated',
        Environment: { Variables: { RECORD: join(recordDir, 'updated.jsonl'), NO_FAIL: '1' } },
      }),
    );
    const attempts = await eventually(
      () => attemptsOf('updated'),
      (found) => expect(found).toHaveLength(2),
    );
    expect(attempts[1]?.id).toBe(answer.$metadata.requestId);
    // The retry succeeded: no third attempt.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await attemptsOf('updated')).toHaveLength(2);
  }, 20_000);

  it("never lets one function's backlog starve another's event", async () => {
    await createRecording('backlogged');
    await createRecording('bystander');
    // 100 events of 50 ms each: five seconds of work for the one process the backlogged function has here.
    await Promise.all(Array.from({ length: 100 }, (_, i) => invokeEvent('backlogged', { i, sleepMs: 50 })));
    const sent = Date.now();
    await invokeEvent('bystander', { alone: true });
    const [attempt] = await eventually(
      () => attemptsOf('bystander'),
      (attempts) => expect(attempts).toHaveLength(1),
      3_000,
    );
    expect(attempt!.at - sent).toBeLessThan(1_000);
    expect((await attemptsOf('backlogged')).length).toBeLessThan(60);
  }, 20_000);

  it('keeps queued events across a restart, and delivers them after it', async () => {
    await createRecording('restarted');
    // The first attempt fails; its retry is due 0.6 s later, after the service has stopped.
    const answer = await invokeEvent('restarted', { fail: 'first' });
    await eventually(
      () => attemptsOf('restarted'),
      (attempts) => expect(attempts).toHaveLength(1),
    );
    await service.stop();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await attemptsOf('restarted')).toHaveLength(1);
    await start();
    const attempts = await eventually(
      () => attemptsOf('restarted'),
      (found) => expect(found.length).toBeGreaterThanOrEqual(2),
    );
    expect(attempts[1]?.id).toBe(answer.$metadata.requestId);
  }, 20_000);
});
