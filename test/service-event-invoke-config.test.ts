// Put/Update/Get/Delete/ListFunctionEventInvokeConfig(s) and DeadLetterConfig through the real @aws-sdk/client-lambda:
// the shapes, statuses and messages AWS recorded (LocalStack's test_lambda_api.snapshot.json,
// TestLambdaEventInvokeConfig; test_lambda_destinations.snapshot.json, test_dead_letter_queue), per-qualifier
// configs, their survival across a restart and their end with their version or alias; and asyncSettingsFor, what the
// delivery worker reads for an event.
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteAliasCommand,
  DeleteFunctionCommand,
  DeleteFunctionEventInvokeConfigCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  GetFunctionEventInvokeConfigCommand,
  type LambdaClient,
  ListFunctionEventInvokeConfigsCommand,
  PublishVersionCommand,
  PutFunctionEventInvokeConfigCommand,
  type PutFunctionEventInvokeConfigCommandInput,
  UpdateFunctionConfigurationCommand,
  UpdateFunctionEventInvokeConfigCommand,
  type UpdateFunctionEventInvokeConfigCommandInput,
} from '@aws-sdk/client-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_ASYNC_SETTINGS } from '../src/delivery/async-settings.ts';
import { asyncSettingsFor } from '../src/service/event-invoke-config.ts';
import { makeZip } from '../tools/zip.ts';
import { createNodeFunction, ROLE, waitUntilUpdated } from './support/lambda-fixtures.ts';
import { failure, makeDataDir, noInvoker, removeDataDir, startLocalService, type LocalService } from './support/local-service.ts';

const ARN_PREFIX = 'arn:aws:lambda:us-east-1:123456789012:function:';
const QUEUE = 'arn:aws:sqs:us-east-1:123456789012:dlq';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:failures';
const NO_SETTING = 'You must specify at least one of error handling or destination setting.';
const DOES_NOT_EXIST = "The function doesn't exist.";
const noConfig = (qualifiedArn: string) => `The function ${qualifiedArn} doesn't have an EventInvokeConfig`;
const invoker = noInvoker('event-invoke-config tests');

let dataDir: string;
let service: LocalService;
let lambda: LambdaClient;

async function start(): Promise<void> {
  service = await startLocalService({ dataDir, invoker });
  ({ lambda } = service);
}

beforeEach(async () => {
  dataDir = await makeDataDir('lambkin-event-invoke-');
  await start();
});

afterEach(async () => {
  await service.stop();
  await removeDataDir(dataDir);
});

const zip = () => makeZip([{ name: 'index.mjs', content: 'export const handler = async () => "ok";' }]);
const put = (input: Omit<PutFunctionEventInvokeConfigCommandInput, 'FunctionName'>, functionName = 'fn') =>
  lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: functionName, ...input }));
const update = (input: Omit<UpdateFunctionEventInvokeConfigCommandInput, 'FunctionName'>, functionName = 'fn') =>
  lambda.send(new UpdateFunctionEventInvokeConfigCommand({ FunctionName: functionName, ...input }));
const get = (qualifier?: string, functionName = 'fn') =>
  lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: functionName, ...(qualifier ? { Qualifier: qualifier } : {}) }));
const list = (input: { MaxItems?: number; Marker?: string } = {}, functionName = 'fn') =>
  lambda.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: functionName, ...input }));
/** An answer without the SDK's $metadata and the LastModified of the moment. */
const shape = <T extends { $metadata?: unknown; LastModified?: unknown }>({ $metadata: _m, LastModified: _l, ...rest }: T) => rest;
const EMPTY_DESTINATIONS = { OnSuccess: {}, OnFailure: {} };

/** Function `fn` with version 1 and alias `live` pointing to it. */
async function functionWithVersionAndAlias(): Promise<void> {
  await createNodeFunction(lambda, 'fn', zip());
  await lambda.send(new PublishVersionCommand({ FunctionName: 'fn' }));
  await lambda.send(new CreateAliasCommand({ FunctionName: 'fn', Name: 'live', FunctionVersion: '1' }));
}

