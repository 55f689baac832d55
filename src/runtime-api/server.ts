// The Runtime API server (version 2018-06-01) for one execution environment: the HTTP face of an
// InvokeStateMachine. The runtime inside the environment long-polls `/next`, then answers on `/response` or
// `/error`; the environment's owner hands events in through invoke() and gets typed outcomes back. One invoke at a
// time by default; with `maxConcurrency` N (Lambda Managed Instances) up to N at once, each answered by its id.
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerOptions, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import {
  MAX_RESPONSE_BYTES,
  invalidResponseMode,
  invalidStateTransition,
  methodNotAllowed,
  notFound,
  parseRuntimeErrorBody,
  requestEntityTooLarge,
  responseSizeTooLarge,
} from './errors.ts';
import { InvokeStateMachine, type DispatchedEvent, type InFlightInvoke, type Refusal } from './invoke-state-machine.ts';
import { matchRoute } from './routes.ts';
import { firstHeader, sendJson, sendText } from '../http/headers.ts';
import { hostPort } from '../http/listen-tcp.ts';
import { readBody } from '../http/read-body.ts';
import { CONNECTIONS_CHECKING_INTERVAL_MS, HEADERS_TIMEOUT_MS } from '../http/server-timeouts.ts';
import { TrackedServer } from '../http/tracked-server.ts';
import type { ErrorBody, InitOutcome, InvokeOutcome, InvokeRequest, RuntimeApiServerOptions, StreamTrailers } from './types.ts';

const ERROR_TYPE_HEADER = 'lambda-runtime-function-error-type';
const ERROR_BODY_TRAILER = 'lambda-runtime-function-error-body';
const XRAY_CAUSE_HEADER = 'lambda-runtime-function-xray-error-cause';
const RESPONSE_MODE_HEADER = 'lambda-runtime-function-response-mode';
const ACCEPTED = JSON.stringify({ status: 'OK' });
/**
 * An idle kept-alive runtime socket is closed after a minute: long enough that a runtime's loop (answer, then
 * /next at once) never meets it, short enough that stray sockets do not pile up.
 */
const RUNTIME_KEEP_ALIVE_TIMEOUT_MS = 60_000;

/**
 * Events: 'timeout' (request id): an invoke ran past its deadline with one invoke at a time; the owner must kill
 * the runtime. 'invoke-timeout' (request id): the same with several at a time; only that invoke failed, nothing is
 * to be killed. 'refused' (peer address): a connection from a peer other than allowedPeer was cut.
 */
export class RuntimeApiServer extends EventEmitter {
  private readonly machine: InvokeStateMachine;
  private readonly http: TrackedServer;
  private readonly host: string;
  private readonly port: number;
  private readonly maxResponseBytes: number;
  private allowedPeer: string | undefined;
  private boundAddress: string | undefined;

  constructor(options: RuntimeApiServerOptions = {}) {
    super();
    this.machine = new InvokeStateMachine(options.maxConcurrency);
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? 0;
    this.maxResponseBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
    this.allowedPeer = options.allowedPeer;
    this.http = new TrackedServer(RUNTIME_API_SERVER_OPTIONS, (req, res) => this.handle(req, res), {
      accept: (socket) => this.accepts(socket),
      noDelay: true,
    });
    // 'timeout': the runtime must be killed (one invoke at a time). 'invoke-timeout': one of several concurrent
    // invokes timed out alone; the environment goes on serving the others (see InvokeStateMachine.timedOut).
    this.machine.on('timeout', (requestId: string) => this.emit('timeout', requestId));
    this.machine.on('invoke-timeout', (requestId: string) => this.emit('invoke-timeout', requestId));
  }

  /** Starts listening; resolves the `host:port` to give the runtime as AWS_LAMBDA_RUNTIME_API. */
  async listen(): Promise<string> {
    const address = await this.http.listen(this.port, this.host);
    this.boundAddress = hostPort(address.address, address.port);
    return this.boundAddress;
  }

  /** The `host:port` the server listens on (after listen()). */
  get address(): string {
    if (!this.boundAddress) throw new Error('RuntimeApiServer.listen() has not completed');
    return this.boundAddress;
  }

  /** Serve only this peer address from now on (the container's, once it is known or has changed). */
  allowOnly(address: string): void {
    this.allowedPeer = address;
  }

  /**
   * Whether a new connection is this environment's. One from another container, another function or another host
   * is cut before a byte of it is read, so no event can be taken and no answer forged.
   */
  private accepts(socket: Socket): boolean {
    if (this.allowedPeer === undefined || peerAddress(socket) === this.allowedPeer) return true;
    this.emit('refused', peerAddress(socket));
    return false;
  }

  /** Delivers an event and resolves with how the invoke ended. Invokes queue while the runtime is busy (isBusy). */
  invoke(request: InvokeRequest): Promise<InvokeOutcome> {
    return this.machine.invoke(request);
  }

  /** Resolves when the current init phase ends: the runtime's first `/next`, its `/init/error`, or its exit. */
  waitForInit(): Promise<InitOutcome> {
    return this.machine.waitForInit();
  }

