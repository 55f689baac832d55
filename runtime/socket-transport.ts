// The runtime's one transport to the Runtime API: HTTP/1.1 written straight onto one keep-alive TCP socket
// (node:net), for the whole life of the process.
//
// Why not an HTTP client: undici and node:http publish every request on Node's diagnostics channels
// (`undici:request:create`, `http.client.request.start`, ...), which are global by name, so a function's tracing
// (OpenTelemetry, Powertools' Tracer) would see the runtime's own /next and /response calls as its traffic. AWS's
// client talks to the API through native code no channel sees; this does the same from JavaScript. It is also the
// fastest path measured (bench/runtime-loop.ts) and costs nothing to load: node:net is loaded with Node itself.
//
// The one channel node:net has, `net.client.socket`, is published when a socket connects: the connection is
// opened when the client is created, before the handler (and any subscriber it sets up) is loaded, and then kept,
// also for streamed responses, which borrow it (lend()).
import type { Socket } from 'node:net';
import type { ApiTransport, Exchange } from './api-exchange.ts';
import { Http1ResponseParser } from './http1-response-parser.ts';

interface Request {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string> | null;
  body: string | null;
  resolve: (exchange: Exchange) => void;
  reject: (error: Error) => void;
}

interface Pending {
  socket: Socket;
  parser: Http1ResponseParser;
  request: Request;
}

/** `host:port` (IPv6 hosts in brackets) → the parts node:net wants. */
export function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(address.slice(colon + 1)) };
}

/** A TCP connection to `address`, with no delay on small writes (every request is one write). */
export function connectTo(address: string): Socket {
  const { host, port } = splitAddress(address);
  const socket = process.getBuiltinModule('node:net').connect(port, host);
  socket.setNoDelay(true);
  return socket;
}

// The transport of each Runtime API address (one per process in practice), for streamed responses to borrow from.
const transports = new Map<string, SocketTransport>();

/** The connection to `address` for a streamed response, lent by its transport when idle (see lend()). */
export function lendConnection(address: string): { socket: Socket; giveBack: (reusable: boolean) => void } | undefined {
  return transports.get(address)?.lend();
}

export class SocketTransport implements ApiTransport {
  readonly #address: string;
  readonly #hostHeader: string;
  #socket: Socket | undefined;
  #pending: Pending | undefined;
  // One connection carries one exchange at a time (no pipelining): a second one, such as a crash report while
  // /next waits, queues behind it.
  readonly #waiting: Request[] = [];
  /** The connection, while a streamed response has it. */
  #lent: Socket | undefined;

  constructor(address: string) {
    this.#address = address;
    this.#hostHeader = address;
    transports.set(address, this);
  }

  /**
   * Hands the connection, when no exchange is in flight, to a streamed response, which writes its own request on
   * it and reads its answer; exchanges queue until it is given back (a stream runs inside an invoke, when the
   * connection is idle anyway). Undefined when busy: the stream then opens a connection of its own.
   */
  lend(): { socket: Socket; giveBack: (reusable: boolean) => void } | undefined {
    if (this.#pending !== undefined || this.#lent !== undefined) return undefined;
    const socket = this.#connect();
    this.#lent = socket;
    const giveBack = (reusable: boolean): void => {
      if (this.#lent !== socket) return;
      this.#lent = undefined;
      if (!reusable) socket.destroy();
      const next = this.#waiting.shift();
      if (next) this.#send(next);
      else socket.unref();
    };
    return { socket, giveBack };
  }

  /** Opens the connection now (a failure here is silent: the first exchange connects again and reports it). */
  preconnect(): void {
    this.#connect().unref();
  }

  exchange(method: 'GET' | 'POST', path: string, headers: Record<string, string> | null, body: string | null): Promise<Exchange> {
    return new Promise((resolve, reject) => {
      const request: Request = { method, path, headers, body, resolve, reject };
      if (this.#pending === undefined && this.#lent === undefined) this.#send(request);
      else this.#waiting.push(request);
    });
  }

  #send(request: Request): void {
    const socket = this.#connect();
    // Held open only while an answer is awaited: between exchanges the idle connection must not keep the
    // event loop alive (callback handlers wait for it to empty, as Node's own http agent allows).
    socket.ref();
    this.#pending = { socket, parser: new Http1ResponseParser(), request };
    const { method, path, headers, body } = request;
    let head = `${method} ${path} HTTP/1.1\r\nHost: ${this.#hostHeader}\r\n`;
    if (headers) for (const name of Object.keys(headers)) head += `${name}: ${headers[name]}\r\n`;
    if (body !== null) head += `Content-Length: ${Buffer.byteLength(body, 'utf8')}\r\n\r\n${body}`;
    else head += method === 'POST' ? 'Content-Length: 0\r\n\r\n' : '\r\n';
    // One write, one segment: header values are ASCII, and the body is UTF-8 as its length says.
    socket.write(head, 'utf8');
  }

  async close(): Promise<void> {
    transports.delete(this.#address);
    this.#socket?.destroy();
    this.#socket = undefined;
  }

  #connect(): Socket {
    if (this.#socket && !this.#socket.destroyed) return this.#socket;
    const socket = connectTo(this.#address);
    socket.on('data', (chunk: Buffer) => this.#onData(socket, chunk));
    socket.on('error', (error: Error) => this.#settle(socket, undefined, error));
    socket.on('close', () => {
      if (this.#socket === socket) this.#socket = undefined;
      // A body that runs to the end of the connection is complete now; any other exchange was cut short.
      const pending = this.#pending;
      const ended = pending?.socket === socket ? pending.parser.end() : undefined;
      if (ended) this.#settle(socket, ended.exchange);
      else this.#settle(socket, undefined, Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    });
    this.#socket = socket;
    return socket;
  }

  #onData(socket: Socket, chunk: Buffer): void {
    const pending = this.#pending;
    // While lent, the bytes are the borrower's to read.
    if (pending?.socket !== socket) return;
    try {
      const parsed = pending.parser.push(chunk);
      if (!parsed) return;
      if (!parsed.keepAlive) socket.destroy();
      this.#settle(socket, parsed.exchange);
    } catch (error) {
      socket.destroy();
      this.#settle(socket, undefined, error as Error);
    }
  }

  /** Ends the exchange in flight on `socket` (if any), then sends the next one waiting. */
  #settle(socket: Socket, exchange: Exchange | undefined, error?: Error): void {
    const pending = this.#pending;
    if (pending?.socket !== socket) return;
    this.#pending = undefined;
    const next = this.#waiting.shift();
    if (next) this.#send(next);
    else socket.unref();
    if (exchange) pending.request.resolve(exchange);
    else pending.request.reject(error!);
  }
}