describe('event-invoke config', () => {
  it("answers AWS's shape: FunctionArn qualified with $LATEST, both destinations echoed, LastModified in epoch seconds", async () => {
    await createNodeFunction(lambda, 'fn', zip());
    const before = Date.now() / 1000;
    const answer = await put({ MaximumRetryAttempts: 0 });
    expect(answer.$metadata.httpStatusCode).toBe(200);
    expect(shape(answer)).toEqual({ FunctionArn: `${ARN_PREFIX}fn:$LATEST`, MaximumRetryAttempts: 0, DestinationConfig: EMPTY_DESTINATIONS });
    // The SDK reads an epoch-seconds timestamp into a Date; a string or milliseconds would land far from now.
    const lastModified = answer.LastModified!.getTime() / 1000;
    expect(lastModified).toBeGreaterThanOrEqual(Math.floor(before));
    expect(lastModified).toBeLessThanOrEqual(Date.now() / 1000 + 1);
    expect(shape(await get())).toEqual(shape(answer));
    expect(shape(await get('$LATEST'))).toEqual(shape(answer));
  });

  it('Put overwrites (a setting left out is removed); Update merges', async () => {
    await createNodeFunction(lambda, 'fn', zip());
    await createNodeFunction(lambda, 'other', zip());
    await put({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 60, DestinationConfig: { OnFailure: { Destination: QUEUE } } });
    expect(shape(await put({ MaximumRetryAttempts: 0 }))).toEqual({
      FunctionArn: `${ARN_PREFIX}fn:$LATEST`,
      MaximumRetryAttempts: 0,
      DestinationConfig: EMPTY_DESTINATIONS,
    });

    await put({ MaximumEventAgeInSeconds: 60, DestinationConfig: { OnSuccess: { Destination: `${ARN_PREFIX}other` } } });
    const updated = await update({ MaximumRetryAttempts: 1 });
    expect(shape(updated)).toEqual({
      FunctionArn: `${ARN_PREFIX}fn:$LATEST`,
      MaximumRetryAttempts: 1,
      MaximumEventAgeInSeconds: 60,
      DestinationConfig: { OnSuccess: { Destination: `${ARN_PREFIX}other` }, OnFailure: {} },
    });
    expect(shape(await get())).toEqual(shape(updated));
    // A DestinationConfig named in an update replaces both destinations.
    expect(shape(await update({ DestinationConfig: { OnFailure: { Destination: TOPIC } } })).DestinationConfig).toEqual({
      OnSuccess: {},
      OnFailure: { Destination: TOPIC },
    });
  });

  it('keeps one config per qualifier: $LATEST, a version and an alias, named in any form AWS accepts', async () => {
    await functionWithVersionAndAlias();
    await put({ MaximumRetryAttempts: 0 });
    await put({ Qualifier: '1', MaximumRetryAttempts: 1 });
    expect((await put({ MaximumRetryAttempts: 2 }, `${ARN_PREFIX}fn:live`)).FunctionArn).toBe(`${ARN_PREFIX}fn:live`);
    expect((await get()).MaximumRetryAttempts).toBe(0);
    expect((await get('1')).MaximumRetryAttempts).toBe(1);
    expect((await get(undefined, 'fn:live')).MaximumRetryAttempts).toBe(2);
    expect((await get('live')).FunctionArn).toBe(`${ARN_PREFIX}fn:live`);
    const listed = await list();
    expect(listed.FunctionEventInvokeConfigs!.map((config) => [config.FunctionArn, config.MaximumRetryAttempts])).toEqual([
      [`${ARN_PREFIX}fn:$LATEST`, 0],
      [`${ARN_PREFIX}fn:1`, 1],
      [`${ARN_PREFIX}fn:live`, 2],
    ]);
    expect(listed.NextMarker).toBeUndefined();
    // A config is no part of the function's revision: its RevisionId stays, and publishing again makes no version.
    const revision = (await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'fn' }))).RevisionId;
    await update({ MaximumEventAgeInSeconds: 120 });
    expect((await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'fn' }))).RevisionId).toBe(revision);
    expect((await lambda.send(new PublishVersionCommand({ FunctionName: 'fn' }))).Version).toBe('1');

    await lambda.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: 'fn', Qualifier: '1' }));
    expect((await failure(get('1'))).message).toBe(noConfig(`${ARN_PREFIX}fn:1`));
    expect((await get('live')).MaximumRetryAttempts).toBe(2);
  });

  it('pages the list with MaxItems and NextMarker', async () => {
    await functionWithVersionAndAlias();
    for (const qualifier of ['$LATEST', '1', 'live']) await put({ Qualifier: qualifier, MaximumRetryAttempts: 1 });
    const arns: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = await list({ MaxItems: 2, ...(marker ? { Marker: marker } : {}) });
      pages += 1;
      expect(page.FunctionEventInvokeConfigs!.length).toBeLessThanOrEqual(2);
      arns.push(...page.FunctionEventInvokeConfigs!.map((config) => config.FunctionArn!));
      marker = page.NextMarker;
    } while (marker);
    expect(pages).toBe(2);
    expect(arns).toEqual([`${ARN_PREFIX}fn:$LATEST`, `${ARN_PREFIX}fn:1`, `${ARN_PREFIX}fn:live`]);

    for (const maxItems of [0, 51]) {
      const error = await failure(list({ MaxItems: maxItems }));
      expect(error.name).toBe('ValidationException');
      expect(error.$metadata.httpStatusCode).toBe(400);
    }
  });

  it('survives a restart', async () => {
    await functionWithVersionAndAlias();
    await put({ Qualifier: 'live', MaximumEventAgeInSeconds: 300, DestinationConfig: { OnFailure: { Destination: QUEUE } } });
    const before = shape(await get('live'));
    await service.stop();
    await start();
    expect(shape(await get('live'))).toEqual(before);
  });

  it('goes with the version or alias it names, and with the function', async () => {
    await functionWithVersionAndAlias();
    await put({ Qualifier: '1', MaximumRetryAttempts: 1 });
    await put({ Qualifier: 'live', MaximumRetryAttempts: 1 });
    await put({ MaximumRetryAttempts: 1 });
    await lambda.send(new DeleteAliasCommand({ FunctionName: 'fn', Name: 'live' }));
    await lambda.send(new DeleteFunctionCommand({ FunctionName: 'fn', Qualifier: '1' }));
    expect((await list()).FunctionEventInvokeConfigs!.map((config) => config.FunctionArn)).toEqual([`${ARN_PREFIX}fn:$LATEST`]);
    // An alias made again under the same name starts without a config.
    await lambda.send(new PublishVersionCommand({ FunctionName: 'fn', Description: 'again' }));
    await lambda.send(new CreateAliasCommand({ FunctionName: 'fn', Name: 'live', FunctionVersion: '2' }));
    expect((await failure(get('live'))).message).toBe(noConfig(`${ARN_PREFIX}fn:live`));

    await lambda.send(new DeleteFunctionCommand({ FunctionName: 'fn' }));
    await createNodeFunction(lambda, 'fn', zip());
    expect((await list()).FunctionEventInvokeConfigs).toEqual([]);
  });

  it("refuses as AWS does, in AWS's order and words", async () => {
    await functionWithVersionAndAlias();
    await createNodeFunction(lambda, 'other', zip());
    const refusal = async (promise: Promise<unknown>) => {
      const error = await failure(promise);
      return { status: error.$metadata.httpStatusCode, name: error.name, message: error.message };
    };
    const invalid = (message: string) => ({ status: 400, name: 'InvalidParameterValueException', message });
    const notFound = (message: string) => ({ status: 404, name: 'ResourceNotFoundException', message });

    // No setting is refused before the function is looked up.
    expect(await refusal(put({}, 'doesnotexist'))).toEqual(invalid(NO_SETTING));
    expect(await refusal(update({}))).toEqual(invalid(NO_SETTING));
    expect(await refusal(put({ MaximumRetryAttempts: 1 }, 'doesnotexist'))).toEqual(notFound(DOES_NOT_EXIST));
    expect(await refusal(put({ MaximumRetryAttempts: 1 }, `${ARN_PREFIX}doesnotexist`))).toEqual(notFound(DOES_NOT_EXIST));
    expect(await refusal(put({ Qualifier: 'livedoesnotexist', MaximumRetryAttempts: 1 }))).toEqual(notFound(DOES_NOT_EXIST));
    expect(await refusal(put({ Qualifier: '7', MaximumRetryAttempts: 1 }))).toEqual(notFound(DOES_NOT_EXIST));
    expect(await refusal(put({ Qualifier: 'other', MaximumRetryAttempts: 1 }, 'fn:live'))).toEqual(
      invalid('The derived qualifier from the function name does not match the specified qualifier.'),
    );
    expect(await refusal(update({ MaximumRetryAttempts: 1 }, 'doesnotexist'))).toEqual(notFound(DOES_NOT_EXIST));
    expect(await refusal(list({}, 'doesnotexist'))).toEqual(notFound(DOES_NOT_EXIST));

    // Update, Get and Delete of a config there is none of.
    expect(await refusal(update({ MaximumRetryAttempts: 1 }))).toEqual(notFound(noConfig(`${ARN_PREFIX}fn:$LATEST`)));
    expect(await refusal(update({ Qualifier: 'live', MaximumRetryAttempts: 1 }))).toEqual(notFound(noConfig(`${ARN_PREFIX}fn:live`)));
    expect(await refusal(get())).toEqual(notFound(noConfig(`${ARN_PREFIX}fn:$LATEST`)));
    expect(await refusal(get('1221'))).toEqual(notFound(noConfig(`${ARN_PREFIX}fn:1221`)));
    expect(await refusal(get(undefined, 'doesnotexist'))).toEqual(notFound(noConfig(`${ARN_PREFIX}doesnotexist:$LATEST`)));
    expect(await refusal(lambda.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: 'fn' })))).toEqual(
      notFound(noConfig(`${ARN_PREFIX}fn:$LATEST`)),
    );

    // Destinations.
    const destination = (arn: string, on: 'OnSuccess' | 'OnFailure' = 'OnSuccess') => put({ DestinationConfig: { [on]: { Destination: arn } } });
    expect(await refusal(destination(`${ARN_PREFIX}doesnotexist`))).toEqual(invalid(`The destination ARN ${ARN_PREFIX}doesnotexist is invalid.`));
    expect(await refusal(destination(`${ARN_PREFIX}fn`))).toEqual(invalid("You can't specify the function as a destination for itself."));
    expect(await refusal(destination(`${ARN_PREFIX}fn:live`, 'OnFailure'))).toEqual(invalid("You can't specify the function as a destination for itself."));
    const iam = `arn:aws:iam:us-east-1:123456789012:function:fn`;
    expect(await refusal(destination(iam))).toEqual(
      invalid(`The provided destination config DestinationConfig(onSuccess=OnSuccess(destination=${iam}), onFailure=null) is invalid.`),
    );
    const bucket = 'arn:aws:s3:::failed-events';
    expect(await refusal(destination(bucket, 'OnFailure'))).toEqual(
      invalid(`The provided destination config DestinationConfig(onSuccess=null, onFailure=OnFailure(destination=${bucket})) is invalid.`),
    );
    const malformed = await refusal(destination(`${ARN_PREFIX.replace(':lambda:', ':_-/!lambda:')}fn`, 'OnFailure'));
    expect(malformed).toMatchObject({ status: 400, name: 'ValidationException' });
    expect(malformed.message).toContain(
      `Value '${ARN_PREFIX.replace(':lambda:', ':_-/!lambda:')}fn' at 'destinationConfig.onFailure.destination' failed to satisfy constraint: Member must satisfy regular expression pattern: $|kafka://`,
    );
    // An update's destinations are checked too.
    await put({ MaximumRetryAttempts: 1 });
    expect(await refusal(update({ DestinationConfig: { OnFailure: { Destination: `${ARN_PREFIX}fn` } } }))).toEqual(
      invalid("You can't specify the function as a destination for itself."),
    );

    // The retry and age ranges are the model's.
    const retries = await refusal(put({ MaximumRetryAttempts: 3 }));
    expect(retries).toEqual({
      status: 400,
      name: 'ValidationException',
      message: "1 validation error detected: Value '3' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 2",
    });
    const age = await refusal(put({ MaximumEventAgeInSeconds: 59 }));
    expect(age).toEqual({
      status: 400,
      name: 'ValidationException',
      message:
        "1 validation error detected: Value '59' at 'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 60",
    });
  });

  it('accepts what AWS accepts: another function, a queue, a topic, a bus, other accounts, and an empty destination', async () => {
    await createNodeFunction(lambda, 'fn', zip());
    await createNodeFunction(lambda, 'other', zip());
    const accepted = [
      `${ARN_PREFIX}other`,
      `${ARN_PREFIX}other:$LATEST`,
      QUEUE,
      TOPIC,
      'arn:aws:events:us-east-1:123456789012:event-bus/default',
      'arn:aws:sqs:us-east-1:210987654321:dlq-of-another-account',
      'arn:aws:lambda:us-east-1:210987654321:function:of-another-account',
    ];
    for (const arn of accepted) {
      const answer = await put({ DestinationConfig: { OnFailure: { Destination: arn } } });
      expect(answer.DestinationConfig).toEqual({ OnSuccess: {}, OnFailure: { Destination: arn } });
    }
    // As AWS answers a destination without an ARN (put_destination_success_no_destination_arn).
    expect(shape(await put({ DestinationConfig: { OnSuccess: {} } }))).toEqual({
      FunctionArn: `${ARN_PREFIX}fn:$LATEST`,
      DestinationConfig: EMPTY_DESTINATIONS,
    });
  });
});