  /** Tell the server the runtime process is gone (`exit status 1`, `signal: killed`). */
  runtimeExited(reason: string): void {
    this.machine.runtimeExited(reason);
  }

  /** The init ran too long: fail whoever waits on it with `error`, then kill the runtime. */
  abandonInit(error: ErrorBody): void {
    this.machine.abandonInit(error);
  }

  /**
   * A new runtime process is starting: begin a fresh init phase. Connections of the previous runtime are cut, so
   * a `/next` it sent before it died cannot pass for the new runtime's first.
   */
  reset(): void {
    this.http.destroySockets();
    this.machine.reset();
  }

  /** The runtime process has just started (e.g. its container): Init Duration counts from now. */
  markInitStart(): void {
    this.machine.markInitStart();
  }

  /**
   * True after a runtime exit or init failure, until reset(); also after a timeout when one invoke runs at a time
   * (with several, a timeout fails only its own invoke).
   */
  get needsReset(): boolean {
    return this.machine.isDead;
  }

  /** True while the runtime has maxConcurrency invokes in flight: another would wait for one of them to end. */
  get isBusy(): boolean {
    return this.machine.isBusy;
  }

  /** How many invokes the runtime has taken and not yet finished (0 … maxConcurrency). */
  get inFlightCount(): number {
    return this.machine.inFlightCount;
  }

  /** Fails whatever still waits, closes the listener and every connection. */
  async close(): Promise<void> {
    this.machine.shutdown('Runtime API server closed');
    await this.http.close();
  }

  // --- HTTP ----------------------------------------------------------------------------------------------------

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const route = matchRoute(req.method ?? 'GET', req.url ?? '/');
    switch (route.name) {
      case 'next':
        return this.handleNext(req, res);
      case 'response':
        return void this.handleResponse(req, res, route.requestId);
      case 'invoke-error':
        return void this.handleInvokeError(req, res, route.requestId);
      case 'init-error':
        return void this.handleInitError(req, res);
      case 'ping':
        return sendText(res, 200, 'pong');
      case 'method-not-allowed':
        return this.reject(req, res, { status: 405, body: methodNotAllowed(req.method ?? '', req.url ?? '') });
      case 'not-found':
        return this.reject(req, res, { status: 404, body: notFound(req.url ?? '') });
    }
  }

  private handleNext(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    const waiter = (event: DispatchedEvent) => {
      // With a length, as Lambda's Runtime API answers: writeHead() alone would make Node send the event chunked,
      // which a minimal hand-written runtime client (a shell bootstrap's read of the body) may not expect.
      res.writeHead(200, { ...event.headers, 'Content-Length': Buffer.byteLength(event.payload) }).end(event.payload);
    };
    const refusal = this.machine.next(waiter);
    if (refusal) return this.reject(req, res, refusal);
    // A runtime that drops its long poll (and retries) must not have the next event sent into the void.
    res.once('close', () => {
      if (!res.writableFinished) this.machine.cancelNext(waiter);
    });
  }

  private async handleResponse(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const mode = req.headers[RESPONSE_MODE_HEADER];
    if (mode !== undefined && mode !== 'streaming' && mode !== 'buffered') {
      return this.reject(req, res, { status: 400, body: invalidResponseMode(String(mode)) });
    }
    const invoke = this.machine.beginAnswer(requestId);
    if ('status' in invoke) return this.reject(req, res, invoke);
    if (mode === 'streaming') return this.streamResponse(req, res, invoke);

    const read = await readBody(req, this.maxResponseBytes);
    if (!read.ok) {
      if ('aborted' in read) return this.machine.abandonAnswer(invoke);
      return this.answerTooLarge(res, invoke);
    }
    this.machine.finish(invoke, {
      kind: 'success',
      requestId,
      body: read.body,
      contentType: req.headers['content-type'] ?? 'application/json',
      durationMs: performance.now() - invoke.startedAt,
    });
    sendJson(res, 202, ACCEPTED);
  }

  private streamResponse(req: IncomingMessage, res: ServerResponse, invoke: InFlightInvoke): void {
    const body = new PassThrough();
    let ended = false;
    let cutShort = false;
    const complete = this.machine.startStream(invoke, body, req.headers['content-type'] ?? 'application/octet-stream', (trailers) => {
      // Cut short by a timeout or the runtime's exit: the caller's stream ends with the reason. The rest of the
      // runtime's stream is drained and refused at its end, so a runtime that lives on (several invokes at a time)
      // gets its connection back instead of a stalled upload.
      if (ended) return;
      ended = true;
      cutShort = true;
      req.unpipe(body);
      req.resume();
      body.end();
      complete(trailers);
    });
    req.pipe(body, { end: false });
    // A caller that stops reading must not stall the runtime: drain the rest so the invoke still completes.
    body.once('close', () => {
      if (ended) return;
      req.unpipe(body);
      req.resume();
    });
    req.once('end', () => {
      if (cutShort) {
        this.send(res, 403, invalidStateTransition(`invoke ${invoke.requestId} has already been answered`));
        return;
      }
      if (ended) return;
      ended = true;
      body.end();
      complete(readTrailers(req));
      sendJson(res, 202, ACCEPTED);
    });
    req.once('aborted', () => {
      if (ended) return;
      ended = true;
      body.end();
      complete({
        errorType: 'Runtime.TruncatedResponse',
        errorBody: { errorType: 'Runtime.TruncatedResponse', errorMessage: 'The runtime closed the response stream before ending it.' },
      });
    });
  }

  private async handleInvokeError(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const invoke = this.machine.beginAnswer(requestId);
    if ('status' in invoke) return this.reject(req, res, invoke);
    const read = await readBody(req, this.maxResponseBytes);
    if (!read.ok) {
      if ('aborted' in read) return this.machine.abandonAnswer(invoke);
      return this.answerTooLarge(res, invoke);
    }
    const headerType = firstHeader(req.headers, ERROR_TYPE_HEADER);
    const error = parseRuntimeErrorBody(read.body, headerType);
    const xrayErrorCause = firstHeader(req.headers, XRAY_CAUSE_HEADER);
    this.machine.finish(invoke, {
      kind: 'function-error',
      requestId,
      error,
      body: bodyForCaller(read.body, error),
      durationMs: performance.now() - invoke.startedAt,
      ...(xrayErrorCause ? { xrayErrorCause } : {}),
    });
    sendJson(res, 202, ACCEPTED);
  }

  private async handleInitError(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const read = await readBody(req, this.maxResponseBytes);
    if (!read.ok) {
      if ('aborted' in read) return;
      return this.send(res, 413, requestEntityTooLarge(this.maxResponseBytes));
    }
    const error = parseRuntimeErrorBody(read.body, firstHeader(req.headers, ERROR_TYPE_HEADER));
    const refusal = this.machine.initError(error, bodyForCaller(read.body, error));
    if (refusal) return this.send(res, refusal.status, refusal.body);
    sendJson(res, 202, ACCEPTED);
  }

  /** A function's answer past the response limit: its invoke fails with Function.ResponseSizeTooLarge, the runtime hears 413. */
  private answerTooLarge(res: ServerResponse, invoke: InFlightInvoke): void {
    const error = responseSizeTooLarge(this.maxResponseBytes);
    this.machine.finish(invoke, {
      kind: 'function-error',
      requestId: invoke.requestId,
      error,
      body: Buffer.from(JSON.stringify(error)),
      durationMs: performance.now() - invoke.startedAt,
    });
    this.send(res, 413, requestEntityTooLarge(this.maxResponseBytes));
  }

  /** Answers an error; the request body is drained so the keep-alive connection stays usable. */
  private reject(req: IncomingMessage, res: ServerResponse, refusal: Refusal): void {
    req.resume();
    this.send(res, refusal.status, refusal.body);
  }

  private send(res: ServerResponse, status: number, body: ErrorBody): void {
    sendJson(res, status, JSON.stringify(body));
  }
}

