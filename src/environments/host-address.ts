// How a container reaches the host's Runtime API listeners. It differs by platform:
// - Linux engine on this machine: the gateway of lambkin's own network (lambkin-network.ts, 169.254.100.1), an
//   address of this machine on the lambkin0 bridge that only the containers route to. We listen on it alone, and
//   each listener answers only its own container's address.
// - Docker Desktop: containers reach the host as host.docker.internal, forwarded to the host's loopback (every
//   connection then comes from the forwarder, so listeners cannot tell containers apart by address).
// - LAMBKIN_HOST_ADDRESS (or the backend's hostAddress option) overrides all of this, for set-ups detection cannot
//   see (lambkin itself in a container, the engine on another machine).
// There is no silent fallback: a gateway that is not ours is an error naming the override, never a listener on an
// external interface.
import { createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import type Dockerode from 'dockerode';
import { LambdaEnvironmentError } from './errors.ts';
import type { LambkinNetwork } from './lambkin-network.ts';

export const HOST_ADDRESS_ENV = 'LAMBKIN_HOST_ADDRESS';

export interface HostAddress {
  /** Where the Runtime API listeners bind. */
  bind: string;
  /** What containers are given in AWS_LAMBDA_RUNTIME_API (before `:port`). */
  advertise: string;
  /** How it was found, for logs and error messages. */
  source: 'override' | 'lambkin-network' | 'docker-desktop';
  /**
   * Whether connections come straight from the containers' own addresses, so that each listener can refuse every
   * peer but its container. Not through Docker Desktop's forwarder, nor an override we cannot vouch for.
   */
  peersVisible: boolean;
}

/**
 * Whether an address is one of this machine's. Asked by binding to it, because os.networkInterfaces() leaves
 * out interfaces that are down, and docker0 is down whenever no container runs.
 */
export function isLocalAddress(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(0, address, () => probe.close(() => resolve(true)));
  });
}

function localAddresses(): Set<string> {
  const addresses = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const entry of list ?? []) addresses.add(entry.address);
  return addresses;
}

/** An override: bind to it when it is one of ours, else (a name, a forwarded address) on every interface. */
export async function overrideAddress(address: string): Promise<HostAddress> {
  const local = localAddresses().has(address) || (await isLocalAddress(address));
  return { bind: local ? address : '0.0.0.0', advertise: address, source: 'override', peersVisible: local };
}

export async function detectHostAddress(docker: Dockerode, network: LambkinNetwork, override = process.env[HOST_ADDRESS_ENV]): Promise<HostAddress> {
  if (override) return await overrideAddress(override);

  const info = (await docker.info()) as { OperatingSystem?: string };
  if (info.OperatingSystem?.includes('Docker Desktop')) {
    return { bind: '127.0.0.1', advertise: 'host.docker.internal', source: 'docker-desktop', peersVisible: false };
  }

  if (await isLocalAddress(network.gateway)) {
    return { bind: network.gateway, advertise: network.gateway, source: 'lambkin-network', peersVisible: true };
  }
  throw new LambdaEnvironmentError(
    'ServiceException',
    `Cannot tell how containers reach this host: the gateway ${network.gateway} of the Docker network ${network.name} ` +
      `is not an address of this machine (is the engine on another machine, or lambkin in a container?); set ${HOST_ADDRESS_ENV} ` +
      'to an address of this machine that the containers can reach',
  );
}
