// How long lambkin's HTTP servers wait for a client, in one place. A client that opens connections and never
// finishes its request (slowloris, a stuck proxy, a crashed script) must not hold sockets and memory forever, yet
// a synchronous invoke may legitimately wait up to 15 minutes for its answer with no byte flowing either way.
// Node separates the two: headersTimeout and requestTimeout cover only *receiving* the request, keepAliveTimeout
// only the idle time between requests; server.timeout (socket inactivity, which would cut a long invoke) stays 0.
import type { ServerOptions } from 'node:http';

/** Receiving the request line and headers: a few hundred bytes that any live client sends at once. */
export const HEADERS_TIMEOUT_MS = 15_000;

/**
 * Receiving the whole request, body included. The largest is a CreateFunction with a 50 MB zip base64-encoded
 * (about 70 MB): 10 minutes lets it through at about 1 Mbit/s, a slow uplink, while a client trickling bytes is
 * still cut off in the end. Not 0: 0 would let a trickling client hold its socket forever.
 */
export const REQUEST_TIMEOUT_MS = 600_000;

/** An idle kept-alive connection is closed after this long; Node's own default, which the SDKs' agents expect. */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;

/**
 * How often Node looks for requests past headersTimeout or requestTimeout. Its default is 30 s, so a 15 s
 * headersTimeout would fire after up to 45 s; a 1 s sweep over the open connections is cheap and makes the
 * timeouts fire within a second of their values.
 */
export const CONNECTIONS_CHECKING_INTERVAL_MS = 1_000;

/** The node:http options every lambkin server that faces callers (not the Runtime API's own) is created with. */
export const CALLER_FACING_SERVER_OPTIONS = {
  keepAlive: true,
  headersTimeout: HEADERS_TIMEOUT_MS,
  requestTimeout: REQUEST_TIMEOUT_MS,
  keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
  connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS,
} as const satisfies ServerOptions;