/**
 * The runtime's connections carry a long poll (/next) and, when streaming, a response body that lasts as long as
 * the invoke: neither the request nor the socket may time out here (the invoke's own deadline ends both). What
 * is bounded: a peer that opens a request and never finishes its headers, and an idle kept-alive socket, which a
 * runtime re-opens when it needs one (clients learn the limit from the Keep-Alive header).
 */
const RUNTIME_API_SERVER_OPTIONS = {
  keepAlive: true,
  requestTimeout: 0,
  headersTimeout: HEADERS_TIMEOUT_MS,
  keepAliveTimeout: RUNTIME_KEEP_ALIVE_TIMEOUT_MS,
  connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS,
} as const satisfies ServerOptions;

/** The peer's IPv4 address as written elsewhere (an IPv4-mapped IPv6 address loses its prefix). */
function peerAddress(socket: Socket): string | undefined {
  const address = socket.remoteAddress;
  return address?.startsWith('::ffff:') ? address.slice(7) : address;
}

/** The caller gets the runtime's body as posted when it is JSON, else a JSON error made from it. */
function bodyForCaller(raw: Buffer, error: ErrorBody): Buffer {
  try {
    JSON.parse(raw.toString('utf8'));
    return raw;
  } catch {
    return Buffer.from(JSON.stringify(error));
  }
}

/** Trailers of a streamed response: the error type and its base64 JSON body, when the stream failed. */
function readTrailers(req: IncomingMessage): StreamTrailers {
  const errorType = req.trailers[ERROR_TYPE_HEADER];
  const encoded = req.trailers[ERROR_BODY_TRAILER];
  if (!errorType && !encoded) return {};
  const trailers: StreamTrailers = {};
  if (errorType) trailers.errorType = errorType;
  if (encoded) {
    const decoded = Buffer.from(encoded, 'base64');
    trailers.errorBody = parseRuntimeErrorBody(decoded, errorType);
  }
  return trailers;
}
