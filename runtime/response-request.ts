// The HTTP side of a streamed response: one chunked POST to /runtime/invocation/{id}/response in
// `streaming` mode, closed either cleanly or with the error in the trailers (reference/runtime-api.md,
// "Response streaming").
//
// Why node:http and not undici here: undici writes the closing `0\r\n\r\n` of a chunked request body itself
// and has no way to add request trailers (lib/dispatcher/client-h1.js in undici 8), while a failure in the
// middle of a stream can only be reported in trailers. node:http's ClientRequest can (addTrailers). Buffered
// responses, the common case, still go through the undici client.
import type { Agent, ClientRequest, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { headerValue, type ErrorBody } from './errors.ts';

const ERROR_TYPE_TRAILER = 'Lambda-Runtime-Function-Error-Type';
const ERROR_BODY_TRAILER = 'Lambda-Runtime-Function-Error-Body';

// node:http is fetched when the first stream starts, not imported: the bundle hoists static imports to
// start-up, and an ES import of node:http also builds its ES module facade, which loads Node's internal
// fetch (≈ 10 ms measured) for functions that may never stream.
let http: typeof import('node:http') | undefined;
// Its own keep-alive agent, so that user code changing http.globalAgent cannot affect the runtime.
let agent: Agent | undefined;

export class StreamedResponseRequest {
  readonly #host: string;
  readonly #port: number;
  readonly #path: string;
  #request: ClientRequest | undefined;
  #socket: Socket | undefined;
  #ending = false;
  readonly #answered: Promise<void>;
  #settle!: () => void;
  /** Called once if the request fails, or the API refuses it, before it was ended. */
  onBroken: ((error: Error) => void) | undefined;

  constructor(address: string, requestId: string) {
    const colon = address.lastIndexOf(':');
    this.#host = address.slice(0, colon);
    this.#port = Number(address.slice(colon + 1));
    this.#path = `/2018-06-01/runtime/invocation/${encodeURIComponent(requestId)}/response`;
    this.#answered = new Promise((resolve) => {
      this.#settle = resolve;
    });
  }

  get started(): boolean {
    return this.#request !== undefined;
  }

  /** Sends the request head (with the content type fixed from now on) and the prelude, if any. */
  start(contentType: string, prelude: Buffer | undefined): void {
    http ??= process.getBuiltinModule('node:http');
    agent ??= new http.Agent({ keepAlive: true });
    const req = http.request({
      host: this.#host,
      port: this.#port,
      method: 'POST',
      path: this.#path,
      agent,
      headers: {
        'Content-Type': contentType,
        'Lambda-Runtime-Function-Response-Mode': 'streaming',
        'Transfer-Encoding': 'chunked',
        Trailer: `${ERROR_TYPE_TRAILER}, ${ERROR_BODY_TRAILER}`,
      },
    });
    this.#request = req;
    req.on('socket', (socket) => {
      this.#socket = socket;
      // While the handler streams, this socket alone must not keep Node.js alive: the runtime has to notice
      // when nothing is left that could finish the stream (see StreamingInvocation.onEventLoopEmpty).
      if (!this.#ending) socket.unref();
    });
    req.on('response', (response) => this.#onResponse(response));
    req.on('error', (error) => this.#fail(error));
    if (prelude !== undefined) req.write(prelude);
  }

  /** Writes a body chunk; false when the caller should wait for drain. */
  write(chunk: Buffer): boolean {
    return this.#request!.write(chunk);
  }

  onceDrain(listener: () => void): void {
    this.#request!.once('drain', listener);
  }

  /**
   * Ends the body, with the error in the trailers when given. Resolves once the API has answered (or the
   * request failed); never rejects.
   */
  end(error?: ErrorBody): Promise<void> {
    const req = this.#request;
    if (req === undefined || this.#ending) return this.#answered;
    this.#ending = true;
    // From here the answer is what the runtime waits for.
    this.#socket?.ref();
    if (error !== undefined) {
      req.addTrailers({
        [ERROR_TYPE_TRAILER]: headerValue(error.errorType),
        [ERROR_BODY_TRAILER]: Buffer.from(JSON.stringify(error)).toString('base64'),
      });
    }
    req.end();
    return this.#answered;
  }

  #onResponse(response: IncomingMessage): void {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => {
      const status = response.statusCode ?? 0;
      if (status >= 200 && status < 300) {
        if (!this.#ending) this.#fail(new Error('The Runtime API answered the streamed response before it ended'));
        this.#settle();
        return;
      }
      const detail = Buffer.concat(chunks).toString('utf8', 0, 1000);
      this.#fail(new Error(`The Runtime API refused the streamed response with status ${status}: ${detail}`));
    });
    response.on('error', (error) => this.#fail(error));
  }

  #fail(error: Error): void {
    process.stderr.write(`lambkin runtime: streamed response POST ${this.#path} failed: ${error.message}\n`);
    const onBroken = this.onBroken;
    this.onBroken = undefined;
    onBroken?.(error);
    this.#request?.destroy();
    this.#settle();
  }
}
