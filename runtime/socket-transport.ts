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
//
// With several invokes at once (AWS_LAMBDA_MAX_CONCURRENCY), one connection is not enough: a /next is always
// parked while answers go out. SocketTransportPool keeps several SocketTransports, reuses an idle one and opens
// another when all are busy; it opens its expected share before the handler loads (preconnect(count)), and a
// connection opened later, under more load than that, is the one a net.client.socket subscriber can see.
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

type Lent = { socket: Socket; giveBack: (reusable: boolean) => void };

// The transport of each Runtime API address (one per process in practice), for streamed responses to borrow from.
const transports = new Map<string, { lend(): Lent | undefined }>();

/** The connection to `address` for a streamed response, lent by its transport when idle (see lend()). */
export function lendConnection(address: string): Lent | undefined {
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

  /** `lender`: streamed responses may borrow this connection (false for a pool's member: the pool lends). */
  constructor(address: string, lender = true) {
    this.#address = address;
    this.#hostHeader = address;
    if (lender) transports.set(address, this);
  }

  /** An exchange is in flight or waiting, or a stream has the connection. */
  get busy(): boolean {
    return this.#pending !== undefined || this.#lent !== undefined || this.#waiting.length > 0;
  }

  /** The path of the exchange in flight, if any. */
  get pendingPath(): string | undefined {
    return this.#pending?.request.path;
  }

  /**
   * Hands the connection, when no exchange is in flight, to a streamed response, which writes its own request on
   * it and reads its answer; exchanges queue until it is given back (a stream runs inside an invoke, when the
   * connection is idle anyway). Undefined when busy: the stream then opens a connection of its own.
   */
  lend(): Lent | undefined {
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
    if (transports.get(this.#address) === this) transports.delete(this.#address);
    this.#socket?.destroy();
    this.#socket = undefined;
  }

  /** Cuts the connection with a TCP reset; an exchange in flight fails. */
  reset(): void {
    this.#socket?.resetAndDestroy();
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

/**
 * Several keep-alive connections to one address, for a runtime with several invokes in flight: each exchange (and
 * each streamed response) takes an idle connection, or a new one when all are busy, so that a parked /next never
 * holds up an answer. The connections stay open for reuse; how many there are follows the most exchanges in flight
 * at once, which the Runtime API caps (AWS_LAMBDA_MAX_CONCURRENCY invokes, plus the parked /next).
 */
export class SocketTransportPool implements ApiTransport {
  readonly #address: string;
  readonly #connections: SocketTransport[] = [];

  constructor(address: string) {
    this.#address = address;
    transports.set(address, this);
  }

  /** Opens `count` connections now, before the handler loads (see the header comment). */
  preconnect(count: number): void {
    for (let i = 0; i < count; i++) this.#add().preconnect();
  }

  exchange(method: 'GET' | 'POST', path: string, headers: Record<string, string> | null, body: string | null): Promise<Exchange> {
    return this.#idle().exchange(method, path, headers, body);
  }

  lend(): Lent | undefined {
    return this.#idle().lend();
  }

  /**
   * Resets the connections that carry an exchange to `path` now (it fails with ECONNRESET): a reset, not a FIN, so
   * that the server notices at once.
   */
  drop(path: string): void {
    for (const connection of this.#connections) if (connection.pendingPath === path) connection.reset();
  }

  async close(): Promise<void> {
    if (transports.get(this.#address) === this) transports.delete(this.#address);
    await Promise.all(this.#connections.map((connection) => connection.close()));
    this.#connections.length = 0;
  }

  #idle(): SocketTransport {
    for (const connection of this.#connections) if (!connection.busy) return connection;
    return this.#add();
  }

  #add(): SocketTransport {
    const connection = new SocketTransport(this.#address, false);
    this.#connections.push(connection);
    return connection;
  }
}
