// The runtime's side of the Lambda Runtime API (reference/runtime-api.md), over one keep-alive connection to
// AWS_LAMBDA_RUNTIME_API written on a plain socket (socket-transport.ts): no HTTP client to load at a cold start,
// the fastest warm loop measured, and no request published on the diagnostics channels a function's tracing
// listens to. Streamed responses borrow that connection (response-request.ts).
// With several invokes at once (multi-concurrency.ts) it keeps a small pool of such connections instead, and, as
// AWS's client does in that mode, retries a failed /next with a growing delay rather than end the worker.
import type { ApiTransport, Exchange } from './api-exchange.ts';
import { headerValue, type ErrorBody } from './errors.ts';
import { logError } from './logging.ts';
import { SocketTransport, SocketTransportPool } from './socket-transport.ts';
import { xrayErrorCauseHeader } from './xray-error-cause.ts';

const NEXT_PATH = '/2018-06-01/runtime/invocation/next';
const INVOCATION_PATH = '/2018-06-01/runtime/invocation/';
const INIT_ERROR_PATH = '/2018-06-01/runtime/init/error';
const XRAY_CAUSE_HEADER = 'lambda-runtime-function-xray-error-cause';

// Header objects reused by every call; the transport only reads them.
const JSON_HEADERS = { 'content-type': 'application/json' };

// Reaching the API at all is retried briefly (the server may still be binding when the process starts);
// after that the runtime gives up with a clear message rather than hang.
const CONNECT_RETRY_DELAYS_MS = [25, 50, 100, 200, 400, 800];
// A post that failed on the connection is resent: a duplicate is harmless (the API answers 403), a lost
// response is not.
const POST_ATTEMPTS = 3;
// With several invokes at once, a failed /next is retried as AWS's client retries it: 100 ms doubling up to 90 s,
// 20 attempts in all (the last just past the 15-minute mark), each failure logged.
const NEXT_BACKOFF_FIRST_MS = 100;
const NEXT_BACKOFF_MAX_MS = 90_000;
const NEXT_RETRIES = 19;

export interface RuntimeApiClientOptions {
  /** Several invokes in flight at once: a pool of connections (this many opened at once), /next retried with backoff. */
  concurrentConnections?: number;
}

/** One event handed out by `/next`, with the metadata headers that came with it. */
export interface NextInvocation {
  requestId: string;
  /** Epoch ms; NaN when the API sent no deadline. */
  deadlineMs: number;
  invokedFunctionArn: string | undefined;
  traceId: string | undefined;
  clientContext: string | undefined;
  cognitoIdentity: string | undefined;
  tenantId: string | undefined;
  body: Buffer;
}

/** The Runtime API answered something the runtime cannot work with, or could not be reached at all. */
export class RuntimeApiError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RuntimeApiError';
  }
}

const firstValue = (value: string | string[] | undefined): string | undefined => (typeof value === 'string' ? value : value?.[0]);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether a failure happened below HTTP (refused, reset, closed), so the request may be sent again. */
function isConnectionFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('E');
}

function describe(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}

export class RuntimeApiClient {
  readonly address: string;
  readonly #transport: ApiTransport;
  readonly #concurrent: boolean;
  #polling = true;

  /** `address` is AWS_LAMBDA_RUNTIME_API: `host:port`, no scheme. */
  constructor(address: string, options: RuntimeApiClientOptions = {}) {
    checkRuntimeApiAddress(address);
    this.address = address;
    // Connected while the handler loads, so that the connection is up (and announced on net.client.socket)
    // before any code of the function runs.
    const connections = options.concurrentConnections;
    this.#concurrent = connections !== undefined;
    if (connections === undefined) {
      const transport = new SocketTransport(address);
      transport.preconnect();
      this.#transport = transport;
    } else {
      const pool = new SocketTransportPool(address);
      pool.preconnect(connections);
      this.#transport = pool;
    }
  }

