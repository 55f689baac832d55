// Which operation of the Lambda API a request names, by the routes in the service model: lets a request for an
// operation lambkin does not serve be answered by that operation's name.
import { LAMBDA_MODEL } from './lambda-model.ts';

interface CompiledRoute {
  operation: string;
  method: string;
  path: RegExp;
  /** A query parameter the route is told apart by (`?find=LayerVersion`). */
  query?: [string, string];
}

let compiled: CompiledRoute[] | undefined;

function routes(): CompiledRoute[] {
  compiled ??= LAMBDA_MODEL.routes
    .map(({ operation, method, requestUri }) => {
      const [template = '', queryPart] = requestUri.split('?');
      const source = template
        .replace(/\/$/, '')
        .split(/(\{[^}]+\})/)
        .map((part) => (part.startsWith('{') ? (part.endsWith('+}') ? '.+' : '[^/]+') : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
        .join('');
      const [name, value] = queryPart?.split('=') ?? [];
      return { operation, method, path: new RegExp(`^${source}/?$`), ...(name && value !== undefined ? { query: [name, value] as [string, string] } : {}) };
    })
    // Routes told apart by a query parameter are tried first.
    .sort((a, b) => Number(b.query !== undefined) - Number(a.query !== undefined));
  return compiled;
}

/** The name of the Lambda API operation at `method` `pathname`, or undefined when the API has none there. */
export function modelOperationAt(method: string, pathname: string, query: URLSearchParams): string | undefined {
  return routes().find((route) => route.method === method && route.path.test(pathname) && (!route.query || query.get(route.query[0]) === route.query[1]))
    ?.operation;
}
