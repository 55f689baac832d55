// Serves function URLs on serve's port: finds the URL's config, answers CORS preflights, checks its auth, turns the
// request into a payload 2.0 event, runs the function on the one invocation path (src/invocation/invoke-function.ts)
// and maps its answer back: whole for BUFFERED URLs, chunk by chunk as the function writes for RESPONSE_STREAM ones.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { type InvocationHome, invocationTarget, runTarget } from '../invocation/invoke-function.ts';
import { LambdaError } from '../invocation/lambda-error.ts';
import type { InvokeOutcome } from '../runtime-api/types.ts';
import { readBody } from '../http/read-body.ts';
import type { FunctionUrlRecord, FunctionUrlStore } from './url-config.ts';
import type { IamCaller, IamCheck } from './url-auth.ts';
import { preflightAnswer, withCorsHeaders } from './url-cors.ts';
import { urlEvent } from './url-event.ts';
import type { UrlRequestTarget } from './url-router.ts';
import {
  functionFailed,
  MalformedResponse,
  mapBufferedResult,
  responseHead,
  type UrlAnswer,
  urlAccessDenied,
  urlForbidden,
  urlRequestTooLarge,
  urlThrottled,
} from './url-response.ts';
import { HTTP_INTEGRATION_CONTENT_TYPE, splitPrelude, splitWholePrelude } from './url-stream.ts';

/** Lambda's synchronous payload limit, for the request and for a buffered response: 6 MB. */
export const URL_PAYLOAD_LIMIT = 6 * 1024 * 1024;

export interface FunctionUrlServerOptions {
  home: InvocationHome;
  /** The URL configs (the store's; read per request). */
  urls: () => FunctionUrlStore | undefined;
  /** AWS_IAM URLs' signature check; without one every AWS_IAM request is refused. */
  iam?: IamCheck;
  /**
   * Whether the URL's function allows the request (`lambkin serve --auth sigv4`: its resource policy, and an AWS_IAM
   * caller's identity policy); absent, every URL is open to whoever reaches it (and AWS_IAM to any accepted signer).
   */
  authorise?: (url: FunctionUrlRecord, signer: IamCaller | undefined) => Promise<boolean>;
  onInternalError?: (error: unknown) => void;
}

export class FunctionUrlServer {
  private readonly options: FunctionUrlServerOptions;

  constructor(options: FunctionUrlServerOptions) {
    this.options = options;
  }

  async serve(req: IncomingMessage, res: ServerResponse, url: UrlRequestTarget, requestId: string): Promise<void> {
    let record: FunctionUrlRecord | undefined;
    try {
      const regionMatches = url.region === undefined || url.region === this.options.home.identity.region;
      record = regionMatches ? await this.options.urls()?.byUrlId(url.urlId) : undefined;
      if (!record) return this.answer(req, res, undefined, urlAccessDenied());
      const preflight = preflightAnswer(record.cors, req.method ?? '', req.headers);
      if (preflight) return this.answer(req, res, undefined, preflight);
      const read = await readBody(req, URL_PAYLOAD_LIMIT);
      if (!read.ok) {
        if ('aborted' in read) return;
        return this.answer(req, res, record, urlRequestTooLarge(URL_PAYLOAD_LIMIT));
      }
      let iam;
      if (record.authType === 'AWS_IAM') {
        iam = await this.options.iam?.(req, read.body);
        if (!iam) return this.answer(req, res, record, urlForbidden());
      }
      if (this.options.authorise && !(await this.options.authorise(record, iam))) return this.answer(req, res, record, urlForbidden());
      const event = urlEvent({
        req,
        urlId: url.urlId,
        domainName: url.domainName,
        target: url.target,
        body: read.body,
        requestId,
        ...(iam ? { iam } : {}),
        now: Date.now(),
        port: req.socket.localPort ?? 0,
      });
      const payload = Buffer.from(JSON.stringify(event));
      if (payload.length > URL_PAYLOAD_LIMIT) return this.answer(req, res, record, urlRequestTooLarge(URL_PAYLOAD_LIMIT));
      const target = await invocationTarget(this.options.home, record.functionName, record.qualifier ?? null);
      const { outcome } = await runTarget(this.options.home, target, { requestId, payload, logTail: false });
      if (record.invokeMode === 'RESPONSE_STREAM' && outcome.kind === 'streaming') return await this.stream(req, res, record, outcome);
      return this.answer(req, res, record, await bufferedAnswer(outcome));
    } catch (error) {
      if (res.headersSent) return void res.destroy();
      if (!(error instanceof LambdaError) && !(error instanceof MalformedResponse)) this.options.onInternalError?.(error);
      const answer =
        error instanceof LambdaError && error.status === 429
          ? urlThrottled()
          : error instanceof LambdaError && error.status === 404
            ? urlAccessDenied()
            : functionFailed();
      return this.answer(req, res, record, answer);
    }
  }

