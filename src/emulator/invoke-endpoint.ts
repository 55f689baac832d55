// The RIE's invoke path, `POST /2015-03-31/functions/function/invocations`, answered as the Lambda API answers a
// synchronous Invoke: the runtime's body and Content-Type on success, the error JSON with X-Amz-Function-Error
// on failure, streamed bodies passed through as they arrive.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { finished } from 'node:stream/promises';
import { ALLOWED_HOSTS_ENV, BrowserGuard } from '../http/browser-guard.ts';
import { answerOrCut, firstHeader, sendBody, sendJson } from '../http/headers.ts';
import { checkInvokePayload, INVOKE_TOO_LARGE_MESSAGE, MAX_INVOKE_REQUEST_BYTES } from '../http/invoke-payload.ts';
import { readBodyUpTo } from '../http/read-body.ts';
import { CALLER_FACING_SERVER_OPTIONS } from '../http/server-timeouts.ts';
import { TrackedServer } from '../http/tracked-server.ts';
import type { InvokeOutcome } from '../runtime-api/types.ts';
import type { Emulator, EmulatorInvoke } from './emulator.ts';

const INVOKE_PATH = /^\/2015-03-31\/functions\/[^/]+\/invocations(?:\?.*)?$/;

/** A Lambda API error: the SDK reads the type from x-amzn-ErrorType and the message from `message`. */
function sendServiceError(res: ServerResponse, status: number, type: string, message: string, headers: OutgoingHttpHeaders = {}): void {
  sendJson(res, status, JSON.stringify({ Type: 'User', message }), { ...headers, 'x-amzn-ErrorType': type });
}

export interface InvokeEndpointOptions {
  /** Host names callers may use beyond the always-safe ones (LAMBKIN_ALLOWED_HOSTS). */
  allowedHosts?: readonly string[];
}

export class InvokeEndpoint {
  private readonly http: TrackedServer;
  private readonly emulator: Emulator;
  private readonly browserGuard: BrowserGuard;

  constructor(emulator: Emulator, options: InvokeEndpointOptions = {}) {
    this.emulator = emulator;
    this.browserGuard = new BrowserGuard({
      serverName: "lambkin's emulator",
      allowedHosts: options.allowedHosts ?? [],
      howToAllow: (host) => `allow it with the container's environment variable ${ALLOWED_HOSTS_ENV}=${host}`,
    });
    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((error: unknown) => {
        // The caller went away mid-request, or something broke here: never leave a request hanging.
        answerOrCut(res, () => sendServiceError(res, 500, 'ServiceException', String(error)));
      });
    };
    // Timeouts for receiving a request and for idle connections; none while an invoke runs (up to 15 minutes).
    this.http = new TrackedServer(CALLER_FACING_SERVER_OPTIONS, onRequest, { noDelay: true });
  }

  async listen(host: string, port: number): Promise<number> {
    return (await this.http.listen(port, host)).port;
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A page in the developer's browser must not drive the function (src/http/browser-guard.ts), on any path.
    const refusal = this.browserGuard.check(req.headers);
    if (refusal) {
      req.resume();
      return sendServiceError(res, 403, 'AccessDeniedException', refusal.message, { Connection: 'close' });
    }
    if (!INVOKE_PATH.test(req.url ?? '')) {
      req.resume();
      return sendServiceError(res, 404, 'ResourceNotFoundException', `No route for ${req.method} ${req.url}`);
    }
    if (req.method !== 'POST') {
      req.resume();
      return sendServiceError(res, 405, 'MethodNotAllowedException', `Use POST on ${req.url}`);
    }
    const body = await readBodyUpTo(req, MAX_INVOKE_REQUEST_BYTES);
    if (body === undefined) return sendServiceError(res, 413, 'RequestEntityTooLargeException', INVOKE_TOO_LARGE_MESSAGE);
    const request = parseInvoke(req, body);
    if (typeof request === 'string') return sendServiceError(res, 400, 'InvalidRequestContentException', request);

    const { requestId, outcome } = await this.emulator.invoke(request);
    writeOutcome(res, requestId, outcome);
  }
}

/** Validates what Lambda validates before an event reaches a runtime; a string is the error message. */
function parseInvoke(req: IncomingMessage, body: Buffer): EmulatorInvoke | string {
  // As the Lambda API checks it (src/http/invoke-payload.ts); no payload delivers `{}`.
  const check = checkInvokePayload(body);
  if (!check.ok) return check.message;
  const payload = check.payload;
  let clientContext: string | undefined;
  const encoded = firstHeader(req.headers, 'x-amz-client-context');
  if (encoded !== undefined && encoded !== '') {
    clientContext = Buffer.from(encoded, 'base64').toString('utf8');
    try {
      JSON.parse(clientContext);
    } catch {
      return 'Client context must be a valid Base64-encoded JSON object.';
    }
  }
  return { payload, clientContext, traceId: firstHeader(req.headers, 'x-amzn-trace-id') };
}

function writeOutcome(res: ServerResponse, requestId: string, outcome: InvokeOutcome): void {
  const headers: OutgoingHttpHeaders = {
    'X-Amzn-RequestId': requestId,
    'X-Amz-Executed-Version': '$LATEST',
  };
  const failed = { ...headers, 'X-Amz-Function-Error': 'Unhandled' };
  switch (outcome.kind) {
    case 'success':
      sendBody(res, 200, outcome.contentType, outcome.body, headers);
      return;
    case 'streaming': {
      res.writeHead(200, { ...headers, 'Content-Type': outcome.contentType, Trailer: 'X-Amz-Function-Error, Lambda-Runtime-Function-Error-Type' });
      outcome.body.pipe(res, { end: false });
      // Both: the runtime has finished (trailers known) and every byte has gone through the pipe.
      void Promise.all([outcome.end, finished(outcome.body).catch(() => {})]).then(([{ trailers }]) => {
        // A failure after the first byte can only be told in trailers.
        if (trailers.errorType) {
          res.addTrailers({ 'X-Amz-Function-Error': 'Unhandled', 'Lambda-Runtime-Function-Error-Type': trailers.errorType });
        }
        res.end();
      });
      return;
    }
    case 'function-error':
    case 'init-error':
      sendJson(res, 200, outcome.body, failed);
      return;
    case 'timeout':
    case 'runtime-exit':
      sendJson(res, 200, JSON.stringify(outcome.error), failed);
      return;
  }
}
