// CreateEventSourceMapping, GetEventSourceMapping, UpdateEventSourceMapping, DeleteEventSourceMapping and
// ListEventSourceMappings. The API model has checked ranges and enums before a handler runs; what is left is what
// depends on the source (SQS or Kinesis), the stored function and the stored mappings. Messages and their order are
// AWS's (LocalStack's test_lambda_api.snapshot.json TestLambdaEventSourceMappings, test_lambda_integration_sqs and
// _kinesis snapshots; provider.py validate_event_source_mapping). The mapping's poller follows through the runner
// (context.mappingChanges): this handler only stores the mapping in a passing state (Creating, Updating, ...).
import { randomUUID } from 'node:crypto';
import { filterCriteriaError } from '../../delivery/mappings/filter-criteria.ts';
import type { EventSourceMappingRecord, MappingSource, MappingState } from '../../delivery/mappings/mapping.ts';
import { isVersionNumber, LATEST, versionRecord } from '../../invocation/resolve-function.ts';
import { functionArn, type ServiceIdentity } from '../function-record.ts';
import { checkFunctionHome, parseFunctionName } from '../function-name.ts';
import { parseJsonObject } from '../http-io.ts';
import { invalidParameter, LambdaError, resourceConflict, resourceNotFound, validationError } from '../lambda-error.ts';
import type { MappingStore, StoredMapping } from '../storage/mapping-store.ts';
import type { OperationHandler, ServiceContext } from './context.ts';
import { decodeMarker, encodeMarker, parseMaxItems } from './paging.ts';

/** ListEventSourceMappings' MaxItems ceiling (the model's MaxListItems). */
const MAX_ITEMS_LIMIT = 10_000;
/** AWS's page when MaxItems is absent. */
const DEFAULT_PAGE = 100;

const notFound = () => resourceNotFound('The resource you requested does not exist.');
/** AWS's refusal of a setting the mapping's source does not take (its recorded one names DestinationConfig.OnSuccess). */
const unsupported = (parameter: string) => invalidParameter(`Unsupported ${parameter} parameter for given event source mapping type.`);

type Input = Record<string, unknown>;

function mappingStore(context: ServiceContext): MappingStore {
  const store = context.store.mappings;
  if (!store) throw invalidParameter('This lambkin store keeps no event source mappings.');
  return store;
}

export const mappingArn = (identity: ServiceIdentity, uuid: string) => `arn:aws:lambda:${identity.region}:${identity.accountId}:event-source-mapping:${uuid}`;

/** The source an EventSourceArn names: an SQS queue or a Kinesis stream, the ones lambkin polls. */
function sourceOf(eventSourceArn: unknown): MappingSource {
  if (typeof eventSourceArn !== 'string' || eventSourceArn === '') throw invalidParameter('Unrecognized event source.');
  const parts = eventSourceArn.split(':');
  const service = parts[2] ?? '';
  const resource = parts.slice(5).join(':');
  if (service === 'sqs' && resource !== '') return 'sqs';
  if (service === 'kinesis' && /^stream\/[^/]+$/.test(resource)) return 'kinesis';
  const what = service === 'kinesis' ? 'a Kinesis stream consumer' : `a ${service || 'non-AWS'} resource`;
  throw invalidParameter(
    `lambkin polls Amazon SQS queues (arn:aws:sqs:<region>:<account>:<queue>) and Kinesis streams ` +
      `(arn:aws:kinesis:<region>:<account>:stream/<name>); ${eventSourceArn} is ${what}, which lambkin does not poll.`,
  );
}

const isFifoQueue = (eventSourceArn: string) => eventSourceArn.endsWith('.fifo');

/** What the request names, qualifier kept; its region and account must be the service's. */
function functionRefOf(context: ServiceContext, value: unknown): { name: string; qualifier?: string } {
  const text = String(value);
  checkFunctionHome(text, context.identity);
  return parseFunctionName(text);
}