  private answer(req: IncomingMessage, res: ServerResponse, record: FunctionUrlRecord | undefined, answer: UrlAnswer): void {
    req.resume();
    if (res.writableEnded || res.destroyed) return;
    const headers = withCorsHeaders(record?.cors, req.headers.origin, answer.headers);
    res.writeHead(answer.status, { ...asOutgoing(headers), 'content-length': String(answer.body.length) });
    res.end(answer.body);
  }

  /** Each chunk goes out as the function writes it; a function that fails mid-stream cuts the response. */
  private async stream(
    req: IncomingMessage,
    res: ServerResponse,
    record: FunctionUrlRecord,
    outcome: Extract<InvokeOutcome, { kind: 'streaming' }>,
  ): Promise<void> {
    let status = 200;
    let headers: [string, string][] = [['content-type', outcome.contentType]];
    let first: Buffer = Buffer.alloc(0);
    let rest: AsyncIterator<unknown> = outcome.body[Symbol.asyncIterator]();
    if (outcome.contentType === HTTP_INTEGRATION_CONTENT_TYPE) {
      const split = await splitPrelude(outcome.body).catch((error: unknown) => {
        // A stream the URL cannot answer with is still read to its end, so its runtime is not held up.
        outcome.body.resume();
        throw error;
      });
      ({ status, headers } = responseHead(split.prelude));
      if (!headers.some(([name]) => name === 'content-type')) headers.push(['content-type', 'application/octet-stream']);
      ({ first, rest } = split);
    }
    req.resume();
    res.writeHead(status, asOutgoing(withCorsHeaders(record.cors, req.headers.origin, headers)));
    res.flushHeaders();
    if (first.length > 0) await write(res, first);
    for (;;) {
      const next = await rest.next();
      if (next.done) break;
      // A caller gone away: the function's stream is still read to its end, so its runtime is not held up.
      if (!res.destroyed) await write(res, Buffer.from(next.value as Uint8Array));
    }
    const { trailers } = await outcome.end;
    if (trailers.errorType !== undefined) res.destroy();
    else res.end();
  }
}

/** The whole answer of a BUFFERED URL (or of a function that does not stream behind a RESPONSE_STREAM one). */
async function bufferedAnswer(outcome: InvokeOutcome): Promise<UrlAnswer> {
  if (outcome.kind === 'success') return mapBufferedResult(outcome.body);
  if (outcome.kind !== 'streaming') return functionFailed();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of outcome.body) {
    size += (chunk as Uint8Array).length;
    if (size <= URL_PAYLOAD_LIMIT) chunks.push(Buffer.from(chunk as Uint8Array));
  }
  const { trailers } = await outcome.end;
  if (trailers.errorType !== undefined || size > URL_PAYLOAD_LIMIT) return functionFailed();
  const whole = Buffer.concat(chunks);
  if (outcome.contentType !== HTTP_INTEGRATION_CONTENT_TYPE) return mapBufferedResult(whole);
  const { prelude, body } = splitWholePrelude(whole);
  const head = responseHead(prelude);
  if (!head.headers.some(([name]) => name === 'content-type')) head.headers.push(['content-type', 'application/octet-stream']);
  return { ...head, body };
}

function write(res: ServerResponse, chunk: Buffer): Promise<void> {
  if (res.write(chunk)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Pairs as node:http takes them: a repeated name (each cookie's Set-Cookie) as an array. */
function asOutgoing(pairs: [string, string][]): OutgoingHttpHeaders {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of pairs) {
    const key = name.toLowerCase();
    const had = headers[key];
    headers[key] = had === undefined ? value : key === 'set-cookie' ? [...(Array.isArray(had) ? had : [had]), value] : `${had},${value}`;
  }
  return headers;
}
