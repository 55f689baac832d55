// CORS for a function URL with a Cors config (urls-configuration.md, "Cross-origin resource sharing"): Lambda
// answers preflights itself and adds the configured Access-Control-* headers to every response, replacing any the
// function set. Without a config, OPTIONS goes to the function and its headers stand.
import type { IncomingHttpHeaders } from 'node:http';
import type { UrlCors } from './url-config.ts';
import type { UrlAnswer } from './url-response.ts';

/** A preflight (OPTIONS with Access-Control-Request-Method) of a URL with a Cors config, answered here. */
export function preflightAnswer(cors: UrlCors | undefined, method: string, headers: IncomingHttpHeaders): UrlAnswer | undefined {
  if (!cors || method !== 'OPTIONS' || headers['access-control-request-method'] === undefined) return undefined;
  const answer: UrlAnswer = { status: 200, headers: [], body: Buffer.alloc(0) };
  const allowOrigin = allowedOrigin(cors, headers.origin);
  const requested = String(headers['access-control-request-method']).toUpperCase();
  const methods = (cors.AllowMethods ?? []).map((m) => m.toUpperCase());
  if (!allowOrigin || !(methods.includes('*') || methods.includes(requested))) return answer;
  answer.headers.push(['access-control-allow-origin', allowOrigin]);
  answer.headers.push(['access-control-allow-methods', methods.join(',')]);
  if (cors.AllowHeaders?.length) answer.headers.push(['access-control-allow-headers', cors.AllowHeaders.join(',')]);
  if (cors.AllowCredentials) answer.headers.push(['access-control-allow-credentials', 'true']);
  if (cors.ExposeHeaders?.length) answer.headers.push(['access-control-expose-headers', cors.ExposeHeaders.join(',')]);
  if (cors.MaxAge !== undefined) answer.headers.push(['access-control-max-age', String(cors.MaxAge)]);
  answer.headers.push(['vary', 'Origin']);
  return answer;
}

/** The function's headers with the config's CORS headers in place of any Access-Control-* it set. */
export function withCorsHeaders(cors: UrlCors | undefined, origin: string | undefined, headers: [string, string][]): [string, string][] {
  if (!cors) return headers;
  const kept = headers.filter(([name]) => !name.toLowerCase().startsWith('access-control-'));
  const allowOrigin = allowedOrigin(cors, origin);
  if (!allowOrigin) return kept;
  kept.push(['access-control-allow-origin', allowOrigin]);
  if (cors.AllowCredentials) kept.push(['access-control-allow-credentials', 'true']);
  if (cors.ExposeHeaders?.length) kept.push(['access-control-expose-headers', cors.ExposeHeaders.join(',')]);
  if (!kept.some(([name, value]) => name.toLowerCase() === 'vary' && /\borigin\b/i.test(value))) kept.push(['vary', 'Origin']);
  return kept;
}

/** The Access-Control-Allow-Origin for `origin`: `*` when any origin may (and no credentials), else the origin itself. */
function allowedOrigin(cors: UrlCors, origin: string | undefined): string | undefined {
  if (origin === undefined) return undefined;
  const origins = cors.AllowOrigins ?? [];
  if (origins.includes('*')) return cors.AllowCredentials ? origin : '*';
  return origins.some((allowed) => allowed.toLowerCase() === origin.toLowerCase()) ? origin : undefined;
}
