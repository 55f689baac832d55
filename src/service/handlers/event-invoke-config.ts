// Put/Update/Get/Delete/ListFunctionEventInvokeConfig(s): how asynchronous invokes of a qualifier ($LATEST when none,
// a published version, an alias) are retried and where their records go. The configs live on $LATEST (function-wide,
// like provisioned concurrency) by qualifier, saved without a new RevisionId; a version's or alias's goes when it is
// deleted (forgetEventInvokeConfig). Messages, statuses and their order as AWS answers (LocalStack's
// test_lambda_api.snapshot.json, TestLambdaEventInvokeConfig; provider.py for the order of the checks).
import { LATEST, resolveFunction } from '../../invocation/resolve-function.ts';
import { eventInvokeConfigJson, eventInvokeConfigsOf, eventInvokeTimestamp } from '../event-invoke-config.ts';
import { functionArn, type EventInvokeConfigRecord, type FunctionRecord } from '../function-record.ts';
import { parseFunctionName, resolveQualifier } from '../function-name.ts';
import { parseJsonObject } from '../http-io.ts';
import { invalidParameter, LambdaError, resourceNotFound, validationError } from '../lambda-error.ts';
import { saveFunction, type OperationHandler, type ServiceContext, type ServiceRequest } from './context.ts';
import { decodeMarker, encodeMarker, parseMaxItems } from './paging.ts';

const MAX_ITEMS_LIMIT = 50;

/** The services lambkin delivers a destination's record to (src/delivery/destinations*.ts): others are refused. */
const DELIVERABLE_SERVICES = new Set(['lambda', 'sqs', 'sns', 'events']);
// Groups: region, account, name.
const LAMBDA_FUNCTION_ARN = /^arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\d{12}):function:([a-zA-Z0-9-_]+)(?::(?:\$LATEST|[a-zA-Z0-9-_]+))?$/;

interface Settings {
  maximumRetryAttempts?: number;
  maximumEventAgeInSeconds?: number;
  /** Given: both destinations as the request names them (an omitted one unset). */
  destinations?: { onSuccess?: string; onFailure?: string };
}

export const putFunctionEventInvokeConfig: OperationHandler = async (context, request) => {
  const settings = requestedSettings(request);
  const { latest, qualifier } = await findExisting(context, request);
  if (settings.destinations) await checkDestinations(context, latest.name, settings.destinations);
  // Put replaces the whole config: a setting left out is removed.
  const config = withSettings({ lastModified: eventInvokeTimestamp() }, settings);
  return { status: 200, json: await save(context, latest, qualifier, config) };
};

export const updateFunctionEventInvokeConfig: OperationHandler = async (context, request) => {
  const settings = requestedSettings(request);
  const { latest, qualifier } = await findExisting(context, request);
  const existing = eventInvokeConfigsOf(latest)[qualifier];
  if (!existing) throw noConfig(functionArn(context.identity, latest.name, qualifier));
  if (settings.destinations) await checkDestinations(context, latest.name, settings.destinations);
  // Update changes only what it names; DestinationConfig, when named, replaces both destinations (LocalStack's reading).
  const config = withSettings({ ...existing, lastModified: eventInvokeTimestamp() }, settings);
  return { status: 200, json: await save(context, latest, qualifier, config) };
};

export const getFunctionEventInvokeConfig: OperationHandler = async (context, request) => {
  const { latest, qualifier, arn } = await findConfigured(context, request);
  return { status: 200, json: eventInvokeConfigJson(arn, eventInvokeConfigsOf(latest)[qualifier]!) };
};

export const deleteFunctionEventInvokeConfig: OperationHandler = async (context, request) => {
  const { latest, qualifier } = await findConfigured(context, request);
  await forgetEventInvokeConfig(context, latest.name, qualifier);
  return { status: 204 };
};

