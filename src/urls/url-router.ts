// Which requests on serve's port are for a function URL rather than the Lambda API. Two forms name a URL:
// - the Host header `<urlId>.lambda-url.<region>.localhost[:port]`, as AWS's `<urlId>.lambda-url.<region>.on.aws`
//   (browsers and curl resolve every name under `localhost` to loopback, so `http://<urlId>.lambda-url.us-east-1.localhost:<port>/`
//   works as is);
// - the path `/lambda-url/<urlId>/<rest>` on any host, for clients that cannot set Host: the function sees `/<rest>`.
// Both are recognised before the Lambda API's browser guard: URLs serve browsers and decide CORS themselves.
import type { IncomingMessage } from 'node:http';

/** The path prefix of the form for clients that cannot set Host. */
export const URL_PATH_PREFIX = '/lambda-url/';

const URL_HOST = /^([a-z0-9]+)\.lambda-url\.([a-z0-9-]+)\.localhost\.?(?::\d+)?$/i;

export interface UrlRequestTarget {
  urlId: string;
  /** The region the Host named; the path form names none. */
  region?: string;
  /** The host name the function sees as requestContext.domainName (no port). */
  domainName: string;
  /** The request target as the function sees it: path and query, `/lambda-url/<urlId>` taken off in the path form. */
  target: string;
}

/** The URL a request is for; undefined for a Lambda API request. */
export function matchFunctionUrl(req: IncomingMessage, region: string): UrlRequestTarget | undefined {
  const target = req.url ?? '/';
  const host = req.headers.host ?? '';
  const byHost = URL_HOST.exec(host);
  if (byHost) {
    const urlId = byHost[1]!.toLowerCase();
    const named = byHost[2]!.toLowerCase();
    return { urlId, region: named, domainName: urlHostName(urlId, named), target };
  }
  if (!target.startsWith(URL_PATH_PREFIX)) return undefined;
  const rest = target.slice(URL_PATH_PREFIX.length);
  const end = rest.search(/[/?]/);
  const urlId = (end === -1 ? rest : rest.slice(0, end)).toLowerCase();
  if (urlId === '') return undefined;
  const after = end === -1 ? '' : rest.slice(end);
  return { urlId, domainName: urlHostName(urlId, region), target: after.startsWith('/') ? after : `/${after}` };
}

/** `<urlId>.lambda-url.<region>.localhost`: the name lambkin serves a URL under. */
export function urlHostName(urlId: string, region: string): string {
  return `${urlId}.lambda-url.${region}.localhost`;
}
