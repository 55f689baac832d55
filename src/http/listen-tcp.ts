// Starts an http.Server on a TCP address and resolves where it really listens (port 0 picks a free port), for
// every server lambkin runs: the Runtime API, the emulator's invoke path and the Lambda API.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export function listenTcp(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      if (!address || typeof address === 'string') return reject(new Error(`the server on ${host}:${port} has no TCP address`));
      resolve(address);
    });
  });
}

/** `host:port` as a URL or AWS_LAMBDA_RUNTIME_API writes it: an IPv6 address (it has colons) in brackets. */
export function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
