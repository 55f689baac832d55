// CreateFunctionUrlConfig, GetFunctionUrlConfig, UpdateFunctionUrlConfig, DeleteFunctionUrlConfig and
// ListFunctionUrlConfigs. The API model has checked AuthType, InvokeMode, Cors and a ?Qualifier= (an alias name:
// never digits only, never $LATEST) before a handler runs; a qualifier written into the FunctionName is checked
// here by the same rule. Messages, and which operation says which, are AWS's (test_lambda_api.snapshot.json,
// TestLambdaUrl): the writes say "Function does not exist" for a missing function or alias, the reads and
// DeleteFunctionUrlConfig "The resource you requested does not exist.".
import { randomInt } from 'node:crypto';
import type { FunctionUrlRecord, UrlAuthType, UrlCors, UrlInvokeMode } from '../../urls/url-config.ts';
import { functionArn } from '../function-record.ts';
import { parseFunctionName, resolveQualifier } from '../function-name.ts';
import { parseJsonObject } from '../http-io.ts';
import { resourceConflict, resourceNotFound, validationError } from '../lambda-error.ts';
import type { OperationHandler, ServiceContext, ServiceRequest } from './context.ts';
import { decodeMarker, encodeMarker, parseMaxItems } from './paging.ts';

/** ListFunctionUrlConfigs' MaxItems ceiling (the model's MaxItems). */
const MAX_ITEMS_LIMIT = 50;
/** The model's FunctionUrlQualifier pattern, which AWS applies to a qualifier however it is given. */
const QUALIFIER_PATTERN = '((?!^\\d+$)^[0-9a-zA-Z-_]+$)';
const URL_ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const URL_ID_LENGTH = 32;

const functionMissing = () => resourceNotFound('Function does not exist');
const configMissing = () => resourceNotFound('The resource you requested does not exist.');

/** A URL's host label: 32 random lowercase letters and digits, as AWS's are. */
export function newUrlId(): string {
  let id = '';
  for (let i = 0; i < URL_ID_LENGTH; i++) id += URL_ID_ALPHABET[randomInt(URL_ID_ALPHABET.length)];
  return id;
}

interface UrlTarget {
  functionName: string;
  /** The alias; undefined: $LATEST. */
  qualifier: string | undefined;
}

/** The function and alias a request names; a version number or $LATEST is refused as the model refuses it. */
function targetOf(request: ServiceRequest): UrlTarget {
  const ref = parseFunctionName(request.functionName ?? '');
  const qualifier = resolveQualifier(ref, request.query.get('Qualifier'));
  if (qualifier !== undefined && !new RegExp(QUALIFIER_PATTERN).test(qualifier)) {
    throw validationError(qualifier, 'qualifier', `Member must satisfy regular expression pattern: ${QUALIFIER_PATTERN}`);
  }
  return { functionName: ref.name, qualifier };
}

/** Whether the function, and the alias named, exist. */
async function targetExists(context: ServiceContext, target: UrlTarget): Promise<boolean> {
  if (!(await context.store.get(target.functionName))) return false;
  return target.qualifier === undefined || (await context.store.aliases.get(target.functionName, target.qualifier)) !== undefined;
}

/** FunctionUrl: where serve answers the URL when it has told the context, else AWS's own shape. */
function functionUrlOf(context: ServiceContext, urlId: string): string {
  return context.urlBase?.(urlId) ?? `https://${urlId}.lambda-url.${context.identity.region}.on.aws/`;
}

/** A config as the API shows it; `invokeMode: false` leaves InvokeMode out, as Create and Update answer it when not asked. */
function urlConfiguration(context: ServiceContext, record: FunctionUrlRecord, options: { invokeMode?: boolean } = {}): Record<string, unknown> {
  return {
    FunctionUrl: functionUrlOf(context, record.urlId),
    FunctionArn: functionArn(context.identity, record.functionName, record.qualifier),
    AuthType: record.authType,
    ...(record.cors ? { Cors: record.cors } : {}),
    CreationTime: record.creationTime,
    LastModifiedTime: record.lastModifiedTime,
    ...(options.invokeMode === false ? {} : { InvokeMode: record.invokeMode }),
  };
}

/** Cors as given (the model has checked each member); absent or null: none. */
function corsOf(value: unknown): UrlCors | undefined {
  if (value === undefined || value === null || typeof value !== 'object') return undefined;
  return value as UrlCors;
}

