// An http.Server that knows its open sockets, so that it can cut them. node:http's close() stops listening but
// then waits for every connection to end, and a runtime's long poll or a caller's 15-minute invoke would hold it
// for minutes. Every lambkin server is one: the Runtime API, the emulator's invoke path and the Lambda API.
import { createServer, type RequestListener, type Server, type ServerOptions } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { listenTcp } from './listen-tcp.ts';

export interface ConnectionPolicy {
  /** Whether to serve a new connection at all; one refused is destroyed before a byte of it is read. */
  accept?: (socket: Socket) => boolean;
  /** Disables Nagle's algorithm on each connection: small answers and events go out at once. */
  noDelay?: boolean;
}

export class TrackedServer {
  private readonly http: Server;
  private readonly sockets = new Set<Socket>();

  constructor(options: ServerOptions, onRequest: RequestListener, policy: ConnectionPolicy = {}) {
    this.http = createServer(options, onRequest);
    this.http.on('connection', (socket: Socket) => {
      if (policy.accept && !policy.accept(socket)) return void socket.destroy();
      if (policy.noDelay) socket.setNoDelay(true);
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  /** Starts listening on `host:port` (port 0: any free one); resolves the address it really listens on. */
  listen(port: number, host: string): Promise<AddressInfo> {
    return listenTcp(this.http, port, host);
  }

  /** Stops listening and closes the idle kept-alive connections; resolves once the last connection has ended. */
  stopListening(): Promise<void> {
    return new Promise((resolve) => this.http.close(() => resolve()));
  }

  /** Cuts every open connection but those in `spare`. */
  destroySockets(spare?: ReadonlySet<Socket>): void {
    for (const socket of this.sockets) if (!spare?.has(socket)) socket.destroy();
  }

  /** A quick close: stops listening and cuts every connection at once, whatever it was doing. */
  close(): Promise<void> {
    const closed = this.stopListening();
    this.destroySockets();
    return closed;
  }
}
