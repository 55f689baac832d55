// Event source mappings' control plane (Create/Get/Update/Delete/ListEventSourceMappings) through the real
// @aws-sdk/client-lambda: AWS's shapes and echoed defaults per source, the states a mapping passes through, AWS's
// messages, restart survival; and the runner keeping one poller per enabled mapping, seen through a fake poller
// factory (no SQS or Kinesis here: the pollers themselves are tested with fauxqs and kinesis-local).
import {
  CreateAliasCommand,
  CreateEventSourceMappingCommand,
  type CreateEventSourceMappingCommandInput,
  DeleteEventSourceMappingCommand,
  DeleteFunctionCommand,
  GetEventSourceMappingCommand,
  type LambdaClient,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Poller, PollerDeps, PollerFactory } from '../src/delivery/mappings/mapping.ts';
import type { LambdaApiServer } from '../src/service/index.ts';
import { makeZip } from '../tools/zip.ts';
import { startFauxqsForTest } from './support/fauxqs.ts';
import { createNodeFunction } from './support/lambda-fixtures.ts';
import { failure, makeDataDir, noInvoker, removeDataDir, startLocalService, type LocalService } from './support/local-service.ts';
import { ProcessInvoker } from './support/process-invoker.ts';

const ACCOUNT = '123456789012';
const QUEUE_ARN = `arn:aws:sqs:us-east-1:${ACCOUNT}:orders`;
const STREAM_ARN = `arn:aws:kinesis:us-east-1:${ACCOUNT}:stream/clicks`;
const FUNCTION_ARN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:consumer`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const NOT_FOUND = 'The resource you requested does not exist.';
const ZIP = makeZip([{ name: 'index.js', content: 'exports.handler = async () => ({});' }]);

/** What a fake poller factory was asked to do, in order. */
type PollerEvent = { event: 'start' | 'stop'; uuid: string; deps: PollerDeps };

function fakePollers(): { factory: PollerFactory; events: PollerEvent[]; running: () => string[] } {
  const events: PollerEvent[] = [];
  const live = new Set<PollerDeps>();
  const factory: PollerFactory = (deps) => {
    const poller: Poller = {
      start: () => {
        live.add(deps);
        events.push({ event: 'start', uuid: deps.mapping.uuid, deps });
      },
      stop: async () => {
        live.delete(deps);
        events.push({ event: 'stop', uuid: deps.mapping.uuid, deps });
      },
      stats: () => ({ lag: 3, polled: 7, delivered: 5, failed: 2 }),
    };
    return poller;
  };
  return { factory, events, running: () => [...live].map((deps) => deps.mapping.uuid).sort() };
}

let dataDir: string;
let service: LocalService | undefined;
let lambda: LambdaClient;
let server: LambdaApiServer;
let pollers: ReturnType<typeof fakePollers>;

async function start(settleMs = 0): Promise<void> {
  pollers = fakePollers();
  service = await startLocalService({
    dataDir,
    invoker: noInvoker('event source mapping tests'),
    mappings: { pollers: { sqs: pollers.factory, kinesis: pollers.factory }, settleMs },
  });
  ({ lambda, server } = service);
}

beforeEach(async () => {
  dataDir = await makeDataDir('lambkin-esm-');
});

afterEach(async () => {
  await service?.stop();
  service = undefined;
  await removeDataDir(dataDir);
});

const create = (input: Partial<CreateEventSourceMappingCommandInput>) =>
  lambda.send(new CreateEventSourceMappingCommand({ FunctionName: 'consumer', ...input }));
const get = (uuid: string) => lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }));

describe('event source mappings: shapes, defaults and states', () => {
  beforeEach(async () => {
    await start();
    await createNodeFunction(lambda, 'consumer', ZIP);
  });

  it('creates an SQS mapping with AWS defaults (202, Creating, then Enabled)', async () => {
    const created = await create({ EventSourceArn: QUEUE_ARN });
    expect(created.$metadata.httpStatusCode).toBe(202);
    expect(created.UUID).toMatch(UUID);
    const { $metadata: _m, LastModified, ...shape } = created;
    expect(LastModified).toBeInstanceOf(Date);
    expect(Math.abs(LastModified!.getTime() - Date.now())).toBeLessThan(60_000);
    expect(shape).toEqual({
      UUID: created.UUID,
      EventSourceMappingArn: `arn:aws:lambda:us-east-1:${ACCOUNT}:event-source-mapping:${created.UUID}`,
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 0,
      EventSourceArn: QUEUE_ARN,
      FunctionArn: FUNCTION_ARN,
      FunctionResponseTypes: [],
      State: 'Creating',
      StateTransitionReason: 'USER_INITIATED',
    });
    await server.mappingsSettled();
    const got = await get(created.UUID!);
    expect(got.$metadata.httpStatusCode).toBe(200);
    expect(got.State).toBe('Enabled');
    expect(got.LastModified).toEqual(LastModified);
  });

  it('creates a Kinesis mapping with the stream defaults echoed', async () => {
    const created = await create({ EventSourceArn: STREAM_ARN, StartingPosition: 'LATEST' });
    const { $metadata: _m, LastModified: _l, ...shape } = created;
    expect(shape).toEqual({
      UUID: created.UUID,
      EventSourceMappingArn: `arn:aws:lambda:us-east-1:${ACCOUNT}:event-source-mapping:${created.UUID}`,
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 0,
      EventSourceArn: STREAM_ARN,
      FunctionArn: FUNCTION_ARN,
      FunctionResponseTypes: [],
      LastProcessingResult: 'No records processed',
      StartingPosition: 'LATEST',
      ParallelizationFactor: 1,
      BisectBatchOnFunctionError: false,
      MaximumRetryAttempts: -1,
      MaximumRecordAgeInSeconds: -1,
      TumblingWindowInSeconds: 0,
      DestinationConfig: { OnFailure: {} },
      State: 'Creating',
      StateTransitionReason: 'User action',
    });
  });

  it('echoes what was given: filters, scaling, report types, an on-failure destination', async () => {
    const filters = { Filters: [{ Pattern: JSON.stringify({ body: { kind: ['order'] } }) }] };
    const sqs = await create({
      EventSourceArn: QUEUE_ARN,
      BatchSize: 50,
      MaximumBatchingWindowInSeconds: 2,
      FilterCriteria: filters,
      ScalingConfig: { MaximumConcurrency: 5 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(sqs).toMatchObject({
      BatchSize: 50,
      MaximumBatchingWindowInSeconds: 2,
      FilterCriteria: filters,
      ScalingConfig: { MaximumConcurrency: 5 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const onFailure = `arn:aws:sqs:us-east-1:${ACCOUNT}:failed`;
    const kinesis = await create({
      EventSourceArn: STREAM_ARN,
      StartingPosition: 'TRIM_HORIZON',
      ParallelizationFactor: 3,
      MaximumRetryAttempts: 2,
      BisectBatchOnFunctionError: true,
      DestinationConfig: { OnFailure: { Destination: onFailure } },
    });
    expect(kinesis).toMatchObject({
      ParallelizationFactor: 3,
      MaximumRetryAttempts: 2,
      BisectBatchOnFunctionError: true,
      DestinationConfig: { OnFailure: { Destination: onFailure } },
    });
  });

  it('names the qualified function when FunctionName is qualified, by name or ARN', async () => {
    await lambda.send(new CreateAliasCommand({ FunctionName: 'consumer', Name: 'live', FunctionVersion: '$LATEST' }));
    const byAlias = await create({ FunctionName: 'consumer:live', EventSourceArn: QUEUE_ARN });
    expect(byAlias.FunctionArn).toBe(`${FUNCTION_ARN}:live`);
    const byArn = await create({ FunctionName: FUNCTION_ARN, EventSourceArn: QUEUE_ARN });
    expect(byArn.FunctionArn).toBe(FUNCTION_ARN);
    const missingAlias = await failure(create({ FunctionName: 'consumer:nope', EventSourceArn: STREAM_ARN, StartingPosition: 'LATEST' }));
    expect([missingAlias.name, missingAlias.message]).toEqual(['InvalidParameterValueException', 'Function does not exist']);
  });

  it('creates a disabled mapping with Enabled false: Creating, then Disabled, and no poller', async () => {
    const created = await create({ EventSourceArn: QUEUE_ARN, Enabled: false });
    expect(created.State).toBe('Creating');
    await server.mappingsSettled();
    expect((await get(created.UUID!)).State).toBe('Disabled');
    expect(pollers.events).toEqual([]);
  });

  it('deletes: answered 202 with the mapping Deleting, then it is gone', async () => {
    const created = await create({ EventSourceArn: QUEUE_ARN });
    await server.mappingsSettled();
    const deleted = await lambda.send(new DeleteEventSourceMappingCommand({ UUID: created.UUID }));
    expect(deleted.$metadata.httpStatusCode).toBe(202);
    expect(deleted).toMatchObject({ UUID: created.UUID, State: 'Deleting', EventSourceArn: QUEUE_ARN, BatchSize: 10 });
    await server.mappingsSettled();
    const gone = await failure(get(created.UUID!));
    expect([gone.name, gone.message, gone.$metadata.httpStatusCode]).toEqual(['ResourceNotFoundException', NOT_FOUND, 404]);
  });

  it('keeps the mappings of a deleted function, as AWS does (its batches then fail)', async () => {
    const created = await create({ EventSourceArn: QUEUE_ARN });
    await server.mappingsSettled();
    await lambda.send(new DeleteFunctionCommand({ FunctionName: 'consumer' }));
    expect(await get(created.UUID!)).toMatchObject({ State: 'Enabled', FunctionArn: FUNCTION_ARN });
  });

  it('lists by event source and by function, a page at a time', async () => {
    await createNodeFunction(lambda, 'other', ZIP);
    const uuids: string[] = [];
    for (let i = 0; i < 3; i++) uuids.push((await create({ EventSourceArn: `${QUEUE_ARN}-${i}` })).UUID!);
    const otherUuid = (await create({ FunctionName: 'other', EventSourceArn: `${QUEUE_ARN}-0` })).UUID!;
    const all = await lambda.send(new ListEventSourceMappingsCommand({}));
    expect(all.EventSourceMappings!.map((m) => m.UUID).sort()).toEqual([...uuids, otherUuid].sort());
    const ofQueue = await lambda.send(new ListEventSourceMappingsCommand({ EventSourceArn: `${QUEUE_ARN}-0` }));
    expect(ofQueue.EventSourceMappings!.map((m) => m.UUID).sort()).toEqual([uuids[0], otherUuid].sort());
    const ofFunction = await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: 'other' }));
    expect(ofFunction.EventSourceMappings!.map((m) => m.UUID)).toEqual([otherUuid]);
    const both = await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: FUNCTION_ARN, EventSourceArn: `${QUEUE_ARN}-1` }));
    expect(both.EventSourceMappings!.map((m) => m.UUID)).toEqual([uuids[1]]);
    const nothing = await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: 'doesnotexist' }));
    expect(nothing.EventSourceMappings).toEqual([]);
    const first = await lambda.send(new ListEventSourceMappingsCommand({ MaxItems: 3 }));
    expect(first.EventSourceMappings).toHaveLength(3);
    expect(first.NextMarker).toBeTruthy();
    const rest = await lambda.send(new ListEventSourceMappingsCommand({ MaxItems: 3, Marker: first.NextMarker }));
    expect(rest.NextMarker).toBeUndefined();
    expect([...first.EventSourceMappings!, ...rest.EventSourceMappings!].map((m) => m.UUID).sort()).toEqual([...uuids, otherUuid].sort());
  });
});

describe('event source mappings: AWS refusals', () => {
  beforeEach(async () => {
    await start();
    await createNodeFunction(lambda, 'consumer', ZIP);
  });

  const refusal = async (promise: Promise<unknown>) => {
    const error = await failure(promise);
    return [error.name, error.message, error.$metadata.httpStatusCode];
  };

  it('answers 404 for an unknown UUID (get, update, delete)', async () => {
    const uuid = '0c8f0c55-4d64-4e3c-9b0a-1d2a3b4c5d6e';
    expect(await refusal(get(uuid))).toEqual(['ResourceNotFoundException', NOT_FOUND, 404]);
    expect(await refusal(lambda.send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: false })))).toEqual([
      'ResourceNotFoundException',
      NOT_FOUND,
      404,
    ]);
    expect(await refusal(lambda.send(new DeleteEventSourceMappingCommand({ UUID: uuid })))).toEqual(['ResourceNotFoundException', NOT_FOUND, 404]);
  });

  it('refuses a second mapping of the same queue or stream to the same function (409)', async () => {
    const first = await create({ EventSourceArn: QUEUE_ARN });
    expect(await refusal(create({ EventSourceArn: QUEUE_ARN }))).toEqual([
      'ResourceConflictException',
      `An event source mapping with SQS arn (" ${QUEUE_ARN} ") and function (" consumer ") already exists. Please update or delete the existing mapping with UUID ${first.UUID}`,
      409,
    ]);
    const stream = await create({ EventSourceArn: STREAM_ARN, StartingPosition: 'LATEST' });
    expect(await refusal(create({ EventSourceArn: STREAM_ARN, StartingPosition: 'TRIM_HORIZON' }))).toEqual([
      'ResourceConflictException',
      `The event source arn (" ${STREAM_ARN} ") and function (" consumer ") provided mapping already exists. Please update or delete the existing mapping with UUID ${stream.UUID}`,
      409,
    ]);
  });

  it('refuses an SQS batch over 10 without a batching window, at create and at update', async () => {
    const message = 'Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10';
    expect(await refusal(create({ EventSourceArn: QUEUE_ARN, BatchSize: 11 }))).toEqual(['InvalidParameterValueException', message, 400]);
    const created = await create({ EventSourceArn: QUEUE_ARN });
    await server.mappingsSettled();
    expect(await refusal(lambda.send(new UpdateEventSourceMappingCommand({ UUID: created.UUID, BatchSize: 100 })))).toEqual([
      'InvalidParameterValueException',
      message,
      400,
    ]);
  });

  it('refuses values out of the model ranges (ValidationException)', async () => {
    expect(await refusal(create({ EventSourceArn: QUEUE_ARN, BatchSize: 10_001, MaximumBatchingWindowInSeconds: 1 }))).toEqual([
      'ValidationException',
      "1 validation error detected: Value '10001' at 'batchSize' failed to satisfy constraint: Member must have value less than or equal to 10000",
      400,
    ]);
    const [name] = await refusal(create({ EventSourceArn: STREAM_ARN, StartingPosition: 'LATEST', ParallelizationFactor: 11 }));
    expect(name).toBe('ValidationException');
  });

  it('refuses an event source lambkin does not poll, naming SQS and Kinesis', async () => {
    const [name, message, status] = await refusal(
      create({ EventSourceArn: `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/t/stream/2024-01-01T00:00:00.000`, StartingPosition: 'LATEST' }),
    );
    expect([name, status]).toEqual(['InvalidParameterValueException', 400]);
    expect(message).toContain('SQS queues');
    expect(message).toContain('Kinesis streams');
    expect(message).toContain('dynamodb');
    expect(await refusal(create({}))).toEqual(['InvalidParameterValueException', 'Unrecognized event source.', 400]);
  });

  it("refuses settings the source does not take (lambkin's words where AWS's are not recorded)", async () => {
    expect(await refusal(create({ EventSourceArn: QUEUE_ARN, StartingPosition: 'LATEST' }))).toEqual([
      'InvalidParameterValueException',
      'StartingPosition is not valid for SQS event sources.',
      400,
    ]);
    expect(await refusal(create({ EventSourceArn: QUEUE_ARN, MaximumRetryAttempts: 3 }))).toEqual([
      'InvalidParameterValueException',
      'Unsupported MaximumRetryAttempts parameter for given event source mapping type.',
      400,
    ]);
    expect(await refusal(create({ EventSourceArn: STREAM_ARN, StartingPosition: 'LATEST', ScalingConfig: { MaximumConcurrency: 2 } }))).toEqual([
      'InvalidParameterValueException',
      'Unsupported ScalingConfig parameter for given event source mapping type.',
      400,
    ]);
    // An empty DestinationConfig names nothing: accepted for a queue, as tools send one.
    expect((await create({ EventSourceArn: QUEUE_ARN, DestinationConfig: { OnFailure: {} } })).$metadata.httpStatusCode).toBe(202);
  });

  it('refuses an invalid filter pattern with AWS message', async () => {
    for (const pattern of ['simple string', '{"body": "not a list"}']) {
      expect(await refusal(create({ EventSourceArn: QUEUE_ARN, FilterCriteria: { Filters: [{ Pattern: pattern }] } }))).toEqual([
        'InvalidParameterValueException',
        'Invalid filter pattern definition.',
        400,
      ]);
    }
  });

  it('refuses a function that does not exist, a stream without StartingPosition, an OnSuccess destination', async () => {
    expect(await refusal(create({ FunctionName: 'doesnotexist', EventSourceArn: QUEUE_ARN }))).toEqual([
      'InvalidParameterValueException',
      'Function does not exist',
      400,
    ]);
    expect(await refusal(create({ EventSourceArn: STREAM_ARN }))).toEqual([
      'InvalidParameterValueException',
      "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member must not be null.",
      400,
    ]);
    expect(
      await refusal(create({ EventSourceArn: QUEUE_ARN, DestinationConfig: { OnSuccess: { Destination: `arn:aws:sqs:us-east-1:${ACCOUNT}:x` } } })),
    ).toEqual(['InvalidParameterValueException', 'Unsupported DestinationConfig parameter for given event source mapping type.', 400]);
  });
});

describe('event source mappings: transitions and the fake poller runner', () => {
  it('passes through Updating, Disabling, Enabling and Deleting; a change mid-transition is ResourceInUseException', async () => {
    await start(400);
    await createNodeFunction(lambda, 'consumer', ZIP);
    const { UUID: uuid } = await create({ EventSourceArn: QUEUE_ARN });
    const inUse = await failure(lambda.send(new UpdateEventSourceMappingCommand({ UUID: uuid, BatchSize: 5 })));
    expect([inUse.name, inUse.$metadata.httpStatusCode]).toEqual(['ResourceInUseException', 400]);
    expect(inUse.message).toContain('Creating');
    await server.mappingsSettled();
    expect((await get(uuid!)).State).toBe('Enabled');

    const updated = await lambda.send(new UpdateEventSourceMappingCommand({ UUID: uuid, BatchSize: 5 }));
    expect(updated.$metadata.httpStatusCode).toBe(202);
    expect([updated.State, updated.BatchSize]).toEqual(['Updating', 5]);
    expect((await failure(lambda.send(new DeleteEventSourceMappingCommand({ UUID: uuid })))).name).toBe('ResourceInUseException');
    await server.mappingsSettled();
    expect((await get(uuid!)).State).toBe('Enabled');

    expect((await lambda.send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: false }))).State).toBe('Disabling');
    await server.mappingsSettled();
    expect((await get(uuid!)).State).toBe('Disabled');
    expect((await lambda.send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: true }))).State).toBe('Enabling');
    await server.mappingsSettled();
    expect((await get(uuid!)).State).toBe('Enabled');

    expect((await lambda.send(new DeleteEventSourceMappingCommand({ UUID: uuid }))).State).toBe('Deleting');
    expect((await get(uuid!)).State).toBe('Deleting');
    await server.mappingsSettled();
    expect((await failure(get(uuid!))).name).toBe('ResourceNotFoundException');
  });

  it('fake poller: one per enabled mapping, restarted on update, stopped on disable, delete and close', async () => {
    await start();
    await createNodeFunction(lambda, 'consumer', ZIP);
    const filters = { Filters: [{ Pattern: JSON.stringify({ body: { kind: ['order'] } }) }] };
    const sqs = (await create({ EventSourceArn: QUEUE_ARN, FilterCriteria: filters })).UUID!;
    const stream = (await create({ EventSourceArn: STREAM_ARN, StartingPosition: 'TRIM_HORIZON' })).UUID!;
    await create({ EventSourceArn: `${QUEUE_ARN}-off`, Enabled: false });
    await server.mappingsSettled();
    expect(pollers.running()).toEqual([sqs, stream].sort());
    const sqsDeps = pollers.events.find((e) => e.uuid === sqs)!.deps;
    expect(sqsDeps.mapping).toMatchObject({ uuid: sqs, source: 'sqs', eventSourceArn: QUEUE_ARN, functionName: 'consumer', batchSize: 10 });
    expect(sqsDeps.checkpoints).toBeDefined();
    expect(sqsDeps.matches?.({ body: { kind: 'order' } })).toBe(true);
    expect(sqsDeps.matches?.({ body: { kind: 'refund' } })).toBe(false);
    expect(pollers.events.find((e) => e.uuid === stream)!.deps.matches).toBeUndefined();

    // A poller's report is the mapping's LastProcessingResult (an SQS mapping shows it once there is one).
    sqsDeps.report('PROBLEM: the queue does not exist');
    expect((await get(sqs)).LastProcessingResult).toBe('PROBLEM: the queue does not exist');
    expect(server.mappingStatus().find((s) => s.uuid === sqs)).toMatchObject({ state: 'Enabled', polling: true, lag: 3, delivered: 5 });

    pollers.events.length = 0;
    await lambda.send(new UpdateEventSourceMappingCommand({ UUID: sqs, BatchSize: 7 }));
    await server.mappingsSettled();
    expect(pollers.events.map((e) => [e.event, e.uuid])).toEqual([
      ['stop', sqs],
      ['start', sqs],
    ]);
    expect(pollers.events[1]!.deps.mapping.batchSize).toBe(7);

    pollers.events.length = 0;
    await lambda.send(new UpdateEventSourceMappingCommand({ UUID: sqs, Enabled: false }));
    await lambda.send(new DeleteEventSourceMappingCommand({ UUID: stream }));
    await server.mappingsSettled();
    expect(pollers.events.map((e) => `${e.event} ${e.uuid}`).sort()).toEqual([`stop ${sqs}`, `stop ${stream}`].sort());
    expect(pollers.running()).toEqual([]);

    await lambda.send(new UpdateEventSourceMappingCommand({ UUID: sqs, Enabled: true }));
    await server.mappingsSettled();
    expect(pollers.running()).toEqual([sqs]);
    await service!.stop();
    expect(pollers.running()).toEqual([]);
  });

  it('fake poller: mappings survive a restart, and the enabled ones poll again', async () => {
    await start();
    await createNodeFunction(lambda, 'consumer', ZIP);
    const enabled = await create({ EventSourceArn: QUEUE_ARN, BatchSize: 20, MaximumBatchingWindowInSeconds: 3 });
    const disabled = await create({ EventSourceArn: STREAM_ARN, StartingPosition: 'LATEST', Enabled: false });
    await server.mappingsSettled();
    await service!.stop();

    await start();
    expect(await get(enabled.UUID!)).toMatchObject({ State: 'Enabled', BatchSize: 20, MaximumBatchingWindowInSeconds: 3, FunctionArn: FUNCTION_ARN });
    expect((await get(disabled.UUID!)).State).toBe('Disabled');
    await server.mappingsSettled();
    expect(pollers.running()).toEqual([enabled.UUID]);
  });
});

describe('event source mappings: the real SQS poller through the API', () => {
  it('drains a queue (fauxqs) into a function made through the SDK, and stops when the mapping is disabled', async () => {
    const fauxqs = await startFauxqsForTest();
    vi.stubEnv('AWS_ENDPOINT_URL_SQS', fauxqs.endpoint);
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
    const invoker = new ProcessInvoker();
    const recordDir = await mkdtemp(join(tmpdir(), 'lambkin-esm-records-'));
    const record = join(recordDir, 'invocations.jsonl');
    try {
      service = await startLocalService({ dataDir, invoker, mappings: {} });
      ({ lambda, server } = service);
      const handler = `const { appendFileSync } = require('node:fs');