/** The function (and version or alias) a mapping is to run: it must exist, as AWS checks at create and update. */
async function checkFunctionExists(context: ServiceContext, ref: { name: string; qualifier?: string }): Promise<void> {
  const missing = () => invalidParameter('Function does not exist');
  const latest = await context.store.get(ref.name);
  if (!latest) throw missing();
  const { qualifier } = ref;
  if (qualifier === undefined || qualifier === LATEST) return;
  const found = isVersionNumber(qualifier) ? await versionRecord(context.store, latest, qualifier) : await context.store.aliases.get(ref.name, qualifier);
  if (!found) throw missing();
}

function checkNotDuplicate(mappings: MappingStore, source: MappingSource, arn: string, eventSourceArn: string, name: string, self?: string): void {
  const existing = mappings.findDuplicate(arn, eventSourceArn);
  if (!existing || existing.uuid === self) return;
  throw resourceConflict(
    source === 'sqs'
      ? `An event source mapping with SQS arn (" ${eventSourceArn} ") and function (" ${name} ") already exists. Please update or delete the existing mapping with UUID ${existing.uuid}`
      : `The event source arn (" ${eventSourceArn} ") and function (" ${name} ") provided mapping already exists. Please update or delete the existing mapping with UUID ${existing.uuid}`,
  );
}

type Settings = Omit<
  EventSourceMappingRecord,
  | 'uuid'
  | 'functionName'
  | 'qualifier'
  | 'functionArn'
  | 'eventSourceArn'
  | 'source'
  | 'state'
  | 'stateTransitionReason'
  | 'lastModified'
  | 'lastProcessingResult'
  | 'tags'
>;

/** Settings of stream mappings (Kinesis) that an SQS mapping does not take. */
const STREAM_ONLY = [
  'ParallelizationFactor',
  'BisectBatchOnFunctionError',
  'MaximumRetryAttempts',
  'MaximumRecordAgeInSeconds',
  'TumblingWindowInSeconds',
  'StartingPosition',
  'StartingPositionTimestamp',
] as const;

/**
 * The mapping's settings from `input` over `current` (an update) or the source's defaults (a create), as AWS echoes
 * them (LocalStack's esm_config_factory.py), checked in AWS's order.
 */
