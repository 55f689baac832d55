// TagResource, UntagResource and ListTags through the real @aws-sdk/client-lambda, answered as AWS answers them
// (test_lambda_api.snapshot.json: TestLambdaTag, TestLambdaTags): tags on the function ARN only, AWS's limit and
// messages, reflected in GetFunction, kept across a restart.
import {
  DeleteFunctionCommand,
  GetFunctionCommand,
  type LambdaClient,
  ListTagsCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeZip } from '../tools/zip.ts';
import { createNodeFunction } from './support/lambda-fixtures.ts';
import { failure, makeDataDir, noInvoker, removeDataDir, startLocalService, type LocalService } from './support/local-service.ts';

const ARN_PREFIX = 'arn:aws:lambda:us-east-1:123456789012:function:';
const invoker = noInvoker('tag tests');

let dataDir: string;
let service: LocalService;
let lambda: LambdaClient;

async function start(): Promise<void> {
  service = await startLocalService({ dataDir, invoker });
  ({ lambda } = service);
}

beforeEach(async () => {
  dataDir = await makeDataDir('lambkin-tags-');
  await start();
});

afterEach(async () => {
  await service.stop();
  await removeDataDir(dataDir);
});

const zip = () => makeZip([{ name: 'index.mjs', content: 'export const handler = async () => "hi";' }]);
const createFunction = (name: string, tags?: Record<string, string>) => createNodeFunction(lambda, name, zip(), tags ? { Tags: tags } : {});
const listTags = async (arn: string) => (await lambda.send(new ListTagsCommand({ Resource: arn }))).Tags;
const getFunction = (name: string) => lambda.send(new GetFunctionCommand({ FunctionName: name }));

