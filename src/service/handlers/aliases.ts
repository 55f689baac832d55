// CreateAlias, GetAlias, UpdateAlias, DeleteAlias and ListAliases. The API model has checked the alias name (never
// digits only), FunctionVersion ($LATEST or a number: an alias never points to another alias), and the routing
// weights (keys digits, values 0 to 1) before a handler runs; what is left is what needs the stored function.
// Messages and the order they are checked in are AWS's (test_lambda_api.snapshot.json, TestLambdaAlias).
import { randomUUID } from 'node:crypto';
import { isVersionNumber, LATEST, versionRecord } from '../../invocation/resolve-function.ts';
import { aliasArn, aliasConfiguration } from '../alias-configuration.ts';
import { functionArn, type AliasRecord, type FunctionRecord } from '../function-record.ts';
import { parseFunctionName } from '../function-name.ts';
import { parseJsonObject } from '../http-io.ts';
import { functionNotFound, invalidParameter, resourceConflict, resourceNotFound, validationError } from '../lambda-error.ts';
import { AliasAlreadyExists } from '../storage/errors.ts';
import { aliasChanged } from './alias-effects.ts';
import { checkRevision, type OperationHandler, type ServiceContext, type ServiceRequest } from './context.ts';
import { decodeMarker, encodeMarker, parseMaxItems } from './paging.ts';

/** ListAliases' MaxItems ceiling (the model's MaxListItems). */
const MAX_ITEMS_LIMIT = 10_000;

const functionNameOf = (request: ServiceRequest) => parseFunctionName(request.functionName ?? '').name;

/** The function's $LATEST; 404 naming the unqualified function, as every alias operation but CreateAlias says it. */
async function findLatest(context: ServiceContext, name: string): Promise<FunctionRecord> {
  const latest = await context.store.get(name);
  if (!latest) throw functionNotFound(functionArn(context.identity, name));
  return latest;
}

/** `$LATEST` or a published version of the function: whether it exists. */
async function versionExists(context: ServiceContext, latest: FunctionRecord, version: string): Promise<boolean> {
  if (version !== LATEST && !isVersionNumber(version)) return false;
  return (await versionRecord(context.store, latest, version)) !== undefined;
}

/** 404 for a version an alias would point to (or route to) that the function does not have. */
async function checkVersionExists(context: ServiceContext, latest: FunctionRecord, version: string): Promise<void> {
  if (!(await versionExists(context, latest, version))) throw functionNotFound(functionArn(context.identity, latest.name, version));
}

/**
 * The AdditionalVersionWeights an alias on `primary` may hold: undefined for none (an absent or empty map clears
 * routing). At most one other published version, never $LATEST on either side.
 */
async function checkRouting(
  context: ServiceContext,
  latest: FunctionRecord,
  primary: string,
  routingConfig: unknown,
): Promise<Record<string, number> | undefined> {
  const weights = (routingConfig as { AdditionalVersionWeights?: Record<string, number> } | undefined)?.AdditionalVersionWeights;
  const entries = Object.entries(weights ?? {});
  if (entries.length === 0) return undefined;
  if (entries.length > 1) throw invalidParameter('Number of items in AdditionalVersionWeights cannot be greater than 1');
  const [version, weight] = entries[0]!;
  if (version === primary) {
    throw invalidParameter(`Invalid function version ${primary}. Function version ${primary} is already included in routing configuration.`);
  }
  if (primary === LATEST) throw invalidParameter('$LATEST is not supported for an alias pointing to more than 1 version');
  await checkVersionExists(context, latest, version);
  return { [version]: weight };
}

export const createAlias: OperationHandler = async (context, request) => {
  const functionName = functionNameOf(request);
  const input = parseJsonObject(request.body);
  const name = String(input.Name);
  const functionVersion = String(input.FunctionVersion);
  // A missing function is named with the version asked for, as AWS names it.
  const latest = await context.store.get(functionName);
  if (!latest) throw functionNotFound(functionArn(context.identity, functionName, functionVersion));
  await checkVersionExists(context, latest, functionVersion);
  const exists = () => resourceConflict(`Alias already exists: ${aliasArn(context.identity, functionName, name)}`);
  if (await context.store.aliases.get(functionName, name)) throw exists();
  const weights = await checkRouting(context, latest, functionVersion, input.RoutingConfig);
  const alias: AliasRecord = {
    functionName,
    name,
    functionVersion,
    description: typeof input.Description === 'string' ? input.Description : '',
    ...(weights ? { additionalVersionWeights: weights } : {}),
    revisionId: randomUUID(),
  };
  try {
    await context.store.aliases.create(alias);
  } catch (error) {
    // Created by another request since the check above.
    if (error instanceof AliasAlreadyExists) throw exists();
    throw error;
  }
  return { status: 201, json: aliasConfiguration(context.identity, alias) };
};

