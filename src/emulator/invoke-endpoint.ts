// The RIE's invoke path, `POST /2015-03-31/functions/function/invocations`, answered as the Lambda API answers a
// synchronous Invoke: the runtime's body and Content-Type on success, the error JSON with X-Amz-Function-Error
// on failure, streamed bodies passed through as they arrive.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ALLOWED_HOSTS_ENV, BrowserGuard } from '../http/browser-guard.ts';
import { answerOrCut } from '../http/headers.ts';
import { INVOKE_TOO_LARGE_MESSAGE, MAX_INVOKE_REQUEST_BYTES } from '../http/invoke-payload.ts';
import { readBodyUpTo } from '../http/read-body.ts';
import { CALLER_FACING_SERVER_OPTIONS } from '../http/server-timeouts.ts';
import { TrackedServer } from '../http/tracked-server.ts';
import { parseInvokeRequest } from '../invocation/invoke-request.ts';
import { dryRunResponse, invokeResponse, writeInvokeResponse } from '../invocation/invoke-response.ts';
import { accessDenied, LambdaError, resourceNotFound, sendLambdaError, serviceError } from '../invocation/lambda-error.ts';
import type { Emulator } from './emulator.ts';

const INVOKE_PATH = /^\/2015-03-31\/functions\/[^/]+\/invocations(?:\?.*)?$/;
/** The emulator runs the one version its image holds. */
const EXECUTED_VERSION = '$LATEST';

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
        answerOrCut(res, () => sendLambdaError(res, serviceError(String(error))));
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
      return sendLambdaError(res, accessDenied(refusal.message));
    }
    if (!INVOKE_PATH.test(req.url ?? '')) {
      req.resume();
      return sendLambdaError(res, resourceNotFound(`No route for ${req.method} ${req.url}`));
    }
    if (req.method !== 'POST') {
      req.resume();
      return sendLambdaError(res, new LambdaError(405, 'MethodNotAllowedException', `Use POST on ${req.url}`));
    }
    const body = await readBodyUpTo(req, MAX_INVOKE_REQUEST_BYTES);
    if (body === undefined) return sendLambdaError(res, new LambdaError(413, 'RequestEntityTooLargeException', INVOKE_TOO_LARGE_MESSAGE));
    let request;
    try {
      // As `lambkin serve` reads an Invoke (src/invocation/invoke-request.ts).
      request = parseInvokeRequest(req.headers, body);
    } catch (error) {
      if (error instanceof LambdaError) return sendLambdaError(res, error);
      throw error;
    }
    if (request.invocationType === 'DryRun') return writeInvokeResponse(res, dryRunResponse(EXECUTED_VERSION));
    // An Event invoke runs as a RequestResponse one, as the RIE runs it: the emulator has no queue to put it on.
    const { requestId, outcome, logTail } = await this.emulator.invoke(request);
    const response = invokeResponse(outcome, { executedVersion: EXECUTED_VERSION, logTail: request.logTail ? logTail : undefined });
    // One id: the caller's X-Amzn-RequestId is the function's context.awsRequestId and its START line's.
    writeInvokeResponse(res, response, { 'X-Amzn-RequestId': requestId });
  }
}
