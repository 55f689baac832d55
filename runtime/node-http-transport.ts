// The cold-path transport: Node's built-in http client with one keep-alive socket. node:http is part of Node's
// own start-up snapshot, so it costs ~2 ms to load where undici costs 10-18 ms (measured): the init phase and
// the first invoke, which every cold start waits on, use this one.
import type { Agent } from 'node:http';
import type { ApiTransport, Exchange } from './api-exchange.ts';

export class NodeHttpTransport implements ApiTransport {
  readonly #host: string;
  readonly #port: number;
  readonly #http: typeof import('node:http');
  readonly #agent: Agent;

  constructor(address: string) {
    const colon = address.lastIndexOf(':');
    this.#host = address.slice(0, colon).replace(/^\[|\]$/g, '');
    this.#port = Number(address.slice(colon + 1));
    // Through getBuiltinModule rather than an import, so the bundle does not build node:http's ES facade.
    this.#http = process.getBuiltinModule('node:http');
    this.#agent = new this.#http.Agent({ keepAlive: true, maxSockets: 1 });
  }

  exchange(method: 'GET' | 'POST', path: string, headers: Record<string, string> | null, body: string | null): Promise<Exchange> {
    return new Promise((resolve, reject) => {
      const request = this.#http.request(
        { host: this.#host, port: this.#port, method, path, headers: headers ?? undefined, agent: this.#agent },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.once('end', () =>
            resolve({ status: response.statusCode ?? 0, headers: response.headers, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) }),
          );
          response.once('error', reject);
        },
      );
      request.once('error', reject);
      request.end(body ?? undefined);
    });
  }

  async close(): Promise<void> {
    this.#agent.destroy();
  }
}
