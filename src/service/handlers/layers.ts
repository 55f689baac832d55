// PublishLayerVersion, GetLayerVersion (by name and number, or by ARN), ListLayerVersions, ListLayers and
// DeleteLayerVersion, in Lambda's shapes. The zip comes as Content.ZipFile (base64); S3 locations are not served.
import type { ServiceIdentity } from '../function-record.ts';
import { parseJsonObject } from '../http-io.ts';
import { invalidParameter, resourceNotFound, validationError } from '../lambda-error.ts';
import type { LayerStore, LayerVersionRecord } from '../storage/layer-store.ts';
import type { OperationHandler, ServiceContext } from './context.ts';
import { decodeMarker, encodeMarker, parseMaxItems } from './paging.ts';

const LAYER_NAME = /^[a-zA-Z0-9-_]{1,64}$/;
const LAYER_NAME_ARN = /^arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:([a-zA-Z0-9-_]+)$/;
/** A LayerVersionArn, as CreateFunction's Layers must spell it. */
export const LAYER_VERSION_ARN = /^arn:[a-zA-Z0-9-]+:lambda:([a-zA-Z0-9-]+):(\d{12}):layer:([a-zA-Z0-9-_]+):([0-9]+)$/;
const MAX_ITEMS_LIMIT = 50;

const validation = validationError;
const notFound = () => resourceNotFound('The resource you requested does not exist.');

export function layerStoreOf(context: Pick<ServiceContext, 'store'>): LayerStore {
  if (!context.store.layers) throw invalidParameter('This lambkin service keeps no layers.');
  return context.store.layers;
}

export function layerArn(identity: ServiceIdentity, name: string): string {
  return `arn:aws:lambda:${identity.region}:${identity.accountId}:layer:${name}`;
}

export const publishLayerVersion: OperationHandler = async (context, request) => {
  const layers = layerStoreOf(context);
  const name = layerNameOf(request.layerName);
  const input = parseJsonObject(request.body);
  const content = input.Content as Record<string, unknown> | undefined;
  if (content === undefined || content === null || typeof content !== 'object') {
    throw validation('null', 'content', 'Member must not be null');
  }
  if (content.S3Bucket !== undefined) {
    throw invalidParameter("lambkin serve takes a layer's content as Content.ZipFile; S3 locations are not supported.");
  }
  if (typeof content.ZipFile !== 'string' || content.ZipFile === '') throw invalidParameter('Please provide a source for layer content.');
  // Lengths, counts and the runtimes and architectures allowed were checked against the API model before.
  const description = optionalString(input.Description, 'description') ?? '';
  const licenseInfo = optionalString(input.LicenseInfo, 'licenseInfo');
  const compatibleRuntimes = stringList(input.CompatibleRuntimes, 'compatibleRuntimes');
  const compatibleArchitectures = stringList(input.CompatibleArchitectures, 'compatibleArchitectures');
  const code = await layers.putZip(Buffer.from(content.ZipFile, 'base64'));
  const record = await layers.publish({
    layerName: name,
    layerArn: layerArn(context.identity, name),
    description,
    code,
    ...(compatibleRuntimes ? { compatibleRuntimes } : {}),
    ...(compatibleArchitectures ? { compatibleArchitectures } : {}),
    ...(licenseInfo !== undefined ? { licenseInfo } : {}),
  });
  return { status: 201, json: layerVersionJson(record) };
};

export const getLayerVersion: OperationHandler = async (context, request) => {
  const record = await layerStoreOf(context).get(layerNameOf(request.layerName), versionOf(request.layerVersion));
  if (!record || !sameAccount(context, record)) throw notFound();
  return { status: 200, json: layerVersionJson(record) };
};

export const getLayerVersionByArn: OperationHandler = async (context, request) => {
  const arn = request.query.get('Arn') ?? '';
  const match = LAYER_VERSION_ARN.exec(arn);
  if (!match) throw validation(arn, 'arn', `Member must satisfy regular expression pattern: ${LAYER_VERSION_ARN.source.slice(1, -1)}`);
  const record = await layerStoreOf(context).get(match[3]!, Number(match[4]));
  if (!record || record.layerVersionArn !== arn) throw notFound();
  return { status: 200, json: layerVersionJson(record) };
};

export const listLayerVersions: OperationHandler = async (context, request) => {
  const name = layerNameOf(request.layerName);
  const versions = (await layerStoreOf(context).listVersions(name)).filter((record) => sameAccount(context, record) && matches(record, request.query));
  const maxItems = parseMaxItems(request.query.get('MaxItems'), MAX_ITEMS_LIMIT, validation);
  const marker = request.query.get('Marker');
  const start = marker ? versions.findIndex((record) => record.version < markerVersion(marker)) : 0;
  const page = start < 0 ? [] : versions.slice(start, start + maxItems);
  const json: Record<string, unknown> = { LayerVersions: page.map(layerVersionListItem) };
  if (start >= 0 && versions.length > start + maxItems) json.NextMarker = encodeMarker(String(page.at(-1)!.version));
  return { status: 200, json };
};

