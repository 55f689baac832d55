// The HTTP plumbing every lambkin server shares (src/http/): reading a body up to a limit, a server that can cut
// its connections, and the header helpers. Plain node:http servers on loopback; no runtime, no Docker.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { answerOrCut, firstHeader, sendJson } from '../src/http/headers.ts';
import { hostPort } from '../src/http/listen-tcp.ts';
import { type BodyRead, readBody, readBodyUpTo } from '../src/http/read-body.ts';
import { TrackedServer } from '../src/http/tracked-server.ts';
import { destroyRawConnections, rawConnection } from './support/raw-http.ts';

const servers: TrackedServer[] = [];

afterEach(async () => {
  destroyRawConnections();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** The server's side of its open connections. */
function openSockets(server: TrackedServer): Set<Socket> {
  return (server as unknown as { sockets: Set<Socket> }).sockets;
}

/** A TrackedServer on a free loopback port; resolves its base URL. */
async function serve(onRequest: (req: IncomingMessage, res: ServerResponse) => void, accept?: () => boolean): Promise<{ server: TrackedServer; url: string }> {
  const server = new TrackedServer({ keepAlive: true }, onRequest, accept ? { accept } : {});
  servers.push(server);
  const { address, port } = await server.listen(0, '127.0.0.1');
  return { server, url: `http://${hostPort(address, port)}` };
}

describe('readBody', () => {
  it('reads a body within the limit, and keeps only a count past it while still draining it', async () => {
    const reads: BodyRead[] = [];
    const { url } = await serve((req, res) => {
      void readBody(req, 8).then((read) => {
        reads.push(read);
        res.end('done');
      });
    });
    const conn = await rawConnection(url);
    conn.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello');
    await conn.waitFor('done');
    // Over the limit, declared and sent: the connection stays usable for the next request.
    conn.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\nhello world!');
    conn.write('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n6\r\nworld!\r\n0\r\n\r\n');
    await expect.poll(() => reads.length).toBe(3);
    expect(reads[0]).toEqual({ ok: true, body: Buffer.from('hello') });
    expect(reads[1]).toEqual({ ok: false, size: 12 });
    expect(reads[2]).toEqual({ ok: false, size: 12 });
  });

  it('tells a peer that went away mid-body; readBodyUpTo rejects instead', async () => {
    const settled: unknown[] = [];
    let started = 0;
    const { url } = await serve((req) => {
      started++;
      if (req.url === '/read') void readBody(req, 100).then((read) => settled.push(read));
      else
        readBodyUpTo(req, 100).then(
          (body) => settled.push(body),
          (error: Error) => settled.push(error.message),
        );
    });
    for (const path of ['/read', '/up-to']) {
      const conn = await rawConnection(url);
      const before = started;
      conn.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\nhalf`);
      await expect.poll(() => started).toBe(before + 1);
      conn.socket.destroy();
    }
    await expect.poll(() => settled.length).toBe(2);
    expect(settled).toEqual([{ ok: false, aborted: true }, 'aborted']);
  });

  it('readBodyUpTo gives the body, or undefined past the limit', async () => {
    const bodies: (Buffer | undefined)[] = [];
    const { url } = await serve((req, res) => {
      void readBodyUpTo(req, 4).then((body) => {
        bodies.push(body);
        res.end();
      });
    });
    await (await request(url, { method: 'POST', body: 'four' })).body.text();
    await (await request(url, { method: 'POST', body: 'five!' })).body.text();
    expect(bodies).toEqual([Buffer.from('four'), undefined]);
  });
});

describe('TrackedServer', () => {
  it('close() cuts the connections still open, a request in progress included', async () => {
    let started = 0;
    const { server, url } = await serve(() => void started++); // never answers
    const busy = await rawConnection(url);
    busy.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const idle = await rawConnection(url);
    await expect.poll(() => started).toBe(1);
    await expect.poll(() => openSockets(server).size).toBe(2);
    await server.close();
    await Promise.all([busy.closed, idle.closed]);
  });

  it('destroySockets() spares the ones asked for', async () => {
    const { server, url } = await serve((_req, res) => void res.end());
    const cut = await rawConnection(url);
    const spared = await rawConnection(url);
    await expect.poll(() => openSockets(server).size).toBe(2);
    // The server's side of `spared` is the socket whose remote port is spared's local one.
    const keep = new Set([...openSockets(server)].filter((socket) => socket.remotePort === spared.socket.localPort));
    expect(keep.size).toBe(1);
    server.destroySockets(keep);
    await cut.closed;
    // Still served: a request on it is answered.
    spared.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await spared.waitFor('HTTP/1.1 200');
  });

  it('destroys a connection its policy refuses before reading a byte', async () => {
    let served = 0;
    const { url } = await serve(
      (_req, res) => {
        served++;
        res.end();
      },
      () => false,
    );
    const conn = await rawConnection(url);
    conn.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await conn.closed;
    expect(conn.received()).toBe('');
    expect(served).toBe(0);
  });
});

describe('headers', () => {
  it('answers JSON with its Content-Type, and cuts a failure that comes after the head', async () => {
    const { url } = await serve((req, res) => {
      if (req.url === '/json') return sendJson(res, 418, '{"a":1}', { 'x-extra': 'yes', 'Content-Type': 'text/plain' });
      if (req.url === '/cut') res.writeHead(200).write('partial');
      answerOrCut(res, () => sendJson(res, 500, '{"failed":true}'));
    });
    const json = await request(`${url}/json`);
    expect(json.statusCode).toBe(418);
    expect(json.headers['content-type']).toBe('application/json');
    expect(json.headers['x-extra']).toBe('yes');
    expect(await json.body.json()).toEqual({ a: 1 });
    const answered = await request(`${url}/answered`);
    expect(answered.statusCode).toBe(500);
    expect(await answered.body.json()).toEqual({ failed: true });
    await expect(request(`${url}/cut`).then((cut) => cut.body.text())).rejects.toThrow();
  });

  it('firstHeader takes the first of repeated values; hostPort brackets IPv6', () => {
    expect(firstHeader({ 'set-cookie': ['a', 'b'] }, 'set-cookie')).toBe('a');
    expect(firstHeader({ 'x-one': 'v' }, 'x-one')).toBe('v');
    expect(firstHeader({}, 'x-none')).toBeUndefined();
    expect(hostPort('::1', 9001)).toBe('[::1]:9001');
    expect(hostPort('127.0.0.1', 9001)).toBe('127.0.0.1:9001');
    expect(hostPort('localhost', 80)).toBe('localhost:80');
  });
});
