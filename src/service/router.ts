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
] as const;

export type Operation = (typeof OPERATIONS)[number];

export interface RouteMatch {
  operation: Operation;
  /** The URL-decoded FunctionName path parameter, when the route has one. */
  functionName?: string;
  /** Layer routes: the URL-decoded LayerName (a name or a layer ARN) and VersionNumber path parameters. */
  layerName?: string;
  layerVersion?: string;
  query: URLSearchParams;
}

const FUNCTIONS = '/2015-03-31/functions';
// Later operations live under the API version they were added in.
const CONCURRENCY_2017 = '/2017-10-31/functions/([^/]+)/concurrency/?$';
const FUNCTIONS_2019 = '/2019-09-30/functions';
const LAYERS = '/2018-10-31/layers';
const ROUTES: { method: string; path: RegExp; operation: Operation; query?: [string, string]; layer?: true }[] = [
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
  { method: 'POST', path: new RegExp(`^${LAYERS}/([^/]+)/versions/?$`), operation: 'PublishLayerVersion', layer: true },
  { method: 'GET', path: new RegExp(`^${LAYERS}/([^/]+)/versions/?$`), operation: 'ListLayerVersions', layer: true },
  { method: 'GET', path: new RegExp(`^${LAYERS}/([^/]+)/versions/([^/]+)/?$`), operation: 'GetLayerVersion', layer: true },
  { method: 'DELETE', path: new RegExp(`^${LAYERS}/([^/]+)/versions/([^/]+)/?$`), operation: 'DeleteLayerVersion', layer: true },
  // GetLayerVersionByArn and ListLayers share a path: `?find=LayerVersion&Arn=` tells the first.
  { method: 'GET', path: new RegExp(`^${LAYERS}/?$`), operation: 'GetLayerVersionByArn', query: ['find', 'LayerVersion'] },
  { method: 'GET', path: new RegExp(`^${LAYERS}/?$`), operation: 'ListLayers' },
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
    if (route.layer) return { operation: route.operation, layerName: params[0], layerVersion: params[1], query: parsed.searchParams };
    return { operation: route.operation, functionName: params[0], query: parsed.searchParams };
  }
  return undefined;
}
