// The global `awslambda` object: response streaming for handlers (reference/node-runtime.md, "Response
// streaming") and the invoke store for libraries (invoke-store.ts). Kept tiny and free of I/O because it is
// installed before every handler loads; the streaming machinery (response-stream.ts) is only loaded by the first
// streamed invoke.
import { invokeStore } from './invoke-store.ts';

// The marks AWS's client puts on a streamified handler, under the same global symbols so that wrappers
// which copy them from one function to another (tracing, middleware) keep working.
export const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
export const HANDLER_HIGH_WATER_MARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');
export const STREAM_RESPONSE = 'response';

export const HTTP_INTEGRATION_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';

/** On a response stream: bytes to send before its first chunk (the HTTP integration prelude). */
export const PRELUDE = Symbol('lambkin.responseStream.prelude');

/** What HttpResponseStream.from needs of the response stream it is given. */
export interface PreludeTarget {
  setContentType(contentType: string): void;
  [PRELUDE]?: Buffer;
}

export interface HttpResponsePrelude {
  statusCode?: number;
  headers?: Record<string, string>;
  cookies?: string[];
  [extra: string]: unknown;
}

// The separator between the JSON prelude and the body: eight NUL bytes.
const PRELUDE_SEPARATOR_LENGTH = 8;

export class HttpResponseStream {
  /**
   * Turns a response stream into an HTTP integration response (Function URLs, API Gateway): the status,
   * headers and cookies go first as JSON, then the body. The prelude is sent even if the handler ends the
   * stream without writing (AWS's client sends nothing then, losing the status code).
   */
  static from<T extends PreludeTarget>(responseStream: T, prelude: HttpResponsePrelude = {}): T {
    responseStream.setContentType(HTTP_INTEGRATION_CONTENT_TYPE);
    const json = Buffer.from(JSON.stringify(prelude));
    const bytes = Buffer.alloc(json.length + PRELUDE_SEPARATOR_LENGTH);
    json.copy(bytes);
    responseStream[PRELUDE] = bytes;
    return responseStream;
  }
}

export interface StreamifyOptions {
  highWaterMark?: number;
}

/** Marks a handler to be called as (event, responseStream, context) with a streamed response. */
export function streamifyResponse<F extends object>(handler: F, options?: StreamifyOptions): F {
  const marks = handler as Record<symbol, unknown>;
  marks[HANDLER_STREAMING] = STREAM_RESPONSE;
  if (typeof options?.highWaterMark === 'number') marks[HANDLER_HIGH_WATER_MARK] = options.highWaterMark;
  return handler;
}

/**
 * Makes `awslambda` available to handler code as a global, before the handler module is loaded: the same three
 * members as AWS's (streamifyResponse, HttpResponseStream, InvokeStore). AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA
 * ("true" or "1", exactly) leaves the global out altogether, as AWS's client 4.x does (its setupGlobals and
 * @aws/lambda-invoke-store both check it): a handler then cannot streamify through the global, and
 * @aws/lambda-invoke-store makes a store of its own that the runtime does not fill.
 */
export function installAwsLambdaGlobal(env: NodeJS.ProcessEnv = process.env): void {
  const optOut = env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA;
  if (optOut === 'true' || optOut === '1') return;
  (globalThis as Record<string, unknown>).awslambda = { streamifyResponse, HttpResponseStream, InvokeStore: invokeStore };
}