export const getAlias: OperationHandler = async (context, request) => {
  const latest = await findLatest(context, functionNameOf(request));
  const name = request.aliasName ?? '';
  const alias = await context.store.aliases.get(latest.name, name);
  if (!alias) throw resourceNotFound(`Cannot find alias arn: ${aliasArn(context.identity, latest.name, name)}`);
  return { status: 200, json: aliasConfiguration(context.identity, alias) };
};

/** Every update, even one that changes nothing, gives the alias a new RevisionId, as AWS does. */
export const updateAlias: OperationHandler = async (context, request) => {
  const latest = await findLatest(context, functionNameOf(request));
  const name = request.aliasName ?? '';
  const notFound = () => resourceNotFound(`Alias not found: ${aliasArn(context.identity, latest.name, name)}`);
  const current = await context.store.aliases.get(latest.name, name);
  if (!current) throw notFound();
  const input = parseJsonObject(request.body);
  checkRevision(current, input.RevisionId);
  const functionVersion = typeof input.FunctionVersion === 'string' ? input.FunctionVersion : current.functionVersion;
  if (functionVersion !== current.functionVersion) await checkVersionExists(context, latest, functionVersion);
  // Routing kept as it was is checked again: it must still suit the version the alias now points to.
  const routing = input.RoutingConfig === undefined ? { AdditionalVersionWeights: current.additionalVersionWeights } : input.RoutingConfig;
  const weights = await checkRouting(context, latest, functionVersion, routing);
  const { additionalVersionWeights: _replaced, ...kept } = current;
  const next: AliasRecord = {
    ...kept,
    functionVersion,
    description: typeof input.Description === 'string' ? input.Description : current.description,
    ...(weights ? { additionalVersionWeights: weights } : {}),
    revisionId: randomUUID(),
  };
  if (!(await context.store.aliases.update(next, current.revisionId))) {
    // Deleted or updated by another request since it was read.
    const now = await context.store.aliases.get(latest.name, name);
    if (!now) throw notFound();
    checkRevision(now, current.revisionId);
  }
  await aliasChanged(context, latest, current, next);
  return { status: 200, json: aliasConfiguration(context.identity, next) };
};

/** 204 whether or not the alias existed, as AWS answers (test_non_existent_alias_deletion); the function must. */
export const deleteAlias: OperationHandler = async (context, request) => {
  const latest = await findLatest(context, functionNameOf(request));
  const deleted = await context.store.aliases.delete(latest.name, request.aliasName ?? '');
  if (deleted) await aliasChanged(context, latest, deleted);
  return { status: 204 };
};

/** Aliases by name; `?FunctionVersion=` keeps those pointing to that version. The Marker names the last alias shown. */
export const listAliases: OperationHandler = async (context, request) => {
  const latest = await findLatest(context, functionNameOf(request));
  const maxItems = parseMaxItems(request.query.get('MaxItems'), MAX_ITEMS_LIMIT, validationError);
  const version = request.query.get('FunctionVersion') || undefined;
  const marker = request.query.get('Marker');
  let after = marker ? decodeMarker(marker) : undefined;
  // One more than a page, to know whether another follows.
  const matched: AliasRecord[] = [];
  for (;;) {
    const batch = await context.store.aliases.list(latest.name, after, maxItems + 1);
    matched.push(...batch.filter((alias) => version === undefined || alias.functionVersion === version));
    if (matched.length > maxItems || batch.length <= maxItems) break;
    after = batch.at(-1)!.name;
  }
  const page = matched.slice(0, maxItems);
  const json: Record<string, unknown> = { Aliases: page.map((alias) => aliasConfiguration(context.identity, alias)) };
  if (matched.length > maxItems) json.NextMarker = encodeMarker(page.at(-1)!.name);
  return { status: 200, json };
};
