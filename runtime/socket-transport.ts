// The cold-path transport: HTTP/1.1 written straight onto one keep-alive TCP socket (node:net). The init phase
// and the first invoke, which every cold start waits for, use it: node:net is loaded with Node itself, where
// node:http costs ~2 ms more to load and undici 10-18 ms (measured). The warm loop moves to undici.
import type { Socket } from 'node:net';
import type { ApiTransport, Exchange } from './api-exchange.ts';
import { Http1ResponseParser } from './http1-response-parser.ts';

interface Pending {
  parser: Http1ResponseParser;
  resolve: (exchange: Exchange) => void;
  reject: (error: Error) => void;
}

export class SocketTransport implements ApiTransport {
  readonly #host: string;
  readonly #port: number;
  readonly #hostHeader: string;
  #socket: Socket | undefined;
  #pending: Pending | undefined;

  constructor(address: string) {
    const colon = address.lastIndexOf(':');
    this.#host = address.slice(0, colon).replace(/^\[|\]$/g, '');
    this.#port = Number(address.slice(colon + 1));
    this.#hostHeader = address;
  }

  // One connection carries one exchange at a time (as undici's Client does without pipelining): a second one,
  // such as a crash report while /next waits, queues behind it.
  #queue: Promise<unknown> = Promise.resolve();

  exchange(method: 'GET' | 'POST', path: string, headers: Record<string, string> | null, body: string | null): Promise<Exchange> {
    const turn = this.#queue.then(() => this.#send(method, path, headers, body));
    this.#queue = turn.catch(() => {});
    return turn;
  }

  #send(method: 'GET' | 'POST', path: string, headers: Record<string, string> | null, body: string | null): Promise<Exchange> {
    return new Promise((resolve, reject) => {
      const socket = this.#connect();
      // Held open only while an answer is awaited: between exchanges the idle connection must not keep the
      // event loop alive (callback handlers wait for it to empty, as Node's own http agent allows).
      socket.ref();
      this.#pending = { parser: new Http1ResponseParser(), resolve, reject };
      let head = `${method} ${path} HTTP/1.1\r\nHost: ${this.#hostHeader}\r\n`;
      if (headers) for (const name of Object.keys(headers)) head += `${name}: ${headers[name]}\r\n`;
      const payload = body === null ? undefined : Buffer.from(body, 'utf8');
      if (payload || method === 'POST') head += `Content-Length: ${payload?.length ?? 0}\r\n`;
      head += '\r\n';
      socket.write(payload ? Buffer.concat([Buffer.from(head, 'latin1'), payload]) : head);
    });
  }

  async close(): Promise<void> {
    this.#socket?.destroy();
    this.#socket = undefined;
  }

  #connect(): Socket {
    if (this.#socket && !this.#socket.destroyed) return this.#socket;
    const net = process.getBuiltinModule('node:net');
    const socket = net.connect(this.#port, this.#host);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(socket, chunk));
    socket.on('error', (error: Error) => this.#settle(undefined, error));
    socket.on('close', () => {
      if (this.#socket === socket) this.#socket = undefined;
      // A body that runs to the end of the connection is complete now; any other exchange was cut short.
      const ended = this.#pending?.parser.end();
      if (ended) this.#settle(ended.exchange);
      else this.#settle(undefined, Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    });
    this.#socket = socket;
    return socket;
  }

  #onData(socket: Socket, chunk: Buffer): void {
    const pending = this.#pending;
    if (!pending) return;
    try {
      const parsed = pending.parser.push(chunk);
      if (!parsed) return;
      if (!parsed.keepAlive) socket.destroy();
      this.#settle(parsed.exchange);
    } catch (error) {
      socket.destroy();
      this.#settle(undefined, error as Error);
    }
  }

  #settle(exchange: Exchange | undefined, error?: Error): void {
    const pending = this.#pending;
    if (!pending) return;
    this.#pending = undefined;
    this.#socket?.unref();
    if (exchange) pending.resolve(exchange);
    else pending.reject(error!);
  }
}
