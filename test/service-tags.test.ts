// TagResource, UntagResource and ListTags through the real @aws-sdk/client-lambda, answered as AWS answers them
// (test_lambda_api.snapshot.json: TestLambdaTag, TestLambdaTags): tags on the function ARN only, AWS's limit and
// messages, reflected in GetFunction, kept across a restart.
import {
  DeleteFunctionCommand,
  GetFunctionCommand,
  ListTagsCommand,
  PublishVersionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { makeZip } from '../tools/zip.ts';
import { createNodeFunction, invokeJson, waitUntilUpdated } from './support/lambda-fixtures.ts';
import { failure, useLocalService } from './support/local-service.ts';
import { ProcessInvoker } from './support/process-invoker.ts';

const ARN_PREFIX = 'arn:aws:lambda:us-east-1:123456789012:function:';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// Runs the functions as local processes, one warm process per version and revision, as the pool keeps environments.
const invoker = new ProcessInvoker();

// Closed after each test, once the service has stopped (registered before the service's own after-hook).
afterEach(() => invoker.close());
const local = useLocalService('lambkin-tags-', () => ({ invoker }));

// Answers the id its process drew when it started: a new one means a new environment.
const zip = () => makeZip([{ name: 'index.mjs', content: 'const started = crypto.randomUUID();\nexport const handler = async () => ({ started });' }]);
const createFunction = (name: string, tags?: Record<string, string>) => createNodeFunction(local.lambda, name, zip(), tags ? { Tags: tags } : {});
const listTags = async (arn: string) => (await local.lambda.send(new ListTagsCommand({ Resource: arn }))).Tags;
const getFunction = (name: string) => local.lambda.send(new GetFunctionCommand({ FunctionName: name }));

describe('tags on a function', () => {
  it('adds, overwrites and removes tags, each answered 204, as ListTags and GetFunction show', async () => {
    await createFunction('tagged', { key_a: 'value_a' });
    const arn = `${ARN_PREFIX}tagged`;
    expect(await listTags(arn)).toEqual({ key_a: 'value_a' });

    const tagged = await local.lambda.send(new TagResourceCommand({ Resource: arn, Tags: { key_b: 'value_b', key_c: 'value_c', key_d: 'value_d' } }));
    expect(tagged.$metadata.httpStatusCode).toBe(204);
    expect(await listTags(arn)).toEqual({ key_a: 'value_a', key_b: 'value_b', key_c: 'value_c', key_d: 'value_d' });

    await local.lambda.send(new TagResourceCommand({ Resource: arn, Tags: { key_c: 'value_x', key_e: 'value_e' } }));
    expect(await listTags(arn)).toEqual({ key_a: 'value_a', key_b: 'value_b', key_c: 'value_x', key_d: 'value_d', key_e: 'value_e' });

    // A key the function does not have is no error.
    const untagged = await local.lambda.send(new UntagResourceCommand({ Resource: arn, TagKeys: ['key_c', 'key_d', 'nope'] }));
    expect(untagged.$metadata.httpStatusCode).toBe(204);
    expect(await listTags(arn)).toEqual({ key_a: 'value_a', key_b: 'value_b', key_e: 'value_e' });
    expect((await getFunction('tagged')).Tags).toEqual({ key_a: 'value_a', key_b: 'value_b', key_e: 'value_e' });

    await local.lambda.send(new UntagResourceCommand({ Resource: arn, TagKeys: ['key_a', 'key_b', 'key_e'] }));
    expect(await listTags(arn)).toEqual({});
    // GetFunction leaves Tags out once there are none, as AWS does (get_fn_response_postuntagall).
    expect((await getFunction('tagged')).Tags).toBeUndefined();
  });

  it('gives the function a new RevisionId on every change, as AWS does, and leaves the rest of it as it was', async () => {
    await createFunction('steady');
    const before = await getFunction('steady');
    await local.lambda.send(new TagResourceCommand({ Resource: `${ARN_PREFIX}steady`, Tags: { team: 'a' } }));
    const tagged = await getFunction('steady');
    expect(tagged.Tags).toEqual({ team: 'a' });
    expect(tagged.Configuration?.RevisionId).toMatch(UUID);
    expect(tagged.Configuration?.RevisionId).not.toBe(before.Configuration?.RevisionId);
    expect({ ...tagged.Configuration, RevisionId: undefined }).toEqual({ ...before.Configuration, RevisionId: undefined });

    await local.lambda.send(new UntagResourceCommand({ Resource: `${ARN_PREFIX}steady`, TagKeys: ['team'] }));
    const untagged = await getFunction('steady');
    expect(new Set([before, tagged, untagged].map((fn) => fn.Configuration?.RevisionId)).size).toBe(3);
    // An update written against the RevisionId from before the tag change is refused, as AWS refuses it.
    const stale = await failure(
      local.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'steady', Description: 'x', RevisionId: tagged.Configuration?.RevisionId })),
    );
    expect(stale.name).toBe('PreconditionFailedException');
  });

  it('leaves a published version as it was: publishing after a tag change publishes nothing new', async () => {
    await createFunction('published');
    const first = await local.lambda.send(new PublishVersionCommand({ FunctionName: 'published' }));
    await local.lambda.send(new TagResourceCommand({ Resource: `${ARN_PREFIX}published`, Tags: { team: 'a' } }));
    const again = await local.lambda.send(new PublishVersionCommand({ FunctionName: 'published' }));
    expect(again.Version).toBe(first.Version);
    expect(again.RevisionId).toBe(first.RevisionId);
  });

  it('keeps the function’s warm environment: a tag change is nothing it runs', async () => {
    await createFunction('warm');
    const { started } = (await invokeJson<{ started: string }>(local.lambda, 'warm')).body;
    await local.lambda.send(new TagResourceCommand({ Resource: `${ARN_PREFIX}warm`, Tags: { team: 'a' } }));
    await local.lambda.send(new UntagResourceCommand({ Resource: `${ARN_PREFIX}warm`, TagKeys: ['team'] }));
    expect((await invokeJson<{ started: string }>(local.lambda, 'warm')).body.started).toBe(started);
    // A change of what it runs still starts a new one.
    await local.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'warm', Description: 'changed' }));
    await waitUntilUpdated(local.lambda, 'warm');
    expect((await invokeJson<{ started: string }>(local.lambda, 'warm')).body.started).not.toBe(started);
  });

  it('keeps tags across a restart', async () => {
    await createFunction('durable', { a: '1' });
    await local.lambda.send(new TagResourceCommand({ Resource: `${ARN_PREFIX}durable`, Tags: { b: '2' } }));
    await local.restart();
    expect(await listTags(`${ARN_PREFIX}durable`)).toEqual({ a: '1', b: '2' });
    expect((await getFunction('durable')).Tags).toEqual({ a: '1', b: '2' });
  });

  it('allows 50 tags, and refuses the 51st as AWS does, on TagResource and CreateFunction', async () => {
    await createFunction('limits');
    const arn = `${ARN_PREFIX}limits`;
    const tags = (n: number, from = 0) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${i + from}_key`, `${i + from}_value`]));
    const tooMany = await failure(local.lambda.send(new TagResourceCommand({ Resource: arn, Tags: tags(51) })));
    expect(tooMany.name).toBe('InvalidParameterValueException');
    expect(tooMany.message).toBe('Number of tags exceeds resource tag limit.');
    expect(await listTags(arn)).toEqual({});

    await local.lambda.send(new TagResourceCommand({ Resource: arn, Tags: tags(50) }));
    expect(Object.keys((await listTags(arn)) ?? {})).toHaveLength(50);
    const oneMore = await failure(local.lambda.send(new TagResourceCommand({ Resource: arn, Tags: { a_key: 'a_value' } })));
    expect(oneMore.message).toBe('Number of tags exceeds resource tag limit.');
    const created = await failure(createFunction('too-many', tags(51)));
    expect([created.name, created.message]).toEqual(['InvalidParameterValueException', 'Number of tags exceeds resource tag limit.']);
    // Overwriting an existing key adds none.
    await local.lambda.send(new TagResourceCommand({ Resource: arn, Tags: { '0_key': 'changed' } }));
    expect((await listTags(arn))?.['0_key']).toBe('changed');
  });
});

describe('tag requests Lambda refuses', () => {
  it('refuses a version or alias ARN, even of a function that does not exist', async () => {
    await createFunction('qualified');
    for (const resource of [`${ARN_PREFIX}qualified:1`, `${ARN_PREFIX}qualified:$LATEST`, `${ARN_PREFIX}qualified:prod`, `${ARN_PREFIX}missing:v1`]) {
      for (const call of [
        () => local.lambda.send(new TagResourceCommand({ Resource: resource, Tags: { a: 'b' } })),
        () => local.lambda.send(new UntagResourceCommand({ Resource: resource, TagKeys: ['a'] })),
        () => local.lambda.send(new ListTagsCommand({ Resource: resource })),
      ]) {
        const error = await failure(call());
        expect(error.name).toBe('InvalidParameterValueException');
        expect(error.$metadata.httpStatusCode).toBe(400);
        expect(error.message).toBe('Tags on function aliases and versions are not supported. Please specify a function ARN.');
      }
    }
  });

  it('answers 404 naming the function for one that does not exist, or no longer does', async () => {
    await createFunction('gone');
    await local.lambda.send(new DeleteFunctionCommand({ FunctionName: 'gone' }));
    for (const name of ['gone', 'doesnotexist']) {
      const arn = `${ARN_PREFIX}${name}`;
      for (const call of [
        () => local.lambda.send(new TagResourceCommand({ Resource: arn, Tags: { a: 'b' } })),
        () => local.lambda.send(new UntagResourceCommand({ Resource: arn, TagKeys: ['a'] })),
        () => local.lambda.send(new ListTagsCommand({ Resource: arn })),
      ]) {
        const error = await failure(call());
        expect(error.name).toBe('ResourceNotFoundException');
        expect(error.$metadata.httpStatusCode).toBe(404);
        expect(error.message).toBe(`Function not found: ${arn}`);
      }
    }
  });

  it('refuses no tags to add, no keys to remove, and an ARN that names no Lambda resource', async () => {
    await createFunction('picky');
    const arn = `${ARN_PREFIX}picky`;
    const noTags = await failure(local.lambda.send(new TagResourceCommand({ Resource: arn, Tags: {} })));
    expect(noTags.name).toBe('InvalidParameterValueException');
    expect(noTags.message).toBe('An error occurred and the request cannot be processed.');

    const noKeys = await failure(local.lambda.send(new UntagResourceCommand({ Resource: arn, TagKeys: [] })));
    expect(noKeys.name).toBe('ValidationException');
    expect(noKeys.message).toBe("1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null");

    const invalid = await failure(local.lambda.send(new ListTagsCommand({ Resource: 'arn:aws:lambda:us-east-1:123456789012:foobar:picky' })));
    expect(invalid.name).toBe('ValidationException');
    expect(invalid.message).toMatch(
      /^1 validation error detected: Value 'arn:aws:lambda:us-east-1:123456789012:foobar:picky' at 'resource' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:\(aws/,
    );
  });
});
