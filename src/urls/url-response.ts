// A function's answer as the URL's HTTP response (urls-invocation.md, "Response payload format"), and the answers
// Lambda gives itself: 502 for a function error or an answer it cannot read, 429 for a throttle, 403 for a URL that
// does not exist or refuses the caller, 413 for a request over 6 MB.

/** An HTTP answer: headers as pairs, so that each cookie is its own Set-Cookie. */
export interface UrlAnswer {
  status: number;
  headers: [string, string][];
  body: Buffer;
}

/** The response metadata a streaming function sends before its body (`HttpResponseStream.from`), or a full-form answer's. */
export interface ResponseHead {
  status: number;
  headers: [string, string][];
}

/** What the function's result cannot be read as. */
export class MalformedResponse extends Error {}

const JSON_HEADERS: [string, string][] = [['content-type', 'application/json']];

/** A buffered result: the full form (an object with statusCode), else the JSON as is with 200. */
export function mapBufferedResult(payload: Buffer): UrlAnswer {
  let result: unknown;
  try {
    result = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new MalformedResponse('the function returned something that is not JSON');
  }
  if (result === null || typeof result !== 'object' || Array.isArray(result) || !('statusCode' in result)) {
    return { status: 200, headers: [...JSON_HEADERS], body: payload };
  }
  const full = result as Record<string, unknown>;
  const head = responseHead(full);
  const body = full.body;
  if (body !== undefined && body !== null && typeof body !== 'string') throw new MalformedResponse('body must be a string');
  const text = body ?? '';
  const bytes = full.isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
  if (!head.headers.some(([name]) => name === 'content-type')) head.headers.push(['content-type', 'application/json']);
  return { status: head.status, headers: head.headers, body: bytes };
}

/** statusCode, headers and cookies of a full-form answer or a stream's prelude. */
export function responseHead(meta: Record<string, unknown>): ResponseHead {
  const status = meta.statusCode === undefined ? 200 : Number(meta.statusCode);
  if (!Number.isInteger(status) || status < 100 || status > 599) throw new MalformedResponse(`statusCode ${String(meta.statusCode)} is not an HTTP status`);
  const headers: [string, string][] = [];
  const given = meta.headers;
  if (given !== undefined && given !== null) {
    if (typeof given !== 'object' || Array.isArray(given)) throw new MalformedResponse('headers must be an object');
    for (const [name, value] of Object.entries(given)) {
      if (value === null || value === undefined) continue;
      if (typeof value === 'object') throw new MalformedResponse(`header ${name} must be a string`);
      headers.push([name.toLowerCase(), String(value)]);
    }
  }
  const cookies = meta.cookies;
  if (cookies !== undefined && cookies !== null) {
    if (!Array.isArray(cookies) || cookies.some((c) => typeof c !== 'string')) throw new MalformedResponse('cookies must be an array of strings');
    for (const cookie of cookies as string[]) headers.push(['set-cookie', cookie]);
  }
  return { status, headers };
}

function errorAnswer(status: number, errorType: string | undefined, body: string): UrlAnswer {
  return {
    status,
    headers: [...JSON_HEADERS, ...(errorType ? ([['x-amzn-ErrorType', errorType]] as [string, string][]) : [])],
    body: Buffer.from(body),
  };
}

/** The function failed, or its answer could not be read: Lambda's bare 502. */
export const functionFailed = (): UrlAnswer => errorAnswer(502, undefined, 'Internal Server Error');
/** The URL does not exist, or its auth refused the caller. */
export const urlAccessDenied = (): UrlAnswer => errorAnswer(403, 'AccessDeniedException', '{"Message":null}');
/** An AWS_IAM URL's request without a valid signature by a key lambkin accepts. */
export const urlForbidden = (): UrlAnswer => errorAnswer(403, 'AccessDeniedException', '{"Message":"Forbidden"}');
/** The function's concurrency (or the account's) is used up. */
export const urlThrottled = (): UrlAnswer => errorAnswer(429, 'TooManyRequestsException', '{"Message":"Rate Exceeded."}');
/** The request is over the 6 MB invoke payload limit. */
export const urlRequestTooLarge = (limit: number): UrlAnswer =>
  errorAnswer(
    413,
    'RequestEntityTooLargeException',
    JSON.stringify({ Message: `Request must be smaller than ${limit} bytes for the InvokeFunction operation` }),
  );