export const listLayers: OperationHandler = async (context, request) => {
  // The newest matching version of each layer, layers by name.
  const latest: LayerVersionRecord[] = [];
  for (const record of await layerStoreOf(context).listVersions()) {
    if (latest.at(-1)?.layerName === record.layerName || !sameAccount(context, record) || !matches(record, request.query)) continue;
    latest.push(record);
  }
  const maxItems = parseMaxItems(request.query.get('MaxItems'), MAX_ITEMS_LIMIT, validation);
  const marker = request.query.get('Marker');
  const after = marker ? decodeMarker(marker) : undefined;
  const rest = after === undefined ? latest : latest.filter((record) => record.layerName > after);
  const page = rest.slice(0, maxItems);
  const json: Record<string, unknown> = {
    Layers: page.map((record) => ({ LayerName: record.layerName, LayerArn: record.layerArn, LatestMatchingVersion: layerVersionListItem(record) })),
  };
  if (rest.length > maxItems) json.NextMarker = encodeMarker(page.at(-1)!.layerName);
  return { status: 200, json };
};

/** Lambda answers 204 whether or not the version existed. Functions using it keep their copy of the content. */
export const deleteLayerVersion: OperationHandler = async (context, request) => {
  const layers = layerStoreOf(context);
  const name = layerNameOf(request.layerName);
  const version = versionOf(request.layerVersion);
  const record = await layers.get(name, version);
  if (await layers.delete(name, version)) {
    // Its content goes unless another version or a function still names it (no environment mounts it itself:
    // functions get their layers merged into a folder of their own).
    context.store.retire?.({ functionName: '', retiredAt: Date.now(), mounted: [], other: record ? [record.code.taskRoot] : [] });
  }
  return { status: 204 };
};

function layerVersionJson(record: LayerVersionRecord): Record<string, unknown> {
  return {
    Content: { Location: `file://${record.code.zipPath}`, CodeSha256: record.code.sha256, CodeSize: record.code.size },
    LayerArn: record.layerArn,
    ...layerVersionListItem(record),
  };
}

function layerVersionListItem(record: LayerVersionRecord): Record<string, unknown> {
  return {
    LayerVersionArn: record.layerVersionArn,
    Version: record.version,
    Description: record.description,
    CreatedDate: record.createdDate,
    ...(record.compatibleRuntimes ? { CompatibleRuntimes: record.compatibleRuntimes } : {}),
    ...(record.compatibleArchitectures ? { CompatibleArchitectures: record.compatibleArchitectures } : {}),
    ...(record.licenseInfo !== undefined ? { LicenseInfo: record.licenseInfo } : {}),
  };
}

/** The CompatibleRuntime and CompatibleArchitecture filters of the list operations. */
function matches(record: LayerVersionRecord, query: URLSearchParams): boolean {
  const runtime = query.get('CompatibleRuntime');
  const architecture = query.get('CompatibleArchitecture');
  if (runtime && !record.compatibleRuntimes?.includes(runtime)) return false;
  if (architecture && !record.compatibleArchitectures?.includes(architecture)) return false;
  return true;
}

/** A layer of another region or account (by ARN) is not this service's. */
function sameAccount(context: ServiceContext, record: LayerVersionRecord): boolean {
  return record.layerArn === layerArn(context.identity, record.layerName);
}

/** LayerName may be a name or a layer ARN. */
function layerNameOf(value: string | undefined): string {
  const name = value ?? '';
  if (LAYER_NAME.test(name)) return name;
  const match = LAYER_NAME_ARN.exec(name);
  if (match) return match[1]!;
  throw validation(
    name,
    'layerName',
    'Member must satisfy regular expression pattern: (arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+',
  );
}

function versionOf(value: string | undefined): number {
  const version = Number(value);
  if (!/^-?\d+$/.test(value ?? '') || !Number.isSafeInteger(version)) throw validation(value, 'versionNumber', 'Member must be a number');
  if (version < 1) throw invalidParameter('Layer Version Cannot be less than 1');
  return version;
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw validation(value, field, 'Member must be a string');
  return value;
}

function stringList(value: unknown, field: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw validation(value, field, 'Member must be a list of strings');
  return value as string[];
}

/** The last version number of the previous page. */
function markerVersion(marker: string): number {
  const version = Number(decodeMarker(marker));
  if (!Number.isSafeInteger(version)) throw invalidParameter(`Invalid Marker: ${marker}`);
  return version;
}
