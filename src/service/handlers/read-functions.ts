// GetFunction, GetFunctionConfiguration, ListFunctions and DeleteFunction.
import { functionArn } from '../function-record.ts';
import { functionCodeLocation, functionConfiguration } from '../function-configuration.ts';
import { parseFunctionName, resolveQualifier } from '../function-name.ts';
import { functionNotFound, invalidParameter, invalidValue } from '../lambda-error.ts';
import { findFunction, retireRevision, type OperationHandler } from './context.ts';
import { decodeMarker, encodeMarker, parseMaxItems } from './paging.ts';

const MAX_ITEMS_LIMIT = 10_000;

export const getFunction: OperationHandler = async (context, request) => {
  const fn = await findFunction(context, request);
  const json: Record<string, unknown> = { Configuration: functionConfiguration(fn), Code: functionCodeLocation(fn) };
  if (Object.keys(fn.tags).length > 0) json.Tags = fn.tags;
  if (fn.reservedConcurrency !== undefined) json.Concurrency = { ReservedConcurrentExecutions: fn.reservedConcurrency };
  return { status: 200, json };
};

export const getFunctionConfiguration: OperationHandler = async (context, request) => ({
  status: 200,
  json: functionConfiguration(await findFunction(context, request)),
});

export const listFunctions: OperationHandler = async (context, request) => {
  const maxItems = parseMaxItems(request.query.get('MaxItems'), MAX_ITEMS_LIMIT, invalidValue);
  const marker = request.query.get('Marker');
  const after = marker ? markerName(marker) : undefined;
  // One more than asked for tells whether there is a next page.
  const page = await context.store.list(after, maxItems + 1);
  const functions = page.slice(0, maxItems);
  const json: Record<string, unknown> = { Functions: functions.map(functionConfiguration) };
  if (page.length > maxItems) json.NextMarker = encodeMarker(functions.at(-1)!.name);
  return { status: 200, json };
};

export const deleteFunction: OperationHandler = async (context, request) => {
  const ref = parseFunctionName(request.functionName ?? '');
  const qualifier = resolveQualifier(ref, request.query.get('Qualifier'));
  if (qualifier === '$LATEST') throw invalidParameter('$LATEST version cannot be deleted without deleting the function.');
  const deleted = qualifier === undefined ? await context.store.delete(ref.name) : undefined;
  if (!deleted) throw functionNotFound(functionArn(context.identity, ref.name, qualifier));
  // Its code and merged /opt leave the data dir once its environments (which mount them) are gone.
  retireRevision(context, deleted);
  context.scheduler.forget(ref.name);
  context.invokeObserver?.forget?.(ref.name);
  return { status: 204 };
};

/** The last function name of the previous page. */
function markerName(marker: string): string {
  const name = decodeMarker(marker);
  if (!/^[a-zA-Z0-9-_]{1,64}$/.test(name)) throw invalidParameter(`Invalid Marker: ${marker}`);
  return name;
}