function settingsOf(source: MappingSource, eventSourceArn: string, input: Input, current?: Settings): Settings {
  const destination = input.DestinationConfig as { OnSuccess?: unknown; OnFailure?: { Destination?: unknown } } | undefined;
  if (destination?.OnSuccess !== undefined) throw unsupported('DestinationConfig');
  const number = (member: string, fallback: number) => (typeof input[member] === 'number' ? (input[member] as number) : fallback);
  const batchSize = number('BatchSize', current?.batchSize ?? (source === 'sqs' ? 10 : 100));
  if (source === 'sqs' && isFifoQueue(eventSourceArn) && batchSize > 10) {
    throw invalidParameter(`BatchSize ${batchSize} is over 10, the most a FIFO queue's event source mapping takes.`);
  }
  let startingPosition = current?.startingPosition;
  if (source === 'kinesis' && current === undefined) {
    startingPosition = input.StartingPosition as Settings['startingPosition'];
    if (startingPosition === undefined || startingPosition === null) {
      throw invalidParameter("1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member must not be null.");
    }
  }
  const window = number('MaximumBatchingWindowInSeconds', current?.maximumBatchingWindowInSeconds ?? 0);
  if (source === 'sqs' && batchSize > 10 && window === 0) {
    throw invalidParameter('Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10');
  }
  let filterCriteria = current?.filterCriteria;
  if (input.FilterCriteria !== undefined) {
    const criteria = input.FilterCriteria as Settings['filterCriteria'];
    const error = filterCriteriaError(criteria);
    if (error !== undefined) throw invalidParameter(error);
    // No filters: none kept, as AWS echoes it.
    filterCriteria = criteria?.Filters?.length ? { Filters: criteria.Filters.map((filter) => ({ Pattern: filter.Pattern })) } : undefined;
  }
  const functionResponseTypes = Array.isArray(input.FunctionResponseTypes) ? (input.FunctionResponseTypes as string[]) : (current?.functionResponseTypes ?? []);
  const common = { batchSize, maximumBatchingWindowInSeconds: window, functionResponseTypes, ...(filterCriteria ? { filterCriteria } : {}) };
  if (source === 'sqs') {
    // Not AWS-recorded: the text AWS (as CloudFormation users quote it) gives for StartingPosition; the other stream
    // settings are refused in the form of AWS's recorded DestinationConfig refusal.
    if (input.StartingPosition !== undefined) throw invalidParameter('StartingPosition is not valid for SQS event sources.');
    for (const member of STREAM_ONLY) if (input[member] !== undefined) throw unsupported(member);
    // An SQS queue's failures go to its own redrive policy; an empty DestinationConfig (tools send one) names nothing.
    if (destination?.OnFailure?.Destination) throw unsupported('DestinationConfig');
    const scaling = input.ScalingConfig as { MaximumConcurrency?: number } | undefined;
    const maximumConcurrency = scaling === undefined ? current?.maximumConcurrency : scaling.MaximumConcurrency;
    return { ...common, ...(maximumConcurrency !== undefined ? { maximumConcurrency } : {}) };
  }
  if (input.ScalingConfig !== undefined) throw unsupported('ScalingConfig');
  const timestamp = current === undefined ? input.StartingPositionTimestamp : current.startingPositionTimestamp;
  if (startingPosition === 'AT_TIMESTAMP' && typeof timestamp !== 'number') {
    throw invalidParameter('StartingPositionTimestamp is required when StartingPosition is AT_TIMESTAMP.');
  }
  const onFailure =
    destination === undefined
      ? current?.onFailureDestination
      : typeof destination.OnFailure?.Destination === 'string' && destination.OnFailure.Destination !== ''
        ? destination.OnFailure.Destination
        : undefined;
  if (onFailure !== undefined && onFailure === eventSourceArn) {
    throw invalidParameter('The OnFailure destination cannot be the event source itself.');
  }
  return {
    ...common,
    ...(startingPosition !== undefined ? { startingPosition } : {}),
    ...(startingPosition === 'AT_TIMESTAMP' ? { startingPositionTimestamp: timestamp as number } : {}),
    parallelizationFactor: number('ParallelizationFactor', current?.parallelizationFactor ?? 1),
    bisectBatchOnFunctionError:
      typeof input.BisectBatchOnFunctionError === 'boolean' ? input.BisectBatchOnFunctionError : (current?.bisectBatchOnFunctionError ?? false),
    maximumRetryAttempts: number('MaximumRetryAttempts', current?.maximumRetryAttempts ?? -1),
    maximumRecordAgeInSeconds: number('MaximumRecordAgeInSeconds', current?.maximumRecordAgeInSeconds ?? -1),
    tumblingWindowInSeconds: number('TumblingWindowInSeconds', current?.tumblingWindowInSeconds ?? 0),
    ...(onFailure !== undefined ? { onFailureDestination: onFailure } : {}),
  };
}

/** A mapping as the API answers it: SQS and Kinesis mappings echo different members, as AWS's do. */
export function mappingConfiguration(identity: ServiceIdentity, mapping: EventSourceMappingRecord): Record<string, unknown> {
  const json: Record<string, unknown> = {
    UUID: mapping.uuid,
    EventSourceMappingArn: mappingArn(identity, mapping.uuid),
    BatchSize: mapping.batchSize,
    MaximumBatchingWindowInSeconds: mapping.maximumBatchingWindowInSeconds,
    EventSourceArn: mapping.eventSourceArn,
    ...(mapping.filterCriteria ? { FilterCriteria: mapping.filterCriteria } : {}),
    FunctionArn: mapping.functionArn,
    LastModified: mapping.lastModified,
    State: mapping.state,
    StateTransitionReason: mapping.stateTransitionReason,
    FunctionResponseTypes: mapping.functionResponseTypes,
  };
  if (mapping.source === 'sqs') {
    if (mapping.maximumConcurrency !== undefined) json.ScalingConfig = { MaximumConcurrency: mapping.maximumConcurrency };
    // AWS's SQS mappings answer no LastProcessingResult; lambkin's says so once a poller has something to say.
    if (mapping.lastProcessingResult !== NO_RECORDS) json.LastProcessingResult = mapping.lastProcessingResult;
    return json;
  }
  return {
    ...json,
    LastProcessingResult: mapping.lastProcessingResult,
    StartingPosition: mapping.startingPosition,
    ...(mapping.startingPositionTimestamp !== undefined ? { StartingPositionTimestamp: mapping.startingPositionTimestamp } : {}),
    ParallelizationFactor: mapping.parallelizationFactor,
    BisectBatchOnFunctionError: mapping.bisectBatchOnFunctionError,
    MaximumRetryAttempts: mapping.maximumRetryAttempts,
    MaximumRecordAgeInSeconds: mapping.maximumRecordAgeInSeconds,
    TumblingWindowInSeconds: mapping.tumblingWindowInSeconds,
    DestinationConfig: { OnFailure: mapping.onFailureDestination !== undefined ? { Destination: mapping.onFailureDestination } : {} },
  };
}

