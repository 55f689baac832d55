// A real browser on a function URL: Debian's headless Chromium, driven over the DevTools protocol (Node's own
// WebSocket), opens a page that a RESPONSE_STREAM function serves; the page's script reads the server-sent events the
// same function streams and writes each into the DOM with its arrival time. The test reads the DOM: the events must
// have arrived one by one, each before the function wrote the next (so before it finished). A failure keeps a
// screenshot under test-artifacts/.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeZip } from '../tools/zip.ts';
import { createNodeFunction } from './support/lambda-fixtures.ts';
import { makeDataDir, removeDataDir, startLocalService, type LocalService } from './support/local-service.ts';
import { ProcessInvoker } from './support/process-invoker.ts';

const CHROMIUM = '/usr/bin/chromium';
const EVENTS = 4;
const GAP_MS = 1000;

const PAGE = `<!doctype html>
<html><head><title>streaming</title></head><body>
<ol id="events"></ol>
<script>
  const list = document.getElementById('events');
  const source = new EventSource('/events');
  source.onmessage = (message) => {
    const item = document.createElement('li');
    item.dataset.sentAt = JSON.parse(message.data).sentAt;
    item.dataset.arrivedAt = Date.now();
    item.textContent = message.data;
    list.appendChild(item);
  };
  source.addEventListener('done', () => {
    source.close();
    document.body.dataset.done = 'yes';
  });
  source.onerror = () => { if (!document.body.dataset.done) document.body.dataset.error = 'yes'; };
</script>
</body></html>`;

const HANDLER = `
const PAGE = ${JSON.stringify(PAGE)};
export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  if (event.rawPath !== '/events') {
    const page = awslambda.HttpResponseStream.from(responseStream, { statusCode: 200, headers: { 'content-type': 'text/html; charset=utf-8' } });
    page.end(PAGE);
    return;
  }
  const stream = awslambda.HttpResponseStream.from(responseStream, {
    statusCode: 200,
    headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
  });
  for (let i = 1; i <= ${EVENTS}; i++) {
    if (i > 1) await new Promise((resolve) => setTimeout(resolve, ${GAP_MS}));
    stream.write('data: ' + JSON.stringify({ n: i, sentAt: Date.now() }) + '\\n\\n');
  }
  stream.write('event: done\\ndata: {}\\n\\n');
  stream.end();
});
`;

const URL_ID = `${'s'.repeat(31)}1`;

let dataDir: string;
let service: LocalService | undefined;
let invoker: ProcessInvoker;

beforeAll(async () => {
  dataDir = await makeDataDir('lambkin-urls-browser-');
  invoker = new ProcessInvoker();
  service = await startLocalService({ dataDir, invoker });
  await createNodeFunction(service.lambda, 'sse', makeZip([{ name: 'index.mjs', content: HANDLER }]), { Timeout: 30 });
  const urls = service.store.functionUrls;
  const now = new Date().toISOString();
  await urls.create({ urlId: URL_ID, functionName: 'sse', authType: 'NONE', invokeMode: 'RESPONSE_STREAM', creationTime: now, lastModifiedTime: now });
});

afterAll(async () => {
  await service?.stop();
  await invoker?.close();
  if (dataDir) await removeDataDir(dataDir);
});

it('Chromium reads server-sent events from a RESPONSE_STREAM function URL one by one, before the function finishes', async () => {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing; .ci/run installs Debian's chromium`);
    console.warn(`skipped: no ${CHROMIUM} (apt-get install -y chromium)`);
    return;
  }
  const port = new URL(service!.endpoint).port;
  // Names under localhost reach loopback in Chromium without any DNS.
  const pageUrl = `http://${URL_ID}.lambda-url.us-east-1.localhost:${port}/`;
  const browser = await Browser.launch();
  try {
    const page = await browser.open(pageUrl);
    let state: { done: boolean; error: boolean; events: { n: number; sentAt: number; arrivedAt: number }[] } | undefined;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      state = await page.evaluate(`({
        done: document.body?.dataset.done === 'yes',
        error: document.body?.dataset.error === 'yes',
        events: [...document.querySelectorAll('#events li')].map((li) => ({ n: JSON.parse(li.textContent).n, sentAt: Number(li.dataset.sentAt), arrivedAt: Number(li.dataset.arrivedAt) })),
      })`);
      if (state?.done || state?.error) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    try {
      expect(state?.error).toBe(false);
      expect(state?.done).toBe(true);
      const events = state!.events;
      expect(events.map((e) => e.n)).toEqual([1, 2, 3, 4]);
      // The first event reached the page before the function wrote the second; every event but the last before the
      // function wrote its last (and so before it finished); in the order written. (A loaded machine may delay one
      // event next to its successor; it may not hold them all until the end.)
      expect(events[0]!.arrivedAt).toBeLessThan(events[1]!.sentAt);
      for (let i = 0; i + 1 < events.length; i++) {
        expect(events[i]!.arrivedAt, `event ${i + 1}`).toBeLessThan(events[EVENTS - 1]!.sentAt);
        expect(events[i]!.arrivedAt, `event ${i + 1}`).toBeLessThanOrEqual(events[i + 1]!.arrivedAt);
      }
      expect(events[EVENTS - 1]!.sentAt - events[0]!.arrivedAt).toBeGreaterThan((EVENTS - 2) * GAP_MS);
    } catch (failure) {
      const shot = await page.screenshot();
      const dir = resolve('test-artifacts');
      await mkdir(dir, { recursive: true });
      const path = join(dir, `urls-browser-${Date.now()}.png`);
      await writeFile(path, shot);
      console.error(`urls-browser: screenshot of the failure at ${path}; page state: ${JSON.stringify(state)}`);
      throw failure;
    }
  } finally {
    await browser.close();
  }
}, 60_000);

