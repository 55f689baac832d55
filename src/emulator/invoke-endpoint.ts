// The RIE's invoke path, `POST /2015-03-31/functions/function/invocations`, answered as the Lambda API answers a
// synchronous Invoke: the runtime's body and Content-Type on success, the error JSON with X-Amz-Function-Error
// on failure, streamed bodies passed through as they arrive.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { finished } from 'node:stream/promises';
import { ALLOWED_HOSTS_ENV, BrowserGuard } from '../http/browser-guard.ts';
import { CALLER_FACING_SERVER_OPTIONS } from '../http/server-timeouts.ts';
import { readBodyUpTo } from '../runtime-api/read-body.ts';
import { listenTcp } from '../runtime-api/listen-tcp.ts';
import type { InvokeOutcome } from '../runtime-api/types.ts';
import type { Emulator, EmulatorInvoke } from './emulator.ts';

/** The Lambda API's limit on a synchronous invoke's request body. */
export const MAX_REQUEST_BYTES = 6_291_456;

const INVOKE_PATH = /^\/2015-03-31\/functions\/[^/]+\/invocations(?:\?.*)?$/;

/** A Lambda API error: the SDK reads the type from x-amzn-ErrorType and the message from `message`. */
function sendServiceError(res: ServerResponse, status: number, type: string, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'x-amzn-ErrorType': type }).end(JSON.stringify({ Type: 'User', message }));
}

export interface InvokeEndpointOptions {
  /** Host names callers may use beyond the always-safe ones (LAMBKIN_ALLOWED_HOSTS). */
  allowedHosts?: readonly string[];
}

export class InvokeEndpoint {
  private readonly http: Server;
  private readonly sockets = new Set<Socket>();
  private readonly emulator: Emulator;
  private readonly browserGuard: BrowserGuard;

  constructor(emulator: Emulator, options: InvokeEndpointOptions = {}) {
    this.emulator = emulator;
    this.browserGuard = new BrowserGuard({
      serverName: "lambkin's emulator",
      allowedHosts: options.allowedHosts ?? [],
      howToAllow: (host) => `allow it with the container's environment variable ${ALLOWED_HOSTS_ENV}=${host}`,
    });
    // Timeouts for receiving a request and for idle connections; none while an invoke runs (up to 15 minutes).
    this.http = createServer(CALLER_FACING_SERVER_OPTIONS, (req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        // The caller went away mid-request, or something broke here: never leave a request hanging.
        if (!res.headersSent) sendServiceError(res, 500, 'ServiceException', String(error));
        else res.destroy();
      });
    });
    this.http.on('connection', (socket: Socket) => {
      socket.setNoDelay(true);
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  async listen(host: string, port: number): Promise<number> {
    return (await listenTcp(this.http, port, host)).port;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
    });
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
    const body = await readBodyUpTo(req, MAX_REQUEST_BYTES);
    if (body === undefined) {
      return sendServiceError(res, 413, 'RequestTooLargeException', `Request must be smaller than ${MAX_REQUEST_BYTES} bytes for the InvokeFunction operation`);
    }
    const request = parseInvoke(req, body);
    if (typeof request === 'string') return sendServiceError(res, 400, 'InvalidRequestContentException', request);

    const { requestId, outcome } = await this.emulator.invoke(request);
    writeOutcome(res, requestId, outcome);
  }
}

/** Validates what Lambda validates before an event reaches a runtime; a string is the error message. */
function parseInvoke(req: IncomingMessage, body: Buffer): EmulatorInvoke | string {
  // An invoke with no payload delivers `{}`, as the Lambda API does.
  const payload = body.length === 0 ? Buffer.from('{}') : body;
  try {
    JSON.parse(payload.toString('utf8'));
  } catch (error) {
    return `Could not parse request body into json: ${(error as Error).message}`;
  }
  let clientContext: string | undefined;
  const encoded = req.headers['x-amz-client-context'];
  if (typeof encoded === 'string' && encoded !== '') {
    clientContext = Buffer.from(encoded, 'base64').toString('utf8');
    try {
      JSON.parse(clientContext);
    } catch {
      return 'Client context must be a valid Base64-encoded JSON object.';
    }
  }
  const trace = req.headers['x-amzn-trace-id'];
  return { payload, clientContext, traceId: typeof trace === 'string' ? trace : undefined };
}

function writeOutcome(res: ServerResponse, requestId: string, outcome: InvokeOutcome): void {
  const headers: Record<string, string> = {
    'X-Amzn-RequestId': requestId,
    'X-Amz-Executed-Version': '$LATEST',
  };
  switch (outcome.kind) {
    case 'success':
      res.writeHead(200, { ...headers, 'Content-Type': outcome.contentType }).end(outcome.body);
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
      res.writeHead(200, { ...headers, 'Content-Type': 'application/json', 'X-Amz-Function-Error': 'Unhandled' }).end(outcome.body);
      return;
    case 'timeout':
    case 'runtime-exit':
      res.writeHead(200, { ...headers, 'Content-Type': 'application/json', 'X-Amz-Function-Error': 'Unhandled' }).end(JSON.stringify(outcome.error));
      return;
  }
}
