// Container addresses on lambkin's network, picked by the host before the container exists, so that the
// environment's Runtime API listener knows the one peer it serves from the first connection on (Docker only says
// which address it gave a container once the container runs, and the runtime connects at once).
// Several hosts may share the network: picks are random across the subnet, an address this host holds is never
// picked twice, and the rare collision with another host's container is the engine's "Address already in use" at
// start, after which the caller picks again.
import { formatIPv4, parseIPv4, parseSubnet } from './lambkin-network.ts';

export class AddressAllocator {
  private readonly first: number;
  private readonly count: number;
  private readonly reserved: Set<number>;
  private readonly held = new Set<number>();

  /** `subnet` as `a.b.c.d/n`; `exclude`: addresses never handed out (the gateway). */
  constructor(subnet: string, exclude: string[] = []) {
    const [base, prefix] = parseSubnet(subnet);
    // Neither the network's own address nor its broadcast address.
    this.first = base + 1;
    this.count = Math.max(0, 2 ** (32 - prefix) - 2);
    this.reserved = new Set(exclude.map(parseIPv4));
  }

  /** A free address; throws when this host already holds every address of the subnet. */
  take(): string {
    const start = Math.floor(Math.random() * this.count);
    for (let step = 0; step < this.count; step++) {
      const candidate = this.first + ((start + step) % this.count);
      if (this.held.has(candidate) || this.reserved.has(candidate)) continue;
      this.held.add(candidate);
      return formatIPv4(candidate);
    }
    throw new Error(`no free address left in the network's ${this.count} addresses`);
  }

  release(address: string): void {
    this.held.delete(parseIPv4(address));
  }

  get inUse(): number {
    return this.held.size;
  }
}

/** The engine's answer when a static address is taken by another container (another host's). */
export function isAddressInUse(message: string): boolean {
  return /address already in use/i.test(message);
}
