// The warm-loop transport: one keep-alive undici Client. Requests go through `dispatch` with a small buffering
// handler instead of `request()`, so no stream object is built per call: the hot path is two exchanges per event.
// Loaded (as its own chunk) only once the first invoke has been answered; see runtime-api-client.ts.
import type { Client as UndiciClient, Dispatcher } from 'undici';
import Client from 'undici/lib/dispatcher/client.js';
import type { ApiTransport, Exchange } from './api-exchange.ts';

/** Collects one response in memory; the Runtime API's answers are small except `/next` bodies (≤ 6 MB). */
class BufferingHandler implements Dispatcher.DispatchHandler {
  status = 0;
  headers: Record<string, string | string[] | undefined> = {};
  chunks: Buffer[] = [];
  resolve: (exchange: Exchange) => void;
  reject: (error: Error) => void;

  constructor(resolve: (exchange: Exchange) => void, reject: (error: Error) => void) {
    this.resolve = resolve;
    this.reject = reject;
  }

  onRequestStart(): void {
    // A retried request starts over.
    this.chunks.length = 0;
  }

  onResponseStart(_controller: Dispatcher.DispatchController, status: number, headers: Exchange['headers']): void {
    this.status = status;
    this.headers = headers;
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    const { chunks } = this;
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    this.resolve({ status: this.status, headers: this.headers, body });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.reject(error);
  }
}

export class UndiciTransport implements ApiTransport {
  readonly #client: UndiciClient;

  constructor(address: string) {
    this.#client = new Client(`http://${address}`, {
      // `/next` long-polls until an event arrives, which may take any time.
      headersTimeout: 0,
      bodyTimeout: 0,
      allowH2: false,
      connectTimeout: 2_000,
    });
  }

  exchange(method: 'GET' | 'POST', path: string, headers: Record<string, string> | null, body: string | null): Promise<Exchange> {
    return new Promise((resolve, reject) => {
      this.#client.dispatch({ method, path, headers, body }, new BufferingHandler(resolve, reject));
    });
  }

  close(): Promise<void> {
    return this.#client.close();
  }
}
