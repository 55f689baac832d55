// GetFunction, GetFunctionConfiguration, ListFunctions and DeleteFunction.
import { functionArn, type FunctionRecord } from '../function-record.ts';
import { functionCodeLocation, functionConfiguration } from '../function-configuration.ts';
import { parseFunctionName, resolveQualifier } from '../function-name.ts';
import { current } from '../function-lifecycle.ts';
import { functionNotFound, invalidParameter, invalidValue } from '../lambda-error.ts';
import { findFunction, retireRevision, type OperationHandler, type ServiceContext, type ServiceRequest } from './context.ts';
import { decodeMarker, encodeMarker, parseMaxItems } from './paging.ts';

const MAX_ITEMS_LIMIT = 10_000;

export const getFunction: OperationHandler = async (context, request) => {
  const { fn, qualified } = await requestedFunction(context, request);
  const json: Record<string, unknown> = { Configuration: functionConfiguration(fn, { qualified }), Code: functionCodeLocation(fn) };
  if (Object.keys(fn.tags).length > 0) json.Tags = fn.tags;
  if (fn.reservedConcurrency !== undefined) json.Concurrency = { ReservedConcurrentExecutions: fn.reservedConcurrency };
  return { status: 200, json };
};

export const getFunctionConfiguration: OperationHandler = async (context, request) => {
  const { fn, qualified } = await requestedFunction(context, request);
  return { status: 200, json: functionConfiguration(fn, { qualified }) };
};

/**
 * The function a read names, as it is now (function-lifecycle.ts), and whether the request named its version: AWS
 * then answers with the qualified ARN (`...:function:NAME:$LATEST`).
 */
async function requestedFunction(context: ServiceContext, request: ServiceRequest): Promise<{ fn: FunctionRecord; qualified: boolean }> {
  const fn = await current(context, await findFunction(context, request));
  const qualifier = resolveQualifier(parseFunctionName(request.functionName ?? ''), request.query.get('Qualifier'));
  return { fn, qualified: qualifier !== undefined };
}

export const listFunctions: OperationHandler = async (context, request) => {
  const maxItems = parseMaxItems(request.query.get('MaxItems'), MAX_ITEMS_LIMIT, invalidValue);
  const marker = request.query.get('Marker');
  const after = marker ? markerName(marker) : undefined;
  // One more than asked for tells whether there is a next page.
  const page = await context.store.list(after, maxItems + 1);
  const functions = page.slice(0, maxItems);
  // FunctionVersion=ALL lists every version with its qualified ARN; lambkin has $LATEST alone.
  const qualified = request.query.get('FunctionVersion') === 'ALL';
  const json: Record<string, unknown> = { Functions: functions.map((fn) => functionConfiguration(fn, { listed: true, qualified })) };
  if (page.length > maxItems) json.NextMarker = encodeMarker(functions.at(-1)!.name);
  return { status: 200, json };
};

export const deleteFunction: OperationHandler = async (context, request) => {
  const ref = parseFunctionName(request.functionName ?? '');
  const qualifier = resolveQualifier(ref, request.query.get('Qualifier'));
  if (qualifier === '$LATEST') throw invalidParameter('$LATEST version cannot be deleted without deleting the function.');
  if (qualifier !== undefined) {
    // A version that does not exist (lambkin has none yet) is deleted without complaint, as Lambda does; an unknown
    // function is named without the qualifier.
    if (!(await context.store.get(ref.name))) throw functionNotFound(functionArn(context.identity, ref.name));
    return { status: 204 };
  }
  const deleted = await context.store.delete(ref.name);
  if (!deleted) throw functionNotFound(functionArn(context.identity, ref.name));
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
