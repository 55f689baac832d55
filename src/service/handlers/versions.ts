// PublishVersion and ListVersionsByFunction, and the publish CreateFunction and UpdateFunctionCode do with
// `Publish: true`. A version is a frozen snapshot of $LATEST's code and configuration, numbered per function from 1
// (numbers are never reused, even after a delete); what belongs to the function as a whole (reserved and
// provisioned concurrency, tags) stays on $LATEST. AWS's recorded answers: LocalStack's
// tests/aws/services/lambda_/test_lambda_api.snapshot.json, TestLambdaVersions and TestLambdaRevisions.
import { environmentKey } from '../../invocation/environment-key.ts';
import type { FunctionRecord } from '../function-record.ts';
import { functionConfiguration } from '../function-configuration.ts';
import { checkNotInTransition, current, inTransition, updateInProgress } from '../function-lifecycle.ts';
import { parseJsonObject } from '../http-io.ts';
import { functionNotFound, invalidParameter, invalidValue } from '../lambda-error.ts';
import { retiredContent } from '../storage/function-store.ts';
import { checkString } from '../validation.ts';
import { checkRevision, findFunction, newRevision, type OperationHandler, type ServiceContext } from './context.ts';
import { decodeMarker, encodeMarker, parseMaxItems } from './paging.ts';

/** ListVersionsByFunction's ceiling for MaxItems (the API model's). */
const MAX_ITEMS_LIMIT = 10_000;
/** Lambda answers at most 50 versions a page, whatever MaxItems asks for. */
const MAX_PAGE = 50;

export const publishVersion: OperationHandler = async (context, request) => {
  const input = parseJsonObject(request.body);
  const latest = await current(context, await findFunction(context, request));
  checkRevision(latest, input.RevisionId);
  const codeSha256 = input.CodeSha256;
  if (codeSha256 !== undefined && codeSha256 !== null && codeSha256 !== latest.code.sha256) {
    throw invalidParameter(
      `CodeSHA256 (${String(codeSha256)}) is different from current CodeSHA256 in $LATEST (${latest.code.sha256}). Please try again with the CodeSHA256 in $LATEST.`,
    );
  }
  checkNotInTransition(latest);
  const description = input.Description === undefined || input.Description === null ? undefined : checkString(input.Description, 'description', '');
  const { version } = await publish(context, latest, description);
  return { status: 201, json: functionConfiguration(version) };
};

export interface Published {
  /** The version published, or the last one when nothing changed since. */
  version: FunctionRecord;
  /** $LATEST as stored now: its lastPublishedVersion and RevisionId moved on (unchanged when nothing was published). */
  latest: FunctionRecord;
}

/**
 * Publishes `latest` as its next version, or answers its last version when nothing changed since that was published
 * (Lambda's no-op, still 201). `description` overrides $LATEST's. Another change saved since `latest` was read is
 * in progress: refused as AWS refuses an update meanwhile.
 */
export async function publish(context: ServiceContext, latest: FunctionRecord, description?: string): Promise<Published> {
  const lastNumber = latest.lastPublishedVersion ?? 0;
  const last = lastNumber > 0 ? await context.store.getVersion(latest.name, lastNumber) : undefined;
  if (last && sameSnapshot(last, latest, description)) return { version: last, latest };
  const number = lastNumber + 1;
  const version = versionSnapshot(latest, number, description);
  const moved: FunctionRecord = { ...latest, lastPublishedVersion: number, revisionId: newRevision().revisionId };
  if (!(await context.store.publish(version, moved, latest.revisionId))) {
    const now = await context.store.get(latest.name);
    if (!now) throw functionNotFound(latest.arn);
    // Another publish got there first (two sent at once): publishing again answers its version, as nothing changed
    // since. Anything else that moved $LATEST on is an update in progress.
    if (!inTransition(now) && (now.lastPublishedVersion ?? 0) > lastNumber) return publish(context, now, description);
    throw updateInProgress(now);
  }
  return { version, latest: moved };
}

/**
 * `fn` without the settings of the function as a whole, which $LATEST alone holds (concurrency, tags, the version
 * counter, the environments' revision): a version never carries them, and they never make a publish new.
 */
function withoutFunctionWide(fn: FunctionRecord) {
  const {
    reservedConcurrency,
    provisionedConcurrency,
    provisionedConcurrencyConfigs,
    eventInvokeConfigs,
    lastPublishedVersion,
    tags,
    sameEnvironment,
    ...rest
  } = fn;
  return rest;
}

/** Version `number` of `latest`: its own RevisionId and LastModified, Active and done with any update. */
export function versionSnapshot(latest: FunctionRecord, number: number, description?: string): FunctionRecord {
  return {
    ...withoutFunctionWide(latest),
    tags: {},
    version: String(number),
    description: description ?? latest.description,
    ...newRevision(),
    state: 'Active',
    lastUpdateStatus: 'Successful',
  };
}

/** The fields that make a version what it runs: all but its identity, revision, state and function-wide settings. */
function frozenFields(fn: FunctionRecord): string {
  const { version, revisionId, lastModified, state, lastUpdateStatus, ...frozen } = withoutFunctionWide(fn);
  return canonicalJson(frozen);
}

/** `last` is what publishing `latest` now (with `description`) would freeze: code and configuration alike. */
function sameSnapshot(last: FunctionRecord, latest: FunctionRecord, description?: string): boolean {
  return last.code.sha256 === latest.code.sha256 && frozenFields(last) === frozenFields({ ...latest, description: description ?? latest.description });
}

/** JSON with object keys sorted, so two records built in different orders compare equal. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );
}

export const listVersionsByFunction: OperationHandler = async (context, request) => {
  const latest = await current(context, await findFunction(context, request));
  const maxItems = Math.min(parseMaxItems(request.query.get('MaxItems'), MAX_ITEMS_LIMIT, invalidValue), MAX_PAGE);
  const marker = request.query.get('Marker');
  // The marker names the last version of the previous page: `$LATEST` or a number.
  const after = marker ? markerVersion(marker) : undefined;
  const page: FunctionRecord[] = after === undefined ? [latest] : [];
  const afterNumber = after === undefined || after === '$LATEST' ? 0 : Number(after);
  // One more than asked for tells whether there is a next page.
  page.push(...(await context.store.listVersions(latest.name, afterNumber, maxItems + 1 - page.length)));
  const versions = page.slice(0, maxItems);
  const json: Record<string, unknown> = { Versions: versions.map((fn) => functionConfiguration(fn, { listed: true, qualified: true })) };
  if (page.length > maxItems) json.NextMarker = encodeMarker(versions.at(-1)!.version ?? '$LATEST');
  return { status: 200, json };
};

function markerVersion(marker: string): string {
  const version = decodeMarker(marker);
  if (version !== '$LATEST' && !/^\d+$/.test(version)) throw invalidParameter(`Invalid Marker: ${marker}`);
  return version;
}

/**
 * Version `version` was deleted: its environments go, and the content only it named once they have stopped (the
 * collector keeps whatever $LATEST or another version still names).
 */
export function retireVersion(context: ServiceContext, version: FunctionRecord): void {
  context.store.retire?.(retiredContent(version), () => context.invoker.snapshot?.().environments ?? []);
  context.invoker.retire?.(environmentKey(version));
}
