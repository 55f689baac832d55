// A POST to the RIE-compatible invoke path (`/2015-03-31/functions/function/invocations`), as a user's curl sends
// it: to the emulator run as a process, or to a container's published port 8080. Shared by the emulator and
// packaging tests. Resolves with the status, headers and body (json() parses it) and how long it took.
import { request } from 'undici';

export async function invokeRie(invokeUrl: string, body: string | Buffer = '{}', headers: Record<string, string> = {}) {
  const started = performance.now();
  const res = await request(invokeUrl, { method: 'POST', body, headers });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text), ms: performance.now() - started };
}