describe('DeadLetterConfig', () => {
  it('is shown when set, kept by {} and removed by an empty TargetArn; frozen in a published version', async () => {
    const created = await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'fn',
        Role: ROLE,
        Runtime: 'nodejs24.x',
        Handler: 'index.handler',
        Code: { ZipFile: zip() },
        DeadLetterConfig: { TargetArn: QUEUE },
      }),
    );
    expect(created.DeadLetterConfig).toEqual({ TargetArn: QUEUE });
    await waitUntilUpdated(lambda, 'fn');
    expect((await lambda.send(new GetFunctionCommand({ FunctionName: 'fn' }))).Configuration!.DeadLetterConfig).toEqual({ TargetArn: QUEUE });
    expect((await lambda.send(new PublishVersionCommand({ FunctionName: 'fn' }))).DeadLetterConfig).toEqual({ TargetArn: QUEUE });

    // AWS's recorded answer to `{}` still shows the queue (test_dead_letter_queue, delete_dlq).
    const kept = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'fn', DeadLetterConfig: {} }));
    expect(kept.DeadLetterConfig).toEqual({ TargetArn: QUEUE });
    await waitUntilUpdated(lambda, 'fn');
    const moved = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'fn', DeadLetterConfig: { TargetArn: TOPIC } }));
    expect(moved.DeadLetterConfig).toEqual({ TargetArn: TOPIC });
    await waitUntilUpdated(lambda, 'fn');
    // A changed DeadLetterConfig is a new version to publish; version 1 keeps its queue.
    expect((await lambda.send(new PublishVersionCommand({ FunctionName: 'fn' }))).Version).toBe('2');
    expect((await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'fn', Qualifier: '1' }))).DeadLetterConfig).toEqual({ TargetArn: QUEUE });

    const removed = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'fn', DeadLetterConfig: { TargetArn: '' } }));
    expect(removed).not.toHaveProperty('DeadLetterConfig');
    await waitUntilUpdated(lambda, 'fn');
    await service.stop();
    await start();
    expect(await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'fn' }))).not.toHaveProperty('DeadLetterConfig');
    expect((await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'fn', Qualifier: '2' }))).DeadLetterConfig).toEqual({ TargetArn: TOPIC });
  });

  it('refuses a target that is not an SQS queue or SNS topic of the region, and an empty one at create', async () => {
    await createNodeFunction(lambda, 'fn', zip());
    const refusal = async (promise: Promise<unknown>) => {
      const error = await failure(promise);
      return { status: error.$metadata.httpStatusCode, name: error.name, message: error.message };
    };
    const invalid = (message: string) => ({ status: 400, name: 'InvalidParameterValueException', message });
    const updateTarget = (arn: string) => lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'fn', DeadLetterConfig: { TargetArn: arn } }));
    expect(await refusal(updateTarget(`${ARN_PREFIX}other`))).toEqual(
      invalid('Invalid dead letter queue ARN: The service specified by the TargetArn is not supported for dead letter configuration.'),
    );
    expect(await refusal(updateTarget('arn:aws:sqs:eu-west-1:123456789012:dlq'))).toEqual(
      invalid("Invalid dead letter queue ARN: The resource specified by the TargetArn must be in the same region as the Lambda function it's associated with."),
    );
    const create = (arn: string) =>
      lambda.send(
        new CreateFunctionCommand({
          FunctionName: 'fn2',
          Role: ROLE,
          Runtime: 'nodejs24.x',
          Handler: 'index.handler',
          Code: { ZipFile: zip() },
          DeadLetterConfig: { TargetArn: arn },
        }),
      );
    expect(await refusal(create(''))).toEqual(invalid("Invalid dead letter queue ARN: ARNs must start with 'arn:': "));
    expect((await refusal(create('arn:aws:s3:::bucket'))).name).toBe('InvalidParameterValueException');
    // An SQS queue of another account is a common DLQ.
    expect((await updateTarget('arn:aws:sqs:us-east-1:210987654321:shared-dlq')).DeadLetterConfig).toEqual({
      TargetArn: 'arn:aws:sqs:us-east-1:210987654321:shared-dlq',
    });
  });
});

