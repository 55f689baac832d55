// The HTTP side of a streamed response: one chunked POST to /runtime/invocation/{id}/response in
// `streaming` mode, closed either cleanly or with the error in the trailers (reference/runtime-api.md,
// "Response streaming").
//
// Written by hand on a plain socket, as every other Runtime API call is (socket-transport.ts says why): an HTTP
// client would publish the request on the diagnostics channels the function's tracing listens to. The framing is
// small: a head with `Transfer-Encoding: chunked`, each write as `<size hex>\r\n<bytes>\r\n`, and the end as
// `0\r\n<trailers>\r\n` (undici could not send request trailers at all). It borrows the runtime's own connection,
// idle while an invoke runs, so that no new connection shows on net.client.socket either.
import type { Socket } from 'node:net';
import { headerValue, type ErrorBody } from './errors.ts';
import { Http1ResponseParser } from './http1-response-parser.ts';
import { connectTo, lendConnection } from './socket-transport.ts';

const ERROR_TYPE_TRAILER = 'Lambda-Runtime-Function-Error-Type';
const ERROR_BODY_TRAILER = 'Lambda-Runtime-Function-Error-Body';
const CRLF = '\r\n';

// When the runtime's connection could not be borrowed: the connection of the last stream, kept alive for the
// next one (streams run one at a time).
let idle: Socket | undefined;

function keepIdle(socket: Socket): void {
  socket.unref();
  const forget = () => {
    if (idle === socket) idle = undefined;
  };
  socket.on('error', forget);
  socket.on('close', forget);
  idle = socket;
}

function takeConnection(address: string): Socket {
  const socket = idle;
  idle = undefined;
  if (socket !== undefined && !socket.destroyed && socket.writable) {
    socket.removeAllListeners('error');
    socket.removeAllListeners('close');
    return socket;
  }
  return connectTo(address);
}

export class StreamedResponseRequest {
  readonly #address: string;
  readonly #path: string;
  #socket: Socket | undefined;
  /** Set when the connection is the runtime's own: hands it back. */
  #giveBack: ((reusable: boolean) => void) | undefined;
  readonly #listeners = {
    data: (chunk: Buffer) => this.#onData(chunk),
    error: (error: Error) => this.#fail(error),
    close: () => this.#fail(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })),
  };
  #drainListener: (() => void) | undefined;
  #parser: Http1ResponseParser | undefined;
  #ending = false;
  #done = false;
  readonly #answered: Promise<void>;
  #settle!: () => void;
  /** Called once if the request fails, or the API refuses it, before it was ended. */
  onBroken: ((error: Error) => void) | undefined;

  constructor(address: string, requestId: string) {
    this.#address = address;
    this.#path = `/2018-06-01/runtime/invocation/${encodeURIComponent(requestId)}/response`;
    this.#answered = new Promise((resolve) => {
      this.#settle = resolve;
    });
  }

  get started(): boolean {
    return this.#socket !== undefined;
  }

  /** Sends the request head (with the content type fixed from now on) and the prelude, if any. */
  start(contentType: string, prelude: Buffer | undefined): void {
    const lent = lendConnection(this.#address);
    const socket = lent?.socket ?? takeConnection(this.#address);
    this.#giveBack = lent?.giveBack;
    this.#socket = socket;
    this.#parser = new Http1ResponseParser();
    // While the handler streams, this socket alone must not keep Node.js alive: the runtime has to notice
    // when nothing is left that could finish the stream (see StreamingInvocation.onEventLoopEmpty).
    socket.unref();
    socket.on('data', this.#listeners.data);
    socket.on('error', this.#listeners.error);
    socket.on('close', this.#listeners.close);
    socket.write(
      `POST ${this.#path} HTTP/1.1\r\nHost: ${this.#address}\r\nContent-Type: ${contentType}\r\n` +
        'Lambda-Runtime-Function-Response-Mode: streaming\r\nTransfer-Encoding: chunked\r\n' +
        `Trailer: ${ERROR_TYPE_TRAILER}, ${ERROR_BODY_TRAILER}\r\n\r\n`,
      'latin1',
    );
    if (prelude !== undefined) this.write(prelude);
  }

  /** Writes a body chunk; false when the caller should wait for drain. */
  write(chunk: Buffer): boolean {
    const socket = this.#socket!;
    // An empty chunk would read as the end of the body.
    if (chunk.length === 0 || this.#done) return true;
    socket.cork();
    socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
    socket.write(chunk);
    const flowing = socket.write(CRLF, 'latin1');
    socket.uncork();
    return flowing;
  }

  onceDrain(listener: () => void): void {
    if (this.#done) queueMicrotask(listener);
    else {
      this.#drainListener = listener;
      this.#socket!.once('drain', listener);
    }
  }

  /**
   * Ends the body, with the error in the trailers when given. Resolves once the API has answered (or the
   * request failed); never rejects.
   */
  end(error?: ErrorBody): Promise<void> {
    const socket = this.#socket;
    if (socket === undefined || this.#ending) return this.#answered;
    this.#ending = true;
    if (this.#done) return this.#answered;
    // From here the answer is what the runtime waits for.
    socket.ref();
    let last = `0${CRLF}`;
    if (error !== undefined) {
      last += `${ERROR_TYPE_TRAILER}: ${headerValue(error.errorType)}${CRLF}`;
      last += `${ERROR_BODY_TRAILER}: ${Buffer.from(JSON.stringify(error)).toString('base64')}${CRLF}`;
    }
    socket.write(last + CRLF, 'latin1');
    return this.#answered;
  }

  #onData(chunk: Buffer): void {
    if (this.#done) return;
    let parsed: ReturnType<Http1ResponseParser['push']>;
    try {
      parsed = this.#parser!.push(chunk);
    } catch (error) {
      this.#fail(error as Error);
      return;
    }
    if (parsed === undefined) return;
    const { status, body } = parsed.exchange;
    if (status >= 200 && status < 300) {
      if (!this.#ending) {
        this.#fail(new Error('The Runtime API answered the streamed response before it ended'));
        return;
      }
      this.#done = true;
      this.#release(parsed.keepAlive);
      this.#settle();
      return;
    }
    this.#fail(new Error(`The Runtime API refused the streamed response with status ${status}: ${body.toString('utf8', 0, 1000)}`));
  }

  #fail(error: Error): void {
    if (this.#done) return;
    this.#done = true;
    process.stderr.write(`lambkin runtime: streamed response POST ${this.#path} failed: ${error.message}\n`);
    const onBroken = this.onBroken;
    this.onBroken = undefined;
    onBroken?.(error);
    this.#release(false);
    this.#settle();
  }

  /** Done with the connection: back to the runtime's transport, kept for the next stream, or closed. */
  #release(reusable: boolean): void {
    const socket = this.#socket;
    if (socket === undefined) return;
    socket.off('data', this.#listeners.data);
    socket.off('error', this.#listeners.error);
    socket.off('close', this.#listeners.close);
    if (this.#drainListener !== undefined) socket.off('drain', this.#drainListener);
    if (this.#giveBack !== undefined) this.#giveBack(reusable);
    else if (reusable) keepIdle(socket);
    else socket.destroy();
  }
}
