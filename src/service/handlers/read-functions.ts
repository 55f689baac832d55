// GetFunction, GetFunctionConfiguration, ListFunctions and DeleteFunction.
import { functionArn, type FunctionRecord } from '../function-record.ts';
import { functionCodeLocation, functionConfiguration, type ConfigurationView } from '../function-configuration.ts';
import { parseFunctionName, resolveQualifier } from '../function-name.ts';
import { current } from '../function-lifecycle.ts';
import type { ServiceResponse } from '../http-io.ts';
import { functionNotFound, invalidParameter, invalidValue, resourceConflict } from '../lambda-error.ts';
import { isVersionNumber, LATEST, resolveFunction } from '../../invocation/resolve-function.ts';
import { retireRevision, type OperationHandler, type ServiceContext, type ServiceRequest } from './context.ts';
import { retireVersion } from './versions.ts';
import { forgetProvisioned } from './provisioned-allocation.ts';
import { forgetEventInvokeConfig } from './event-invoke-config.ts';
import { decodeMarker, encodeMarker, parseMaxItems } from './paging.ts';

const MAX_ITEMS_LIMIT = 10_000;

export const getFunction: OperationHandler = async (context, request) => {
  const { fn, latest, view } = await requestedVersion(context, request);
  const json: Record<string, unknown> = { Configuration: functionConfiguration(fn, view), Code: functionCodeLocation(fn) };
  // Tags and reserved concurrency belong to the function as a whole: shown whichever version is asked for.
  if (Object.keys(latest.tags).length > 0) json.Tags = latest.tags;
  if (latest.reservedConcurrency !== undefined) json.Concurrency = { ReservedConcurrentExecutions: latest.reservedConcurrency };
  return { status: 200, json };
};

export const getFunctionConfiguration: OperationHandler = async (context, request) => {
  const { fn, view } = await requestedVersion(context, request);
  return { status: 200, json: functionConfiguration(fn, view) };
};

/**
 * The version a read names ($LATEST as it is now: function-lifecycle.ts), the function's $LATEST, and how AWS shows
 * it: a request that named $LATEST gets the qualified ARN (`...:function:NAME:$LATEST`), one through an alias the
 * alias's ARN with the version it points to.
 */
async function requestedVersion(
  context: ServiceContext,
  request: ServiceRequest,
): Promise<{ fn: FunctionRecord; latest: FunctionRecord; view: ConfigurationView }> {
  const resolved = await resolveFunction(context, request.functionName ?? '', request.query.get('Qualifier'));
  const latest = await current(context, resolved.latest);
  const fn = resolved.fn.version === undefined ? latest : resolved.fn;
  const view: ConfigurationView = resolved.alias ? { arnQualifier: resolved.alias.name } : { qualified: resolved.qualifier !== undefined };
  return { fn, latest, view };
}

export const listFunctions: OperationHandler = async (context, request) => {
  const maxItems = parseMaxItems(request.query.get('MaxItems'), MAX_ITEMS_LIMIT, invalidValue);
  const marker = request.query.get('Marker');
  const after = marker ? markerName(marker) : undefined;
  // One more than asked for tells whether there is a next page.
  const page = await context.store.list(after, maxItems + 1);
  const functions = page.slice(0, maxItems);
  // FunctionVersion=ALL lists every version of each function with its qualified ARN, $LATEST first.
  const allVersions = request.query.get('FunctionVersion') === 'ALL';
  const listed: Record<string, unknown>[] = [];
  for (const fn of functions) {
    listed.push(functionConfiguration(fn, { listed: true, qualified: allVersions }));
    if (!allVersions) continue;
    for (const version of await context.store.listVersions(fn.name, undefined, Number.MAX_SAFE_INTEGER)) {
      listed.push(functionConfiguration(version, { listed: true }));
    }
  }
  const json: Record<string, unknown> = { Functions: listed };
  if (page.length > maxItems) json.NextMarker = encodeMarker(functions.at(-1)!.name);
  return { status: 200, json };
};

export const deleteFunction: OperationHandler = async (context, request) => {
  const ref = parseFunctionName(request.functionName ?? '');
  const qualifier = resolveQualifier(ref, request.query.get('Qualifier'));
  // In AWS's order (LocalStack's provider.py, delete_function): an alias, then $LATEST, then the function.
  if (qualifier !== undefined && qualifier !== LATEST && !isVersionNumber(qualifier)) {
    throw invalidParameter('Deletion of aliases is not currently supported.');
  }
  if (qualifier === LATEST) throw invalidParameter('$LATEST version cannot be deleted without deleting the function.');
  if (qualifier !== undefined) return deleteVersion(context, ref.name, Number(qualifier));
  // Read before the delete: their environments and content are retired with $LATEST's.
  const versions = await context.store.listVersions(ref.name, undefined, Number.MAX_SAFE_INTEGER);
  const deleted = await context.store.delete(ref.name);
  if (!deleted) throw functionNotFound(functionArn(context.identity, ref.name));
  // Its code and merged /opt leave the data dir once its environments (which mount them) are gone.
  retireRevision(context, deleted);
  for (const version of versions) retireVersion(context, version);
  context.scheduler.forget(ref.name);
  context.invokeObserver?.forget?.(ref.name);
  return { status: 204 };
};

/**
 * Deletes one published version. One that does not exist is deleted without complaint, as Lambda does
 * (test_delete_on_nonexisting_version); an unknown function is named without the qualifier. A version an alias
 * points to (as its version or its additional one) is refused.
 */
async function deleteVersion(context: ServiceContext, name: string, number: number): Promise<ServiceResponse> {
  if (!(await context.store.get(name))) throw functionNotFound(functionArn(context.identity, name));
  const referencing = (await context.store.aliases.list(name, undefined, Number.MAX_SAFE_INTEGER)).filter(
    (alias) => alias.functionVersion === String(number) || Object.hasOwn(alias.additionalVersionWeights ?? {}, String(number)),
  );
  if (referencing.length > 0) {
    // AWS's words, as its users have quoted them (e.g. cloud-custodian#6739, go-lambda-cleanup#45).
    throw resourceConflict(`Unable to delete version because the following aliases reference it: [${referencing.map((alias) => alias.name).join(', ')}]`);
  }
  const deleted = await context.store.deleteVersion(name, number);
  if (deleted) {
    retireVersion(context, deleted);
    // A provisioned-concurrency config on the version goes with it.
    const latest = await context.store.get(name);
    if (latest) await forgetProvisioned(context, latest, String(number));
    // So does its event-invoke config.
    await forgetEventInvokeConfig(context, name, String(number));
    // And its resource-based policy.
    await context.store.policies.deleteAll(name, String(number));
  }
  return { status: 204 };
}

/** The last function name of the previous page. */
function markerName(marker: string): string {
  const name = decodeMarker(marker);
  if (!/^[a-zA-Z0-9-_]{1,64}$/.test(name)) throw invalidParameter(`Invalid Marker: ${marker}`);
  return name;
}
