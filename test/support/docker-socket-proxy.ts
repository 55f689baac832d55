// A Unix-socket proxy in front of the Docker engine's socket, to give a test a dropped engine connection: a client
// (dockerode with `socketPath: proxy.socketPath`) talks to the engine through it until the test calls drop(), which
// severs every open connection (both ends) and then, until resume(), either refuses new ones (closed as soon as
// accepted: an engine that is down) or holds them (accepted, never answered: an engine that hangs). resume() lets
// held connections through, as a stuck engine that recovers answers what it was asked, and new ones pass again.
// The engine itself is never touched: containers keep running, and a direct client (the docker CLI) still works.
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type DroppedEngine = 'refuse' | 'hold';

export class DockerSocketProxy {
  readonly socketPath: string;
  private readonly target: string;
  private readonly server: Server;
  private readonly open = new Set<Socket>();
  private readonly held = new Set<Socket>();
  private mode: DroppedEngine | 'pass' = 'pass';
  private directory: string;

  private constructor(directory: string, target: string) {
    this.directory = directory;
    this.socketPath = join(directory, 'docker.sock');
    this.target = target;
    this.server = createServer((client) => this.accept(client));
  }

  /** Listens on a fresh socket in a temp folder, in front of `target` (the engine's socket). */
  static async start(target = '/var/run/docker.sock'): Promise<DockerSocketProxy> {
    const proxy = new DockerSocketProxy(await mkdtemp(join(tmpdir(), 'lambkin-docker-proxy-')), target);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(proxy.socketPath, () => resolve());
    });
    return proxy;
  }

  /** Connections currently passed through to the engine. */
  get connections(): number {
    return this.open.size;
  }

  /** Severs every connection to the engine; new ones are refused or held until resume(). */
  drop(mode: DroppedEngine): void {
    this.mode = mode;
    for (const socket of this.open) socket.destroy();
    this.open.clear();
  }

  /** The engine answers again: held connections go through (those whose client gave up are dropped), new ones pass. */
  resume(): void {
    this.mode = 'pass';
    const held = [...this.held];
    this.held.clear();
    for (const client of held) if (!client.destroyed) this.pass(client);
  }

  async close(): Promise<void> {
    this.drop('refuse');
    for (const socket of this.held) socket.destroy();
    this.held.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.directory, { recursive: true, force: true });
  }

  private accept(client: Socket): void {
    client.on('error', () => {});
    if (this.mode === 'refuse') return void client.destroy();
    if (this.mode === 'hold') {
      // Not read: what the client writes waits in the socket until resume() (or until the client gives up).
      client.pause();
      this.held.add(client);
      client.once('close', () => this.held.delete(client));
      return;
    }
    this.pass(client);
  }

  private pass(client: Socket): void {
    const engine = createConnection(this.target);
    engine.on('error', () => client.destroy());
    client.on('error', () => engine.destroy());
    for (const socket of [client, engine]) {
      this.open.add(socket);
      socket.once('close', () => {
        this.open.delete(socket);
        // One end gone: the other goes too, as a broken connection does.
        client.destroy();
        engine.destroy();
      });
    }
    client.pipe(engine);
    engine.pipe(client);
    client.resume();
  }
}
