// A function URL request as the function receives it: the payload format 2.0 event, as Lambda's function URL docs
// (urls-invocation.md, "Request payload format") show it.
import { randomHex } from '../runtime-api/random-hex.ts';
import type { IncomingMessage } from 'node:http';
import type { IamCaller } from './url-auth.ts';

export interface UrlEventInput {
  req: IncomingMessage;
  urlId: string;
  domainName: string;
  /** Path and query as the function sees them. */
  target: string;
  body: Buffer;
  requestId: string;
  /** The signer of an AWS_IAM URL's request; absent for NONE (the account is then `anonymous`, as Lambda gives it). */
  iam?: IamCaller;
  /** Milliseconds since the epoch. */
  now: number;
  /** The serving port, for x-forwarded-port. */
  port: number;
}

/** Content types whose bodies the function gets as text; any other body is base64. */
const TEXT_CONTENT_TYPE = /^text\/|json|xml|javascript/i;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function urlEvent(input: UrlEventInput): Record<string, unknown> {
  const { req, target } = input;
  const query = target.indexOf('?');
  const rawPath = query === -1 ? target : target.slice(0, query);
  const rawQueryString = query === -1 ? '' : target.slice(query + 1);
  const sourceIp = normaliseIp(req.socket.remoteAddress ?? '');
  const headers = eventHeaders(req, sourceIp, input.port);
  const cookies = requestCookies(req);
  const queryStringParameters = queryParameters(rawQueryString);
  const contentType = headers['content-type'] ?? '';
  const event: Record<string, unknown> = {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(queryStringParameters ? { queryStringParameters } : {}),
    requestContext: {
      accountId: input.iam?.accountId ?? 'anonymous',
      apiId: input.urlId,
      authentication: null,
      ...(input.iam ? { authorizer: { iam: input.iam } } : {}),
      domainName: input.domainName,
      domainPrefix: input.urlId,
      http: {
        method: req.method ?? 'GET',
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: input.requestId,
      routeKey: '$default',
      stage: '$default',
      time: clfTime(input.now),
      timeEpoch: input.now,
    },
  };
  if (input.body.length > 0) {
    const text = TEXT_CONTENT_TYPE.test(contentType) && isUtf8(input.body);
    event.body = text ? input.body.toString('utf8') : input.body.toString('base64');
    event.isBase64Encoded = !text;
  } else {
    event.isBase64Encoded = false;
  }
  event.pathParameters = null;
  event.stageVariables = null;
  return event;
}

/** Header names lower-cased, repeats joined with commas; the cookies go to `cookies`, and the proxy's own are added. */
function eventHeaders(req: IncomingMessage, sourceIp: string, port: number): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (name === 'cookie' || values === undefined) continue;
    headers[name] = values.join(',');
  }
  headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']},${sourceIp}` : sourceIp;
  headers['x-forwarded-proto'] = 'http';
  headers['x-forwarded-port'] = String(port);
  headers['x-amzn-trace-id'] ??= `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomHex(12)}`;
  return headers;
}

function requestCookies(req: IncomingMessage): string[] {
  return (req.headersDistinct.cookie ?? [])
    .flatMap((line) => line.split(';'))
    .map((cookie) => cookie.trim())
    .filter((cookie) => cookie !== '');
}

/** Decoded names and values, a repeated name's values comma-joined; absent with no query string. */
function queryParameters(raw: string): Record<string, string> | undefined {
  if (raw === '') return undefined;
  const parameters: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(raw)) parameters[name] = name in parameters ? `${parameters[name]},${value}` : value;
  return parameters;
}

/** `12/Mar/2020:19:03:58 +0000`. */
function clfTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

/** `::ffff:127.0.0.1` (an IPv4 peer on a dual-stack socket) → `127.0.0.1`. */
function normaliseIp(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

function isUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}