const NO_RECORDS = 'No records processed';
const nowSeconds = () => Date.now() / 1000;

/** Refuses a change while the mapping is still passing from one state to another, as AWS does. */
function checkSettled(mapping: StoredMapping, verb: 'update' | 'delete'): void {
  if (mapping.state === 'Enabled' || mapping.state === 'Disabled') return;
  throw new LambdaError(
    400,
    'ResourceInUseException',
    `Cannot ${verb} the event source mapping ${mapping.uuid} while it is ${mapping.state}; try again once it is Enabled or Disabled.`,
  );
}

function findMapping(mappings: MappingStore, uuid: string | undefined): StoredMapping {
  const mapping = uuid === undefined ? undefined : mappings.get(uuid);
  if (!mapping) throw notFound();
  return mapping;
}

export const createEventSourceMapping: OperationHandler = async (context, request) => {
  const mappings = mappingStore(context);
  const input = parseJsonObject(request.body);
  const destination = input.DestinationConfig as { OnSuccess?: unknown } | undefined;
  if (destination?.OnSuccess !== undefined) throw unsupported('DestinationConfig');
  if (input.SelfManagedEventSource !== undefined && input.EventSourceArn === undefined) {
    throw invalidParameter('lambkin polls Amazon SQS queues and Kinesis streams; self-managed Kafka event sources are not supported.');
  }
  const source = sourceOf(input.EventSourceArn);
  const eventSourceArn = input.EventSourceArn as string;
  const settings = settingsOf(source, eventSourceArn, input);
  const ref = functionRefOf(context, input.FunctionName);
  await checkFunctionExists(context, ref);
  const arn = functionArn(context.identity, ref.name, ref.qualifier);
  checkNotDuplicate(mappings, source, arn, eventSourceArn, ref.name);
  const enabled = input.Enabled !== false;
  const mapping: StoredMapping = {
    uuid: randomUUID(),
    functionName: ref.name,
    ...(ref.qualifier !== undefined ? { qualifier: ref.qualifier } : {}),
    functionArn: arn,
    eventSourceArn,
    source,
    state: 'Creating',
    stateTransitionReason: source === 'sqs' ? 'USER_INITIATED' : 'User action',
    lastModified: nowSeconds(),
    lastProcessingResult: NO_RECORDS,
    ...settings,
    ...(input.Tags !== undefined ? { tags: input.Tags as Record<string, string> } : {}),
    enabled,
  };
  mappings.create(mapping);
  context.mappingChanges?.changed(mapping.uuid);
  return { status: 202, json: mappingConfiguration(context.identity, mapping) };
};

export const getEventSourceMapping: OperationHandler = async (context, request) => {
  const mapping = findMapping(mappingStore(context), request.uuid);
  return { status: 200, json: mappingConfiguration(context.identity, mapping) };
};

/**
 * Enabled given and different: Enabling or Disabling; any other change: Updating. The runner restarts the poller
 * with the new settings and settles the state.
 */