export const createFunctionUrlConfig: OperationHandler = async (context, request) => {
  const target = targetOf(request);
  const input = parseJsonObject(request.body);
  if (!(await context.store.get(target.functionName))) throw functionMissing();
  // A config already there is reported before a missing alias is, as AWS checks them.
  const conflict = () =>
    resourceConflict(
      `Failed to create function url config for [functionArn = ${functionArn(context.identity, target.functionName, target.qualifier)}]. Error message:  FunctionUrlConfig exists for this Lambda function`,
    );
  if (await context.store.functionUrls.get(target.functionName, target.qualifier)) throw conflict();
  if (!(await targetExists(context, target))) throw functionMissing();
  const now = new Date().toISOString();
  const cors = corsOf(input.Cors);
  const record: FunctionUrlRecord = {
    urlId: newUrlId(),
    functionName: target.functionName,
    ...(target.qualifier !== undefined ? { qualifier: target.qualifier } : {}),
    authType: input.AuthType as UrlAuthType,
    invokeMode: (input.InvokeMode as UrlInvokeMode | undefined) ?? 'BUFFERED',
    ...(cors ? { cors } : {}),
    creationTime: now,
    lastModifiedTime: now,
  };
  // Made by another request since the check above.
  if (!(await context.store.functionUrls.create(record))) throw conflict();
  // AWS's answer has no LastModifiedTime, and InvokeMode only when it was asked for (url_creation).
  const { LastModifiedTime: _notShown, ...shown } = urlConfiguration(context, record, { invokeMode: input.InvokeMode !== undefined });
  return { status: 201, json: shown };
};

export const getFunctionUrlConfig: OperationHandler = async (context, request) => {
  const target = targetOf(request);
  if (!(await targetExists(context, target))) throw configMissing();
  const record = await context.store.functionUrls.get(target.functionName, target.qualifier);
  if (!record) throw configMissing();
  return { status: 200, json: urlConfiguration(context, record) };
};

/** Members not given are kept; every update moves LastModifiedTime on. */
export const updateFunctionUrlConfig: OperationHandler = async (context, request) => {
  const target = targetOf(request);
  const input = parseJsonObject(request.body);
  if (!(await targetExists(context, target))) throw functionMissing();
  const current = await context.store.functionUrls.get(target.functionName, target.qualifier);
  if (!current) throw configMissing();
  const cors = input.Cors === undefined ? current.cors : corsOf(input.Cors);
  const { cors: _replaced, ...kept } = current;
  const next: FunctionUrlRecord = {
    ...kept,
    ...(typeof input.AuthType === 'string' ? { authType: input.AuthType as UrlAuthType } : {}),
    ...(typeof input.InvokeMode === 'string' ? { invokeMode: input.InvokeMode as UrlInvokeMode } : {}),
    ...(cors ? { cors } : {}),
    lastModifiedTime: new Date().toISOString(),
  };
  // Deleted (or deleted and made anew) by another request since it was read.
  if (!(await context.store.functionUrls.update(next))) throw configMissing();
  return { status: 200, json: urlConfiguration(context, next, { invokeMode: input.InvokeMode !== undefined }) };
};

export const deleteFunctionUrlConfig: OperationHandler = async (context, request) => {
  const target = targetOf(request);
  if (!(await targetExists(context, target))) throw configMissing();
  if (!(await context.store.functionUrls.delete(target.functionName, target.qualifier))) throw configMissing();
  return { status: 204 };
};

/** The function's configs ($LATEST's and its aliases'), in url id order; the Marker names the last one shown. */
export const listFunctionUrlConfigs: OperationHandler = async (context, request) => {
  const { name } = parseFunctionName(request.functionName ?? '');
  if (!(await context.store.get(name))) throw functionMissing();
  const maxItems = parseMaxItems(request.query.get('MaxItems'), MAX_ITEMS_LIMIT, validationError);
  const marker = request.query.get('Marker');
  // One more than a page, to know whether another follows.
  const found = await context.store.functionUrls.list(name, marker ? decodeMarker(marker) : undefined, maxItems + 1);
  const page = found.slice(0, maxItems);
  const more = found.length > maxItems;
  return {
    status: 200,
    json: {
      FunctionUrlConfigs: page.map((record) => urlConfiguration(context, record)),
      ...(more ? { NextMarker: encodeMarker(page[page.length - 1]!.urlId) } : {}),
    },
  };
};