describe('asyncSettingsFor', () => {
  it("is Lambda's defaults without a config, with the version's dead-letter queue", async () => {
    await createNodeFunction(lambda, 'fn', zip());
    const latest = (await service.store.get('fn'))!;
    expect(asyncSettingsFor(latest, latest, undefined)).toEqual({ ...DEFAULT_ASYNC_SETTINGS });
    expect(DEFAULT_ASYNC_SETTINGS).toEqual({ maximumRetryAttempts: 2, maximumEventAgeInSeconds: 21_600 });
    await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'fn', DeadLetterConfig: { TargetArn: QUEUE } }));
    await waitUntilUpdated(lambda, 'fn');
    const withQueue = (await service.store.get('fn'))!;
    expect(asyncSettingsFor(withQueue, withQueue, '$LATEST')).toEqual({ ...DEFAULT_ASYNC_SETTINGS, deadLetterTarget: QUEUE });
  });

  it("applies the alias's config to an event sent through the alias, the version's to one sent to the version", async () => {
    await createNodeFunction(lambda, 'other', zip());
    await createNodeFunction(lambda, 'fn', zip(), { DeadLetterConfig: { TargetArn: QUEUE } });
    await lambda.send(new PublishVersionCommand({ FunctionName: 'fn' }));
    await lambda.send(new CreateAliasCommand({ FunctionName: 'fn', Name: 'live', FunctionVersion: '1' }));
    await put({
      Qualifier: 'live',
      MaximumRetryAttempts: 0,
      DestinationConfig: { OnSuccess: { Destination: TOPIC }, OnFailure: { Destination: `${ARN_PREFIX}other` } },
    });
    await put({ Qualifier: '1', MaximumEventAgeInSeconds: 60 });
    const latest = (await service.store.get('fn'))!;
    const version1 = (await service.store.getVersion('fn', 1))!;
    expect(asyncSettingsFor(latest, version1, 'live')).toEqual({
      maximumRetryAttempts: 0,
      maximumEventAgeInSeconds: 21_600,
      onSuccess: TOPIC,
      onFailure: `${ARN_PREFIX}other`,
      deadLetterTarget: QUEUE,
    });
    expect(asyncSettingsFor(latest, version1, '1')).toEqual({ maximumRetryAttempts: 2, maximumEventAgeInSeconds: 60, deadLetterTarget: QUEUE });
    // $LATEST has no config of its own: the alias's and the version's do not leak to it.
    expect(asyncSettingsFor(latest, latest, undefined)).toEqual({ ...DEFAULT_ASYNC_SETTINGS, deadLetterTarget: QUEUE });
  });
});
