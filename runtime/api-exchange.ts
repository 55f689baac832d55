// One HTTP exchange with the Runtime API, buffered: what the runtime's API client needs from a transport.
// socket-transport.ts implements it (HTTP/1.1 on a plain socket; see there for why not an HTTP client).

export interface Exchange {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface ApiTransport {
  exchange(method: 'GET' | 'POST', path: string, headers: Record<string, string> | null, body: string | null): Promise<Exchange>;
  close(): Promise<void>;
}
