// Network sandboxes made ahead of time. Joining a user-defined Docker network is the costliest part of a
// container's start (a veth pair, the address, and the engine's embedded DNS set up inside the new network
// namespace: measured here at +40% of a cold start over the default bridge). So the host keeps a few "holders"
// ready: tiny containers that only sleep, each already on lambkin's network at an address the host picked. A new
// environment's container joins a holder's network namespace (NetworkMode container:<id>), which costs nothing, and
// its Runtime API listener answers the holder's address alone. One holder serves one environment and is removed
// with it; a start that finds no holder ready joins the network itself (the slower path), and the spares refill in
// the background.
import type Dockerode from 'dockerode';
import { type AddressAllocator, isAddressInUse } from './address-allocator.ts';
import { engineMessage, engineStatus } from '../docker/errors.ts';
import type { LambkinNetwork } from './lambkin-network.ts';
import { ownerLabels, type OwnerIdentity } from './labels.ts';

/** Holders kept ready: one covers a function's cold start, two a pair of them while the refill runs. */
export const DEFAULT_NETWORK_SPARES = 2;
/** What a holder is, for `docker ps` and the reaper (holders carry their host's owner labels too). */
export const ROLE_LABEL = 'lambkin.role';
export const HOLDER_ROLE = 'network-sandbox';
/** A holder sleeps and nothing else: a few MB of memory and a handful of pids are plenty. */
const HOLDER_MEMORY_BYTES = 16 * 1024 * 1024;
const HOLDER_PIDS_LIMIT = 8;
/** nobody: the holder needs no privilege at all. */
const HOLDER_USER = '65534:65534';
/** Tries at an address of its own before a holder gives up (each miss is another host's container holding it). */
export const ADDRESS_ATTEMPTS = 5;
/** After a holder failed to start, refills wait this long (an engine in trouble must not become a busy loop). */
const REFILL_BACKOFF_MS = 5_000;

/** A started holder: join its namespace with NetworkMode `container:<id>`; the environment's address is its. */
export interface NetworkSandbox {
  readonly id: string;
  readonly address: string;
}

export interface NetworkSandboxPoolOptions {
  docker: Dockerode;
  network: LambkinNetwork;
  addresses: AddressAllocator;
  owner: OwnerIdentity;
  /** An image on the engine with /bin/sleep (one of lambkin's base images). */
  image: string;
  spares?: number;
  labels?: Record<string, string>;
}

export class NetworkSandboxPool {
  private readonly options: NetworkSandboxPoolOptions;
  private readonly spares: number;
  private readonly ready: NetworkSandbox[] = [];
  private readonly out = new Set<NetworkSandbox>();
  private refilling: Promise<void> | undefined;
  private blockedUntil = 0;
  private paused = false;
  private closed = false;
  /** Numbers the holders' names (see startHolder). */
  private started = 0;

  constructor(options: NetworkSandboxPoolOptions) {
    this.options = options;
    this.spares = options.spares ?? DEFAULT_NETWORK_SPARES;
  }

  /**
   * A ready holder, or undefined (then the caller joins the network itself). Refilling stops until refill() is
   * called again, once no cold start is under way: a holder started now would compete with them for the engine.
   */
  take(): NetworkSandbox | undefined {
    this.paused = true;
    const sandbox = this.ready.shift();
    if (sandbox) this.out.add(sandbox);
    return sandbox;
  }

  /** Removes a holder taken with take(), once its environment's container is gone. */
  async release(sandbox: NetworkSandbox): Promise<void> {
    this.out.delete(sandbox);
    await this.remove(sandbox);
  }

  /** Keeps `spares` holders ready, one start at a time (never competing with a burst of cold starts for the engine). */
  refill(): void {
    this.paused = false;
    if (this.refilling || this.closed || Date.now() < this.blockedUntil) return;
    this.refilling = (async () => {
      while (!this.closed && !this.paused && this.ready.length < this.spares) {
        const sandbox = await this.startHolder().catch(() => undefined);
        if (!sandbox) {
          this.blockedUntil = Date.now() + REFILL_BACKOFF_MS;
          return;
        }
        if (this.closed) return void (await this.remove(sandbox));
        this.ready.push(sandbox);
      }
    })().finally(() => (this.refilling = undefined));
  }

  /** Resolves once no holder is being started (tests). */
  async settled(): Promise<void> {
    await this.refilling;
  }

  get readyCount(): number {
    return this.ready.length;
  }

  /** Removes the spares and every holder still out; the reaper removes whatever an unreachable engine kept. */
  async close(): Promise<void> {
    this.closed = true;
    await this.refilling;
    const all = [...this.ready.splice(0), ...this.out];
    this.out.clear();
    await Promise.all(all.map((sandbox) => this.remove(sandbox)));
  }

  private async startHolder(): Promise<NetworkSandbox> {
    const { docker, network, addresses, owner, image, labels } = this.options;
    for (let attempt = 1; ; attempt++) {
      const address = addresses.take();
      // Named, so that a create whose answer is lost (the connection cut while the engine made it) can still be
      // removed: the client never learns the id of a container the engine made anyway.
      const name = `lambkin-holder-${owner.id}-${++this.started}`;
      let container: Dockerode.Container | undefined;
      try {
        container = await docker.createContainer({
          name,
          Image: image,
          Entrypoint: ['/bin/sleep', 'infinity'],
          Cmd: [],
          User: HOLDER_USER,
          Labels: { ...labels, ...ownerLabels(owner), [ROLE_LABEL]: HOLDER_ROLE },
          NetworkingConfig: { EndpointsConfig: { [network.name]: { IPAMConfig: { IPv4Address: address } } } },
          HostConfig: {
            NetworkMode: network.name,
            // The init reaps nothing here, but passes SIGTERM on, so a holder stops at once when removed.
            Init: true,
            ReadonlyRootfs: true,
            CapDrop: ['ALL'],
            SecurityOpt: ['no-new-privileges'],
            Memory: HOLDER_MEMORY_BYTES,
            MemorySwap: HOLDER_MEMORY_BYTES,
            PidsLimit: HOLDER_PIDS_LIMIT,
            AutoRemove: false,
          },
        });
        await container.start();
        return { id: container.id, address };
      } catch (error) {
        addresses.release(address);
        await (container ?? docker.getContainer(name)).remove({ force: true }).catch(() => {});
        if (isAddressInUse(engineMessage(error)) && attempt < ADDRESS_ATTEMPTS) continue;
        throw error;
      }
    }
  }

  private async remove(sandbox: NetworkSandbox): Promise<void> {
    try {
      await this.options.docker.getContainer(sandbox.id).remove({ force: true });
    } catch (error) {
      // 404: already gone (the reaper, a user); anything else: the reaper of the next host removes it.
      if (engineStatus(error) !== 404 && engineStatus(error) !== 409) return;
    }
    this.options.addresses.release(sandbox.address);
  }
}
