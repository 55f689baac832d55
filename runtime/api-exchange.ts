// One HTTP exchange with the Runtime API, buffered: what the runtime's API client needs from a transport.
// Two transports implement it: HTTP/1.1 on a plain socket for the cold path (init and the first invoke), and an undici
// Client for every invoke after that (see runtime-api-client.ts for why both).

export interface Exchange {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface ApiTransport {
  exchange(method: 'GET' | 'POST', path: string, headers: Record<string, string> | null, body: string | null): Promise<Exchange>;
  close(): Promise<void>;
}
