// The Lambda API as the benches speak it: raw JSON over undici, no SDK (its retries and signing are not what is
// measured).
import type { Client, Pool } from 'undici';

export const FUNCTIONS = '/2015-03-31/functions';
const PAYLOAD = '{"name":"bench"}';

/** One Lambda API call with a JSON body; throws unless it answers 2xx. */
export async function apiCall(client: Client, method: 'POST' | 'PUT', path: string, body: object): Promise<unknown> {
  const res = await client.request({ method, path, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const text = await res.body.text();
  if (res.statusCode < 200 || res.statusCode > 299) throw new Error(`${method} ${path} answered ${res.statusCode}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/**
 * Polls GetFunction until the function is Active and its last update Successful, as the SDK's functionActiveV2 and
 * functionUpdatedV2 waiters do (every 20 ms here: the benches measure what comes after, not the wait).
 */
export async function waitUntilReady(client: Client, functionName: string, timeoutMs = 120_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await client.request({ method: 'GET', path: `${FUNCTIONS}/${functionName}` });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`GetFunction ${functionName} answered ${res.statusCode}: ${text}`);
    const { State, LastUpdateStatus } = (JSON.parse(text) as { Configuration: { State?: string; LastUpdateStatus?: string } }).Configuration;
    if (State === 'Failed' || LastUpdateStatus === 'Failed') throw new Error(`${functionName} is ${State}, its last update ${LastUpdateStatus}`);
    if (State === 'Active' && LastUpdateStatus === 'Successful') return;
    if (Date.now() > until) throw new Error(`${functionName} is still ${State} (${LastUpdateStatus}) after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** One invoke; throws on anything but a 200 without a function error. Resolves the answer's body. */
export async function invoke(dispatcher: Client | Pool, functionName: string, payload = PAYLOAD): Promise<string> {
  const res = await dispatcher.request({ method: 'POST', path: `${FUNCTIONS}/${functionName}/invocations`, body: payload });
  const text = await res.body.text();
  if (res.statusCode !== 200 || res.headers['x-amz-function-error']) {
    throw new Error(`invoke of ${functionName} answered ${res.statusCode} ${String(res.headers['x-amz-function-error'] ?? '')}: ${text}`);
  }
  return text;
}