exports.handler = async (event) => { appendFileSync(process.env.RECORD, JSON.stringify(event) + '\\n'); return 'ok'; };`;
      await createNodeFunction(lambda, 'consumer', makeZip([{ name: 'index.js', content: handler }]), { Environment: { Variables: { RECORD: record } } });
      const { queueArn, queueUrl } = fauxqs.server.createQueue('orders', { attributes: { VisibilityTimeout: '30' } });
      const created = await create({ EventSourceArn: queueArn, BatchSize: 10 });
      const send = (bodies: string[]) =>
        fauxqs.sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: bodies.map((body, i) => ({ Id: String(i), MessageBody: body })) }));
      const delivered = async () =>
        (await readFile(record, 'utf8').catch(() => ''))
          .split('\n')
          .filter(Boolean)
          .flatMap((line) => (JSON.parse(line) as { Records: { body: string; eventSource: string; eventSourceARN: string }[] }).Records);
      await send(['a', 'b', 'c']);
      await vi.waitFor(async () => expect((await delivered()).map((r) => r.body).sort()).toEqual(['a', 'b', 'c']), { timeout: 30_000, interval: 100 });
      expect((await delivered())[0]).toMatchObject({ eventSource: 'aws:sqs', eventSourceARN: queueArn });
      // Deleted on success.
      await vi.waitFor(
        async () => {
          const { Attributes } = await fauxqs.sqs.send(
            new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
          );
          expect([Attributes?.ApproximateNumberOfMessages, Attributes?.ApproximateNumberOfMessagesNotVisible]).toEqual(['0', '0']);
        },
        { timeout: 10_000, interval: 100 },
      );
      expect(server.mappingStatus()).toMatchObject([{ uuid: created.UUID, state: 'Enabled', polling: true }]);

      await lambda.send(new UpdateEventSourceMappingCommand({ UUID: created.UUID, Enabled: false }));
      await server.mappingsSettled();
      expect((await get(created.UUID!)).State).toBe('Disabled');
      await send(['d']);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect((await delivered()).map((r) => r.body)).not.toContain('d');
    } finally {
      await service?.stop();
      service = undefined;
      await invoker.close();
      await fauxqs.stop();
      vi.unstubAllEnvs();
      await rm(recordDir, { recursive: true, force: true });
    }
  }, 60_000);
});