describe('tags on a function', () => {
  it('adds, overwrites and removes tags, each answered 204, as ListTags and GetFunction show', async () => {
    await createFunction('tagged', { key_a: 'value_a' });
    const arn = `${ARN_PREFIX}tagged`;
    expect(await listTags(arn)).toEqual({ key_a: 'value_a' });

    const tagged = await lambda.send(new TagResourceCommand({ Resource: arn, Tags: { key_b: 'value_b', key_c: 'value_c', key_d: 'value_d' } }));
    expect(tagged.$metadata.httpStatusCode).toBe(204);
    expect(await listTags(arn)).toEqual({ key_a: 'value_a', key_b: 'value_b', key_c: 'value_c', key_d: 'value_d' });

    await lambda.send(new TagResourceCommand({ Resource: arn, Tags: { key_c: 'value_x', key_e: 'value_e' } }));
    expect(await listTags(arn)).toEqual({ key_a: 'value_a', key_b: 'value_b', key_c: 'value_x', key_d: 'value_d', key_e: 'value_e' });

    // A key the function does not have is no error.
    const untagged = await lambda.send(new UntagResourceCommand({ Resource: arn, TagKeys: ['key_c', 'key_d', 'nope'] }));
    expect(untagged.$metadata.httpStatusCode).toBe(204);
    expect(await listTags(arn)).toEqual({ key_a: 'value_a', key_b: 'value_b', key_e: 'value_e' });
    expect((await getFunction('tagged')).Tags).toEqual({ key_a: 'value_a', key_b: 'value_b', key_e: 'value_e' });

    await lambda.send(new UntagResourceCommand({ Resource: arn, TagKeys: ['key_a', 'key_b', 'key_e'] }));
    expect(await listTags(arn)).toEqual({});
    // GetFunction leaves Tags out once there are none, as AWS does (get_fn_response_postuntagall).
    expect((await getFunction('tagged')).Tags).toBeUndefined();
  });

  it('keeps the function otherwise as it was: its configuration and RevisionId', async () => {
    await createFunction('steady');
    const before = await getFunction('steady');
    await lambda.send(new TagResourceCommand({ Resource: `${ARN_PREFIX}steady`, Tags: { team: 'a' } }));
    const after = await getFunction('steady');
    expect(after.Tags).toEqual({ team: 'a' });
    // lambkin keeps the RevisionId (AWS issues a new one): a tag change must not retire the function's environments.
    expect(after.Configuration).toEqual(before.Configuration);
  });

  it('keeps tags across a restart', async () => {
    await createFunction('durable', { a: '1' });
    await lambda.send(new TagResourceCommand({ Resource: `${ARN_PREFIX}durable`, Tags: { b: '2' } }));
    await service.stop();
    await start();
    expect(await listTags(`${ARN_PREFIX}durable`)).toEqual({ a: '1', b: '2' });
    expect((await getFunction('durable')).Tags).toEqual({ a: '1', b: '2' });
  });

  it('allows 50 tags, and refuses the 51st as AWS does', async () => {
    await createFunction('limits');
    const arn = `${ARN_PREFIX}limits`;
    const tags = (n: number, from = 0) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${i + from}_key`, `${i + from}_value`]));
    const tooMany = await failure(lambda.send(new TagResourceCommand({ Resource: arn, Tags: tags(51) })));
    expect(tooMany.name).toBe('InvalidParameterValueException');
    expect(tooMany.message).toBe('Number of tags exceeds resource tag limit.');
    expect(await listTags(arn)).toEqual({});

    await lambda.send(new TagResourceCommand({ Resource: arn, Tags: tags(50) }));
    expect(Object.keys((await listTags(arn)) ?? {})).toHaveLength(50);
    const oneMore = await failure(lambda.send(new TagResourceCommand({ Resource: arn, Tags: { a_key: 'a_value' } })));
    expect(oneMore.message).toBe('Number of tags exceeds resource tag limit.');
    // Overwriting an existing key adds none.
    await lambda.send(new TagResourceCommand({ Resource: arn, Tags: { '0_key': 'changed' } }));
    expect((await listTags(arn))?.['0_key']).toBe('changed');
  });
});

describe('tag requests Lambda refuses', () => {
  it('refuses a version or alias ARN, even of a function that does not exist', async () => {
    await createFunction('qualified');
    for (const resource of [`${ARN_PREFIX}qualified:1`, `${ARN_PREFIX}qualified:$LATEST`, `${ARN_PREFIX}qualified:prod`, `${ARN_PREFIX}missing:v1`]) {
      for (const call of [
        () => lambda.send(new TagResourceCommand({ Resource: resource, Tags: { a: 'b' } })),
        () => lambda.send(new UntagResourceCommand({ Resource: resource, TagKeys: ['a'] })),
        () => lambda.send(new ListTagsCommand({ Resource: resource })),
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
    await lambda.send(new DeleteFunctionCommand({ FunctionName: 'gone' }));
    for (const name of ['gone', 'doesnotexist']) {
      const arn = `${ARN_PREFIX}${name}`;
      for (const call of [
        () => lambda.send(new TagResourceCommand({ Resource: arn, Tags: { a: 'b' } })),
        () => lambda.send(new UntagResourceCommand({ Resource: arn, TagKeys: ['a'] })),
        () => lambda.send(new ListTagsCommand({ Resource: arn })),
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
    const noTags = await failure(lambda.send(new TagResourceCommand({ Resource: arn, Tags: {} })));
    expect(noTags.name).toBe('InvalidParameterValueException');
    expect(noTags.message).toBe('An error occurred and the request cannot be processed.');

    const noKeys = await failure(lambda.send(new UntagResourceCommand({ Resource: arn, TagKeys: [] })));
    expect(noKeys.name).toBe('ValidationException');
    expect(noKeys.message).toBe("1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null");

    const invalid = await failure(lambda.send(new ListTagsCommand({ Resource: 'arn:aws:lambda:us-east-1:123456789012:foobar:picky' })));
    expect(invalid.name).toBe('ValidationException');
    expect(invalid.message).toMatch(
      /^1 validation error detected: Value 'arn:aws:lambda:us-east-1:123456789012:foobar:picky' at 'resource' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:\(aws/,
    );
  });
});