  #exchange(method: 'GET' | 'POST', path: string, headers: Record<string, string> | null, body: string | null): Promise<Exchange> {
    return this.#transport.exchange(method, path, headers, body);
  }

  /**
   * Waits for the next event. Retries briefly when the API cannot be reached, then throws RuntimeApiError; with
   * several invokes at once, retries any failure with backoff (see NEXT_RETRIES) before it throws.
   */
  async next(): Promise<NextInvocation> {
    if (this.#concurrent) return this.#nextWithBackoff();
    let exchange: Exchange;
    for (let attempt = 0; ; attempt++) {
      try {
        exchange = await this.#exchange('GET', NEXT_PATH, null, null);
        break;
      } catch (error) {
        if (!isConnectionFailure(error)) {
          throw new RuntimeApiError(
            `The Runtime API at ${this.address} answered GET /runtime/invocation/next with something that is not valid HTTP: ${describe(error)}`,
            { cause: error },
          );
        }
        if (attempt >= CONNECT_RETRY_DELAYS_MS.length) {
          throw new RuntimeApiError(`Cannot reach the Runtime API at ${this.address} (GET /runtime/invocation/next): ${describe(error)}`, { cause: error });
        }
        await sleep(CONNECT_RETRY_DELAYS_MS[attempt]!);
      }
    }
    return readNext(exchange);
  }

  async #nextWithBackoff(): Promise<NextInvocation> {
    for (let attempt = 0; ; attempt++) {
      try {
        return readNext(await this.#exchange('GET', NEXT_PATH, null, null));
      } catch (error) {
        // Stopped on purpose (stopPolling): the worker is going away, and asks for nothing more.
        if (!this.#polling) return new Promise<never>(() => {});
        if (attempt >= NEXT_RETRIES) {
          logError(`Failed to get next invocation after ${attempt + 1} attempts. Giving up.`, error);
          throw new RuntimeApiError(`GET /runtime/invocation/next at ${this.address} failed ${attempt + 1} times, last: ${describe(error)}`, { cause: error });
        }
        const delayMs = Math.min(NEXT_BACKOFF_FIRST_MS * 2 ** attempt, NEXT_BACKOFF_MAX_MS);
        logError(`Failed to get next invocation (attempt ${attempt + 1}/${NEXT_RETRIES + 1}). Retrying in ${delayMs}ms...`, error);
        await sleep(delayMs);
      }
    }
  }

  /** Posts a buffered result (JSON text). Never rejects: a refused post is logged and the loop carries on. */
  postResponse(requestId: string, json: string): Promise<void> {
    return this.#post(`${INVOCATION_PATH}${encodeURIComponent(requestId)}/response`, JSON_HEADERS, json);
  }

  /**
   * Posts a function error for the invoke, with the X-Ray cause built from `thrown` (what the handler threw) as
   * AWS's client sends it. Never rejects.
   */
  postError(requestId: string, error: ErrorBody, thrown: unknown): Promise<void> {
    const headers = errorHeaders(error);
    const cause = xrayErrorCauseHeader(thrown);
    if (cause !== undefined) headers[XRAY_CAUSE_HEADER] = cause;
    return this.#post(`${INVOCATION_PATH}${encodeURIComponent(requestId)}/error`, headers, JSON.stringify(error));
  }

  /** Reports an initialisation failure (AWS's client sends no X-Ray cause here). Never rejects; the caller exits afterwards. */
  postInitError(error: ErrorBody): Promise<void> {
    return this.#post(INIT_ERROR_PATH, errorHeaders(error), JSON.stringify(error));
  }

  async #post(path: string, headers: Record<string, string>, body: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const { status, body: answer } = await this.#exchange('POST', path, headers, body);
        if (status >= 200 && status < 300) return;
        reportRefusedPost(path, status, answer);
        return;
      } catch (error) {
        if (isConnectionFailure(error) && attempt < POST_ATTEMPTS) continue;
        process.stderr.write(`lambkin runtime: POST ${path} to the Runtime API at ${this.address} failed: ${describe(error)}\n`);
        return;
      }
    }
  }

  /**
   * With several invokes at once, for a worker about to end: closes the /next waiting for an event now, so that the
   * Runtime API hands no more events to this worker (one it handed out meanwhile is lost, as on AWS).
   */
  stopPolling(): void {
    this.#polling = false;
    if (this.#transport instanceof SocketTransportPool) this.#transport.drop(NEXT_PATH);
  }

  close(): Promise<void> {
    return this.#transport.close();
  }
}

/** The event of a /next answer; RuntimeApiError when the answer is not one. */
function readNext(exchange: Exchange): NextInvocation {
  const { status, headers, body } = exchange;
  if (status !== 200) {
    throw new RuntimeApiError(`The Runtime API answered GET /runtime/invocation/next with status ${status}: ${body.toString('utf8', 0, 500)}`);
  }
  const requestId = firstValue(headers['lambda-runtime-aws-request-id']);
  if (!requestId) {
    throw new RuntimeApiError('The Runtime API answered GET /runtime/invocation/next without a Lambda-Runtime-Aws-Request-Id header');
  }
  const deadline = firstValue(headers['lambda-runtime-deadline-ms']);
  return {
    requestId,
    deadlineMs: deadline === undefined ? Number.NaN : Number(deadline),
    invokedFunctionArn: firstValue(headers['lambda-runtime-invoked-function-arn']),
    traceId: firstValue(headers['lambda-runtime-trace-id']),
    clientContext: firstValue(headers['lambda-runtime-client-context']),
    cognitoIdentity: firstValue(headers['lambda-runtime-cognito-identity']),
    tenantId: firstValue(headers['lambda-runtime-aws-tenant-id']),
    body,
  };
}

/** Throws RuntimeApiError unless `address` is AWS_LAMBDA_RUNTIME_API's form, host:port. */
export function checkRuntimeApiAddress(address: string): void {
  if (!/^[^\s/]+:\d+$/.test(address)) {
    throw new RuntimeApiError(`AWS_LAMBDA_RUNTIME_API must be host:port (for example 127.0.0.1:9001), got ${JSON.stringify(address)}`);
  }
}

function errorHeaders(error: ErrorBody): Record<string, string> {
  return { 'content-type': 'application/json', 'lambda-runtime-function-error-type': headerValue(error.errorType) };
}

/** The API refused a post (413 for an oversized response, 400/403 for a stale invoke): say so and carry on. */
function reportRefusedPost(path: string, status: number, answer: Buffer): void {
  let detail = answer.toString('utf8', 0, 1000);
  try {
    const parsed = JSON.parse(detail) as { errorType?: unknown; errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') detail = `${String(parsed.errorType)}: ${parsed.errorMessage}`;
  } catch {
    // Not JSON: show the raw text.
  }
  process.stderr.write(`lambkin runtime: the Runtime API refused POST ${path} with status ${status}: ${detail}\n`);
}
