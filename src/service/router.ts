// Maps a request line to the Lambda API operation it names, with its decoded FunctionName.
import { requestUrl } from '../http/request-url.ts';

/** The Lambda API operations lambkin serves (tools/extract-lambda-model.ts keeps the model's input shapes of these). */
export const OPERATIONS = [
  'CreateFunction',
  'ListFunctions',
  'GetFunction',
  'GetFunctionConfiguration',
  'DeleteFunction',
  'UpdateFunctionCode',
  'UpdateFunctionConfiguration',
  'Invoke',
  'InvokeAsync',
  'InvokeWithResponseStream',
  'PutFunctionConcurrency',
  'GetFunctionConcurrency',
  'DeleteFunctionConcurrency',
  'PutProvisionedConcurrencyConfig',
  'GetProvisionedConcurrencyConfig',
  'ListProvisionedConcurrencyConfigs',
  'DeleteProvisionedConcurrencyConfig',
  'GetAccountSettings',
  'PublishLayerVersion',
  'ListLayerVersions',
  'GetLayerVersion',
  'GetLayerVersionByArn',
  'DeleteLayerVersion',
  'ListLayers',
  'PublishVersion',
  'ListVersionsByFunction',
  'CreateAlias',
  'GetAlias',
  'UpdateAlias',
  'DeleteAlias',
  'ListAliases',
  'TagResource',
  'UntagResource',
  'ListTags',
  'PutFunctionEventInvokeConfig',
  'UpdateFunctionEventInvokeConfig',
  'GetFunctionEventInvokeConfig',
  'DeleteFunctionEventInvokeConfig',
  'ListFunctionEventInvokeConfigs',
  'CreateEventSourceMapping',
  'GetEventSourceMapping',
  'UpdateEventSourceMapping',
  'DeleteEventSourceMapping',
  'ListEventSourceMappings',
  'CreateFunctionUrlConfig',
  'GetFunctionUrlConfig',
  'UpdateFunctionUrlConfig',
  'DeleteFunctionUrlConfig',
  'ListFunctionUrlConfigs',
  'AddPermission',
  'GetPolicy',
  'RemovePermission',
] as const;

export type Operation = (typeof OPERATIONS)[number];

export interface RouteMatch {
  operation: Operation;
  /** The URL-decoded FunctionName path parameter, when the route has one. */
  functionName?: string;
  /** Layer routes: the URL-decoded LayerName (a name or a layer ARN) and VersionNumber path parameters. */
  layerName?: string;
  layerVersion?: string;
  /** Alias routes: the URL-decoded alias Name path parameter. */
  aliasName?: string;
  /** Tag routes: the URL-decoded Resource (an ARN) path parameter. */
  resource?: string;
  /** Event source mapping routes: the URL-decoded UUID path parameter. */
  uuid?: string;
  /** RemovePermission: the URL-decoded StatementId path parameter. */
  statementId?: string;
  query: URLSearchParams;
}

const FUNCTIONS = '/2015-03-31/functions';
// Later operations live under the API version they were added in.
const CONCURRENCY_2017 = '/2017-10-31/functions/([^/]+)/concurrency/?$';
const FUNCTIONS_2019 = '/2019-09-30/functions';
const EVENT_INVOKE_CONFIG = '/2019-09-25/functions/([^/]+)/event-invoke-config';
const LAYERS = '/2018-10-31/layers';
const TAGS = '/2017-03-31/tags';
const EVENT_SOURCE_MAPPINGS = '/2015-03-31/event-source-mappings';
const FUNCTION_URL = '/2021-10-31/functions/([^/]+)/url';
const FUNCTION_URLS = '/2021-10-31/functions/([^/]+)/urls';
/**
 * What a route's path parameters are: a function (and perhaps an alias), a layer version, a tagged resource, or an
 * event source mapping.
 */
