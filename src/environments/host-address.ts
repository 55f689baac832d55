// How a container reaches the host's Runtime API listener. It differs by platform:
// - Linux engine on this machine: the default bridge's gateway (docker0, typically 172.17.0.1), which is an
//   address of this machine that the containers route to. We listen on it alone, not on every interface.
// - Docker Desktop: containers reach the host as host.docker.internal, forwarded to the host's loopback.
// - lambkin itself in a container, engine elsewhere: the gateway is not ours; our own address is used.
// LAMBKIN_HOST_ADDRESS (or the backend's hostAddress option) overrides all of this.
import { createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import type Dockerode from 'dockerode';
import { LambdaEnvironmentError } from './errors.ts';

export const HOST_ADDRESS_ENV = 'LAMBKIN_HOST_ADDRESS';

export interface HostAddress {
  /** Where the Runtime API listeners bind. */
  bind: string;
  /** What containers are given in AWS_LAMBDA_RUNTIME_API (before `:port`). */
  advertise: string;
  /** How it was found, for logs and error messages. */
  source: 'override' | 'bridge-gateway' | 'docker-desktop' | 'own-address';
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

function ownExternalIPv4(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) if (entry.family === 'IPv4' && !entry.internal) return entry.address;
  }
  return undefined;
}

/** An override: bind to it when it is one of ours, else (a name, a forwarded address) on every interface. */
export async function overrideAddress(address: string): Promise<HostAddress> {
  const local = localAddresses().has(address) || (await isLocalAddress(address));
  return { bind: local ? address : '0.0.0.0', advertise: address, source: 'override' };
}

export async function detectHostAddress(docker: Dockerode, override = process.env[HOST_ADDRESS_ENV]): Promise<HostAddress> {
  if (override) return await overrideAddress(override);

  const info = (await docker.info()) as { OperatingSystem?: string };
  if (info.OperatingSystem?.includes('Docker Desktop')) {
    return { bind: '127.0.0.1', advertise: 'host.docker.internal', source: 'docker-desktop' };
  }

  const bridge = (await docker.getNetwork('bridge').inspect()) as { IPAM?: { Config?: Array<{ Gateway?: string }> } };
  const gateway = bridge.IPAM?.Config?.map((config) => config.Gateway).find((address) => address && !address.includes(':'));
  if (gateway && (await isLocalAddress(gateway))) return { bind: gateway, advertise: gateway, source: 'bridge-gateway' };

  const own = ownExternalIPv4();
  if (own) return { bind: own, advertise: own, source: 'own-address' };
  throw new LambdaEnvironmentError(
    'ServiceException',
    `Cannot tell how containers reach this host (bridge gateway ${gateway ?? 'unknown'} is not an address of this machine); set ${HOST_ADDRESS_ENV}`,
  );
}