/** The function's configs: $LATEST first, versions in number order, then aliases by name; the Marker names the last shown. */
export const listFunctionEventInvokeConfigs: OperationHandler = async (context, request) => {
  const name = parseFunctionName(request.functionName ?? '').name;
  const maxItems = parseMaxItems(request.query.get('MaxItems'), MAX_ITEMS_LIMIT, validationError);
  const latest = await context.store.get(name);
  if (!latest) throw functionDoesNotExist();
  const qualifiers = Object.keys(eventInvokeConfigsOf(latest)).sort(byQualifier);
  const marker = request.query.get('Marker');
  const after = marker ? decodeMarker(marker) : undefined;
  const start = after === undefined ? 0 : qualifiers.findIndex((qualifier) => byQualifier(qualifier, after) > 0);
  const rest = start < 0 ? [] : qualifiers.slice(start);
  const page = rest.slice(0, maxItems);
  const configs = eventInvokeConfigsOf(latest);
  const json: Record<string, unknown> = {
    FunctionEventInvokeConfigs: page.map((qualifier) => eventInvokeConfigJson(functionArn(context.identity, name, qualifier), configs[qualifier]!)),
  };
  if (rest.length > maxItems) json.NextMarker = encodeMarker(page.at(-1)!);
  return { status: 200, json };
};

/**
 * The config on `qualifier` of function `name` goes (saved without a new RevisionId): for
 * DeleteFunctionEventInvokeConfig, and when the version or alias it names is deleted. Nothing when there is none.
 */
export async function forgetEventInvokeConfig(context: ServiceContext, name: string, qualifier: string): Promise<void> {
  const latest = await context.store.get(name);
  if (!latest || !(qualifier in eventInvokeConfigsOf(latest))) return;
  const { [qualifier]: _dropped, ...rest } = eventInvokeConfigsOf(latest);
  const { eventInvokeConfigs: _all, ...bare } = latest;
  await context.store.update(Object.keys(rest).length > 0 ? { ...bare, eventInvokeConfigs: rest } : bare);
}

async function save(context: ServiceContext, latest: FunctionRecord, qualifier: string, config: EventInvokeConfigRecord): Promise<Record<string, unknown>> {
  // The freshest $LATEST, so a config another request saved meanwhile (on another qualifier) is kept.
  const current = (await context.store.get(latest.name)) ?? latest;
  await saveFunction(context, { ...current, eventInvokeConfigs: { ...eventInvokeConfigsOf(current), [qualifier]: config } });
  return eventInvokeConfigJson(functionArn(context.identity, latest.name, qualifier), config);
}

/** The settings a Put or Update names; refused first, before the function is looked up, when it names none. */
function requestedSettings(request: ServiceRequest): Settings {
  const input = parseJsonObject(request.body);
  const given = (value: unknown) => value !== undefined && value !== null;
  if (!given(input.MaximumRetryAttempts) && !given(input.MaximumEventAgeInSeconds) && !given(input.DestinationConfig)) {
    throw invalidParameter('You must specify at least one of error handling or destination setting.');
  }
  const settings: Settings = {};
  if (given(input.MaximumRetryAttempts)) settings.maximumRetryAttempts = input.MaximumRetryAttempts as number;
  if (given(input.MaximumEventAgeInSeconds)) settings.maximumEventAgeInSeconds = input.MaximumEventAgeInSeconds as number;
  if (given(input.DestinationConfig)) {
    const config = input.DestinationConfig as { OnSuccess?: { Destination?: unknown }; OnFailure?: { Destination?: unknown } };
    const destination = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
    const onSuccess = destination(config.OnSuccess?.Destination);
    const onFailure = destination(config.OnFailure?.Destination);
    settings.destinations = { ...(onSuccess ? { onSuccess } : {}), ...(onFailure ? { onFailure } : {}) };
  }
  return settings;
}

function withSettings(base: EventInvokeConfigRecord, settings: Settings): EventInvokeConfigRecord {
  const config: EventInvokeConfigRecord = { ...base };
  if (settings.maximumRetryAttempts !== undefined) config.maximumRetryAttempts = settings.maximumRetryAttempts;
  if (settings.maximumEventAgeInSeconds !== undefined) config.maximumEventAgeInSeconds = settings.maximumEventAgeInSeconds;
  if (settings.destinations) {
    delete config.onSuccess;
    delete config.onFailure;
    Object.assign(config, settings.destinations);
  }
  return config;
}