/** Headless Chromium on a throwaway profile, spoken to over the DevTools protocol. */
class Browser {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  private readonly events = new Map<string, ((params: Record<string, unknown>, sessionId?: string) => void)[]>();

  private readonly child: ChildProcess;
  private readonly socket: WebSocket;
  private readonly profile: string;

  private constructor(child: ChildProcess, socket: WebSocket, profile: string) {
    this.child = child;
    this.socket = socket;
    this.profile = profile;
    socket.addEventListener('message', (message) => {
      const data = JSON.parse(String(message.data));
      if (data.id !== undefined) {
        const waiter = this.pending.get(data.id);
        this.pending.delete(data.id);
        if (data.error) waiter?.reject(new Error(`${data.error.message}`));
        else waiter?.resolve(data.result);
      } else {
        for (const listener of this.events.get(data.method) ?? []) listener(data.params, data.sessionId);
      }
    });
  }

  static async launch(): Promise<Browser> {
    const profile = await mkdtemp(join(tmpdir(), 'lambkin-chromium-'));
    const child = spawn(
      CHROMIUM,
      [
        '--headless=new',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--remote-debugging-address=127.0.0.1',
        '--remote-debugging-port=0',
        `--user-data-dir=${profile}`,
        'about:blank',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const endpoint = await new Promise<string>((resolveEndpoint, reject) => {
      let seen = '';
      const timer = setTimeout(() => reject(new Error(`Chromium did not start its DevTools endpoint: ${seen}`)), 20_000);
      child.stderr!.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        const match = /DevTools listening on (ws:\/\/\S+)/.exec(seen);
        if (match) {
          clearTimeout(timer);
          resolveEndpoint(match[1]!);
        }
      });
      child.once('exit', (code) => reject(new Error(`Chromium exited (${code}): ${seen}`)));
    });
    const socket = new WebSocket(endpoint);
    await new Promise((resolveOpen, reject) => {
      socket.addEventListener('open', resolveOpen, { once: true });
      socket.addEventListener('error', () => reject(new Error('DevTools websocket failed')), { once: true });
    });
    return new Browser(child, socket, profile);
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    this.socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    return new Promise((resolveResult, reject) => this.pending.set(id, { resolve: resolveResult, reject }));
  }

  /** A new tab on `url`, resolved once its page has loaded. */
  async open(url: string) {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = (await this.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
    await this.send('Page.enable', {}, sessionId);
    const loaded = new Promise<void>((resolveLoad) => this.events.set('Page.loadEventFired', [(_, from) => from === sessionId && resolveLoad()]));
    await this.send('Page.navigate', { url }, sessionId);
    await loaded;
    return {
      evaluate: async <T>(expression: string): Promise<T> => {
        const { result } = (await this.send('Runtime.evaluate', { expression, returnByValue: true }, sessionId)) as { result: { value: T } };
        return result.value;
      },
      screenshot: async (): Promise<Buffer> => {
        const { data } = (await this.send('Page.captureScreenshot', { format: 'png' }, sessionId)) as { data: string };
        return Buffer.from(data, 'base64');
      },
    };
  }

  async close(): Promise<void> {
    this.socket.close();
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill();
    await exited;
    await rm(this.profile, { recursive: true, force: true });
  }
}