type RouteParams = 'function' | 'layer' | 'resource' | 'mapping' | 'statement';
const ROUTES: { method: string; path: RegExp; operation: Operation; query?: [string, string]; params?: RouteParams }[] = [
  // The SDK lists at `/functions/` and creates at `/functions`: accept either spelling for both.
  { method: 'POST', path: new RegExp(`^${FUNCTIONS}/?$`), operation: 'CreateFunction' },
  { method: 'GET', path: new RegExp(`^${FUNCTIONS}/?$`), operation: 'ListFunctions' },
  { method: 'GET', path: new RegExp(`^${FUNCTIONS}/([^/]+)/?$`), operation: 'GetFunction' },
  { method: 'DELETE', path: new RegExp(`^${FUNCTIONS}/([^/]+)/?$`), operation: 'DeleteFunction' },
  { method: 'GET', path: new RegExp(`^${FUNCTIONS}/([^/]+)/configuration/?$`), operation: 'GetFunctionConfiguration' },
  { method: 'PUT', path: new RegExp(`^${FUNCTIONS}/([^/]+)/configuration/?$`), operation: 'UpdateFunctionConfiguration' },
  { method: 'PUT', path: new RegExp(`^${FUNCTIONS}/([^/]+)/code/?$`), operation: 'UpdateFunctionCode' },
  // Also the RIE's path, `/functions/function/invocations`: an Invoke of the function named `function`.
  { method: 'POST', path: new RegExp(`^${FUNCTIONS}/([^/]+)/invocations/?$`), operation: 'Invoke' },
  // The deprecated InvokeAsync, under the API version it came with.
  { method: 'POST', path: /^\/2014-11-13\/functions\/([^/]+)\/invoke-async\/?$/, operation: 'InvokeAsync' },
  { method: 'POST', path: /^\/2021-11-15\/functions\/([^/]+)\/response-streaming-invocations\/?$/, operation: 'InvokeWithResponseStream' },
  { method: 'PUT', path: new RegExp(`^${CONCURRENCY_2017}`), operation: 'PutFunctionConcurrency' },
  { method: 'DELETE', path: new RegExp(`^${CONCURRENCY_2017}`), operation: 'DeleteFunctionConcurrency' },
  { method: 'GET', path: new RegExp(`^${FUNCTIONS_2019}/([^/]+)/concurrency/?$`), operation: 'GetFunctionConcurrency' },
  { method: 'PUT', path: new RegExp(`^${FUNCTIONS_2019}/([^/]+)/provisioned-concurrency/?$`), operation: 'PutProvisionedConcurrencyConfig' },
  // The same path lists every configuration when asked with ?List=ALL.
  {
    method: 'GET',
    path: new RegExp(`^${FUNCTIONS_2019}/([^/]+)/provisioned-concurrency/?$`),
    operation: 'ListProvisionedConcurrencyConfigs',
    query: ['List', 'ALL'],
  },
  { method: 'GET', path: new RegExp(`^${FUNCTIONS_2019}/([^/]+)/provisioned-concurrency/?$`), operation: 'GetProvisionedConcurrencyConfig' },
  { method: 'DELETE', path: new RegExp(`^${FUNCTIONS_2019}/([^/]+)/provisioned-concurrency/?$`), operation: 'DeleteProvisionedConcurrencyConfig' },
  { method: 'GET', path: /^\/2016-08-19\/account-settings\/?$/, operation: 'GetAccountSettings' },
  { method: 'POST', path: new RegExp(`^${LAYERS}/([^/]+)/versions/?$`), operation: 'PublishLayerVersion', params: 'layer' },
  { method: 'GET', path: new RegExp(`^${LAYERS}/([^/]+)/versions/?$`), operation: 'ListLayerVersions', params: 'layer' },
  { method: 'GET', path: new RegExp(`^${LAYERS}/([^/]+)/versions/([^/]+)/?$`), operation: 'GetLayerVersion', params: 'layer' },
  { method: 'DELETE', path: new RegExp(`^${LAYERS}/([^/]+)/versions/([^/]+)/?$`), operation: 'DeleteLayerVersion', params: 'layer' },
  // GetLayerVersionByArn and ListLayers share a path: `?find=LayerVersion&Arn=` tells the first.
  { method: 'GET', path: new RegExp(`^${LAYERS}/?$`), operation: 'GetLayerVersionByArn', query: ['find', 'LayerVersion'] },
  { method: 'GET', path: new RegExp(`^${LAYERS}/?$`), operation: 'ListLayers' },
  { method: 'POST', path: new RegExp(`^${FUNCTIONS}/([^/]+)/versions/?$`), operation: 'PublishVersion' },
  { method: 'GET', path: new RegExp(`^${FUNCTIONS}/([^/]+)/versions/?$`), operation: 'ListVersionsByFunction' },
  { method: 'POST', path: new RegExp(`^${FUNCTIONS}/([^/]+)/aliases/?$`), operation: 'CreateAlias' },
  { method: 'GET', path: new RegExp(`^${FUNCTIONS}/([^/]+)/aliases/?$`), operation: 'ListAliases' },
  { method: 'GET', path: new RegExp(`^${FUNCTIONS}/([^/]+)/aliases/([^/]+)/?$`), operation: 'GetAlias' },
  { method: 'PUT', path: new RegExp(`^${FUNCTIONS}/([^/]+)/aliases/([^/]+)/?$`), operation: 'UpdateAlias' },
  { method: 'DELETE', path: new RegExp(`^${FUNCTIONS}/([^/]+)/aliases/([^/]+)/?$`), operation: 'DeleteAlias' },
  // The Resource is an ARN, which the SDK sends URL-encoded (its colons as %3A) as one path segment.
  { method: 'POST', path: new RegExp(`^${TAGS}/([^/]+)/?$`), operation: 'TagResource', params: 'resource' },
  { method: 'GET', path: new RegExp(`^${TAGS}/([^/]+)/?$`), operation: 'ListTags', params: 'resource' },
  { method: 'DELETE', path: new RegExp(`^${TAGS}/([^/]+)/?$`), operation: 'UntagResource', params: 'resource' },
  { method: 'PUT', path: new RegExp(`^${EVENT_INVOKE_CONFIG}/?$`), operation: 'PutFunctionEventInvokeConfig' },
  { method: 'POST', path: new RegExp(`^${EVENT_INVOKE_CONFIG}/?$`), operation: 'UpdateFunctionEventInvokeConfig' },
  { method: 'GET', path: new RegExp(`^${EVENT_INVOKE_CONFIG}/?$`), operation: 'GetFunctionEventInvokeConfig' },
  { method: 'DELETE', path: new RegExp(`^${EVENT_INVOKE_CONFIG}/?$`), operation: 'DeleteFunctionEventInvokeConfig' },
  { method: 'GET', path: new RegExp(`^${EVENT_INVOKE_CONFIG}/list/?$`), operation: 'ListFunctionEventInvokeConfigs' },
  { method: 'POST', path: new RegExp(`^${EVENT_SOURCE_MAPPINGS}/?$`), operation: 'CreateEventSourceMapping' },
  { method: 'GET', path: new RegExp(`^${EVENT_SOURCE_MAPPINGS}/?$`), operation: 'ListEventSourceMappings' },
  { method: 'GET', path: new RegExp(`^${EVENT_SOURCE_MAPPINGS}/([^/]+)/?$`), operation: 'GetEventSourceMapping', params: 'mapping' },
  { method: 'PUT', path: new RegExp(`^${EVENT_SOURCE_MAPPINGS}/([^/]+)/?$`), operation: 'UpdateEventSourceMapping', params: 'mapping' },
  { method: 'DELETE', path: new RegExp(`^${EVENT_SOURCE_MAPPINGS}/([^/]+)/?$`), operation: 'DeleteEventSourceMapping', params: 'mapping' },
  { method: 'POST', path: new RegExp(`^${FUNCTION_URL}/?$`), operation: 'CreateFunctionUrlConfig' },
  { method: 'GET', path: new RegExp(`^${FUNCTION_URL}/?$`), operation: 'GetFunctionUrlConfig' },
  { method: 'PUT', path: new RegExp(`^${FUNCTION_URL}/?$`), operation: 'UpdateFunctionUrlConfig' },
  { method: 'DELETE', path: new RegExp(`^${FUNCTION_URL}/?$`), operation: 'DeleteFunctionUrlConfig' },
  { method: 'GET', path: new RegExp(`^${FUNCTION_URLS}/?$`), operation: 'ListFunctionUrlConfigs' },
  { method: 'POST', path: new RegExp(`^${FUNCTIONS}/([^/]+)/policy/?$`), operation: 'AddPermission' },
  { method: 'GET', path: new RegExp(`^${FUNCTIONS}/([^/]+)/policy/?$`), operation: 'GetPolicy' },
  { method: 'DELETE', path: new RegExp(`^${FUNCTIONS}/([^/]+)/policy/([^/]+)/?$`), operation: 'RemovePermission', params: 'statement' },
];

/** The operation for `method` and `url`, or undefined when the Lambda API has none lambkin serves. */
export function matchRoute(method: string, url: string): RouteMatch | undefined {
  const parsed = requestUrl(url);
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    if (route.query && parsed.searchParams.get(route.query[0]) !== route.query[1]) continue;
    const match = route.path.exec(parsed.pathname);
    if (!match) continue;
    let params: (string | undefined)[];
    try {
      params = match.slice(1).map((encoded) => (encoded === undefined ? undefined : decodeURIComponent(encoded)));
    } catch {
      return undefined;
    }
    const query = parsed.searchParams;
    if (route.params === 'layer') return { operation: route.operation, layerName: params[0], layerVersion: params[1], query };
    if (route.params === 'resource') return { operation: route.operation, resource: params[0], query };
    if (route.params === 'mapping') return { operation: route.operation, uuid: params[0], query };
    if (route.params === 'statement') return { operation: route.operation, functionName: params[0], statementId: params[1], query };
    return { operation: route.operation, functionName: params[0], ...(params[1] !== undefined ? { aliasName: params[1] } : {}), query };
  }
  return undefined;
}
