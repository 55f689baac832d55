// TagResource, UntagResource and ListTags on a function: tags are the function's, not a version's or an alias's, and
// live on its $LATEST record (GetFunction shows them too). Messages are AWS's (test_lambda_api.snapshot.json,
// TestLambdaTag and TestLambdaTags).
//
// Every tag change gives the function a new RevisionId, as AWS gives one (TestLambdaTags::test_tag_lifecycle), but
// leaves its environments running: tags are not something an environment runs (FunctionRecord.sameEnvironment).
import { randomUUID } from 'node:crypto';
import { checkFunctionHome } from '../function-name.ts';
import { environmentRevision, functionArn, type FunctionRecord } from '../function-record.ts';
import { parseJsonObject } from '../http-io.ts';
import { functionNotFound, invalidParameter, resourceNotFound, validationException } from '../lambda-error.ts';
import type { OperationHandler, ServiceContext, ServiceRequest } from './context.ts';

/** Lambda's limit of tags per resource. */
const MAX_TAGS = 50;

/** Refuses more tags than a function may hold, in AWS's words (TagResource and CreateFunction alike). */
export function checkTagCount(tags: Record<string, string>): Record<string, string> {
  if (Object.keys(tags).length > MAX_TAGS) throw invalidParameter('Number of tags exceeds resource tag limit.');
  return tags;
}

// The API model's TaggableResource pattern has been checked: what is left is which resource it names.
const FUNCTION_ARN = /^arn:[^:]+:lambda:[^:]+:\d{12}:function:([a-zA-Z0-9-_]+)(?::(.+))?$/;
const EVENT_SOURCE_MAPPING_ARN = /^arn:[^:]+:lambda:[^:]+:\d{12}:event-source-mapping:/;

/** The function a tag request's Resource names, read fresh from the store. */
async function taggedFunction(context: ServiceContext, request: ServiceRequest): Promise<FunctionRecord> {
  const resource = request.resource ?? '';
  checkFunctionHome(resource, context.identity);
  const match = FUNCTION_ARN.exec(resource);
  if (!match) {
    // lambkin has no event source mappings, code-signing configs or capacity providers to tag.
    if (EVENT_SOURCE_MAPPING_ARN.test(resource)) throw resourceNotFound(`Event source mapping not found: ${resource}`);
    throw resourceNotFound(`Resource not found: ${resource}`);
  }
  // Refused before the function is looked up, as AWS does: even for a function that does not exist.
  if (match[2] !== undefined) throw invalidParameter('Tags on function aliases and versions are not supported. Please specify a function ARN.');
  const fn = await context.store.get(match[1]!);
  if (!fn) throw functionNotFound(functionArn(context.identity, match[1]!));
  return fn;
}

/**
 * Writes the tags `change` makes of the function's current ones, only while the function is as it was read (else
 * read again), so that no concurrent change, of its tags or anything else, is lost.
 */
async function changeTags(context: ServiceContext, request: ServiceRequest, change: (tags: Record<string, string>) => Record<string, string>) {
  for (;;) {
    const fn = await taggedFunction(context, request);
    const revisionId = randomUUID();
    const sameEnvironment = { revisionId, environmentRevision: environmentRevision(fn) };
    if (await context.store.transition(fn.name, fn.revisionId, { tags: change(fn.tags), revisionId, sameEnvironment })) return;
  }
}

export const tagResource: OperationHandler = async (context, request) => {
  const tags = parseJsonObject(request.body).Tags as Record<string, string> | undefined;
  if (!tags || Object.keys(tags).length === 0) throw invalidParameter('An error occurred and the request cannot be processed.');
  await changeTags(context, request, (current) => checkTagCount({ ...current, ...tags }));
  return { status: 204 };
};

export const untagResource: OperationHandler = async (context, request) => {
  const keys = request.query.getAll('tagKeys');
  if (keys.length === 0) {
    throw validationException("1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null");
  }
  await changeTags(context, request, (current) => Object.fromEntries(Object.entries(current).filter(([key]) => !keys.includes(key))));
  return { status: 204 };
};

export const listTags: OperationHandler = async (context, request) => {
  const fn = await taggedFunction(context, request);
  return { status: 200, json: { Tags: fn.tags } };
};