export const updateEventSourceMapping: OperationHandler = async (context, request) => {
  const mappings = mappingStore(context);
  const current = findMapping(mappings, request.uuid);
  const input = parseJsonObject(request.body);
  checkSettled(current, 'update');
  const settings = settingsOf(current.source, current.eventSourceArn, input, current);
  let target: Pick<StoredMapping, 'functionName' | 'qualifier' | 'functionArn'> = current;
  if (input.FunctionName !== undefined) {
    const ref = functionRefOf(context, input.FunctionName);
    await checkFunctionExists(context, ref);
    const arn = functionArn(context.identity, ref.name, ref.qualifier);
    checkNotDuplicate(mappings, current.source, arn, current.eventSourceArn, ref.name, current.uuid);
    target = { functionName: ref.name, ...(ref.qualifier !== undefined ? { qualifier: ref.qualifier } : {}), functionArn: arn };
  }
  const enabled = typeof input.Enabled === 'boolean' ? input.Enabled : current.enabled;
  const state: MappingState = enabled === current.enabled ? 'Updating' : enabled ? 'Enabling' : 'Disabling';
  const { qualifier: _replaced, ...kept } = current;
  const next: StoredMapping = {
    ...kept,
    ...settings,
    functionName: target.functionName,
    ...(target.qualifier !== undefined ? { qualifier: target.qualifier } : {}),
    functionArn: target.functionArn,
    state,
    lastModified: nowSeconds(),
    enabled,
  };
  // Settings a source does not take are dropped when the update clears them (FilterCriteria with no filters).
  if (!settings.filterCriteria) delete next.filterCriteria;
  if (!settings.onFailureDestination) delete next.onFailureDestination;
  if (settings.maximumConcurrency === undefined) delete next.maximumConcurrency;
  if (!mappings.update(next, current.lastModified)) {
    // Changed or deleted by another request since it was read.
    checkSettled(findMapping(mappings, current.uuid), 'update');
  }
  context.mappingChanges?.changed(next.uuid);
  return { status: 202, json: mappingConfiguration(context.identity, next) };
};

/** Answered with the mapping, State Deleting; the runner stops its poller and then removes it. */
export const deleteEventSourceMapping: OperationHandler = async (context, request) => {
  const mappings = mappingStore(context);
  const current = findMapping(mappings, request.uuid);
  checkSettled(current, 'delete');
  const deleting: StoredMapping = { ...current, state: 'Deleting' };
  if (!mappings.update(deleting, current.lastModified)) checkSettled(findMapping(mappings, current.uuid), 'delete');
  if (context.mappingChanges) context.mappingChanges.changed(current.uuid);
  else mappings.delete(current.uuid);
  return { status: 202, json: mappingConfiguration(context.identity, deleting) };
};

/**
 * Mappings in UUID order, of one event source and/or one function (a name matches the function's mappings of every
 * qualifier; a qualified name those of that qualifier). Filters naming nothing stored list nothing, as AWS's do.
 */
export const listEventSourceMappings: OperationHandler = async (context, request) => {
  const mappings = mappingStore(context);
  const maxItems = request.query.get('MaxItems') ? parseMaxItems(request.query.get('MaxItems'), MAX_ITEMS_LIMIT, validationError) : DEFAULT_PAGE;
  const eventSourceArn = request.query.get('EventSourceArn') || undefined;
  const functionName = request.query.get('FunctionName') || undefined;
  const ref = functionName === undefined ? undefined : functionRefOf(context, functionName);
  const wanted = (mapping: StoredMapping) =>
    (eventSourceArn === undefined || mapping.eventSourceArn === eventSourceArn) &&
    (ref === undefined || (mapping.functionName === ref.name && (ref.qualifier === undefined || mapping.qualifier === ref.qualifier)));
  const marker = request.query.get('Marker');
  let after = marker ? decodeMarker(marker) : undefined;
  // One more than a page, to know whether another follows.
  const matched: StoredMapping[] = [];
  for (;;) {
    const batch = mappings.list(after, maxItems + 1);
    matched.push(...batch.filter(wanted));
    if (matched.length > maxItems || batch.length <= maxItems) break;
    after = batch.at(-1)!.uuid;
  }
  const page = matched.slice(0, maxItems);
  const json: Record<string, unknown> = { EventSourceMappings: page.map((mapping) => mappingConfiguration(context.identity, mapping)) };
  if (matched.length > maxItems) json.NextMarker = encodeMarker(page.at(-1)!.uuid);
  return { status: 200, json };
};
