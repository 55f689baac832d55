// A TCP connection that speaks HTTP/1.1 by hand, for what no HTTP client will do on purpose: send half a request
// and stall (a slowloris), finish a request much later, or watch when the server closes the connection.
import { connect, type Socket } from 'node:net';

export interface RawConnection {
  socket: Socket;
  /** Everything the server sent so far. */
  received(): string;
  /** Resolves (with the time since connecting, in ms) when the server closes the connection or it fails. */
  closed: Promise<number>;
  /** Whether the connection has ended. */
  isClosed(): boolean;
  write(text: string): void;
  /** Resolves once `text` has arrived (or rejects when the connection closes first / after `timeoutMs`). */
  waitFor(text: string, timeoutMs?: number): Promise<string>;
}

const open = new Set<Socket>();

/** Destroys every raw connection still open: call from afterEach. */
export function destroyRawConnections(): void {
  for (const socket of open) socket.destroy();
  open.clear();
}

export async function rawConnection(url: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port) });
  open.add(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const started = performance.now();
  let text = '';
  let ended = false;
  const listeners = new Set<() => void>();
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
    for (const listener of listeners) listener();
  });
  socket.on('error', () => {}); // a reset by the server is one way of closing
  const closed = new Promise<number>((resolve) =>
    socket.once('close', () => {
      ended = true;
      open.delete(socket);
      for (const listener of listeners) listener();
      resolve(performance.now() - started);
    }),
  );
  return {
    socket,
    received: () => text,
    closed,
    isClosed: () => ended,
    write: (chunk) => void socket.write(chunk),
    waitFor: (expected, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (text.includes(expected)) {
            done();
            resolve(text);
          } else if (ended) {
            done();
            reject(new Error(`connection closed before ${JSON.stringify(expected)} arrived; got ${JSON.stringify(text)}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${JSON.stringify(expected)} did not arrive in ${timeoutMs} ms; got ${JSON.stringify(text)}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      }),
  };
}