/** The request's qualifier ($LATEST when none) and its function; Put and Update answer "doesn't exist" for either missing. */
async function findExisting(context: ServiceContext, request: ServiceRequest): Promise<{ latest: FunctionRecord; qualifier: string }> {
  try {
    const resolved = await resolveFunction(context, request.functionName ?? '', request.query.get('Qualifier'));
    return { latest: resolved.latest, qualifier: resolved.qualifier ?? LATEST };
  } catch (error) {
    if (error instanceof LambdaError && error.type === 'ResourceNotFoundException') throw functionDoesNotExist();
    throw error;
  }
}

/** Get and Delete: one 404 naming the qualified ARN, whether the function, its qualifier or the config is missing. */
async function findConfigured(context: ServiceContext, request: ServiceRequest): Promise<{ latest: FunctionRecord; qualifier: string; arn: string }> {
  const ref = parseFunctionName(request.functionName ?? '');
  const qualifier = resolveQualifier(ref, request.query.get('Qualifier')) ?? LATEST;
  const arn = functionArn(context.identity, ref.name, qualifier);
  const latest = await context.store.get(ref.name);
  if (!latest || !eventInvokeConfigsOf(latest)[qualifier]) throw noConfig(arn);
  return { latest, qualifier, arn };
}

/**
 * AWS's checks of each destination, OnFailure's first (provider.py _validate_destination_config): a function of
 * this account and region must exist and not be the function itself; a service lambkin cannot deliver to (S3 among
 * them) makes the whole DestinationConfig invalid. Queues, topics, buses and functions of other accounts are not
 * looked up: their own endpoint decides whether they exist.
 */
async function checkDestinations(context: ServiceContext, functionName: string, destinations: { onSuccess?: string; onFailure?: string }): Promise<void> {
  for (const destination of [destinations.onFailure, destinations.onSuccess]) {
    if (destination === undefined) continue;
    const service = destination.split(':')[2];
    if (service === undefined || !DELIVERABLE_SERVICES.has(service)) throw invalidDestinationConfig(destinations);
    if (service !== 'lambda') continue;
    const match = LAMBDA_FUNCTION_ARN.exec(destination);
    if (!match) throw invalidDestination(destination);
    const [, region, account, name] = match;
    if (region !== context.identity.region || account !== context.identity.accountId) continue;
    if (!(await context.store.get(name!))) throw invalidDestination(destination);
    if (name === functionName) throw invalidParameter("You can't specify the function as a destination for itself.");
  }
}

/** Versions in number order after $LATEST, then aliases by name. */
function byQualifier(a: string, b: string): number {
  const rank = (qualifier: string) => (qualifier === LATEST ? 0 : /^\d+$/.test(qualifier) ? 1 : 2);
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  if (rank(a) === 1) return Number(a) - Number(b);
  return a < b ? -1 : a > b ? 1 : 0;
}

const functionDoesNotExist = () => resourceNotFound("The function doesn't exist.");
const noConfig = (qualifiedArn: string) => resourceNotFound(`The function ${qualifiedArn} doesn't have an EventInvokeConfig`);
const invalidDestination = (arn: string) => invalidParameter(`The destination ARN ${arn} is invalid.`);
function invalidDestinationConfig(destinations: { onSuccess?: string; onFailure?: string }): LambdaError {
  const onSuccess = destinations.onSuccess ? `OnSuccess(destination=${destinations.onSuccess})` : 'null';
  const onFailure = destinations.onFailure ? `OnFailure(destination=${destinations.onFailure})` : 'null';
  return invalidParameter(`The provided destination config DestinationConfig(onSuccess=${onSuccess}, onFailure=${onFailure}) is invalid.`);
}
