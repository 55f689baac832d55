// The Docker network every execution environment joins: lambkin's own bridge, not the engine's shared default one.
// - Its subnet is link-local (169.254.96.0/20) with the gateway at 169.254.100.1, the address AWS's nodejs24.x
//   environments see in AWS_LAMBDA_RUNTIME_API: an address no other host routes to, on an interface (lambkin0)
//   that exists only on this machine. The Runtime API listeners bind there and nowhere else.
// - Inter-container traffic is off (enable_icc=false): one function's containers cannot reach another's.
// - Containers get addresses lambkin picks (address-allocator.ts), so each Runtime API listener knows, before its
//   container starts, the one peer address it answers (runtime-api/server.ts refuses every other).
// The network is shared by every lambkin host on the engine and outlives them, like the base images: creating it
// costs a bridge and NAT rules once, and removing it under a live host would break that host's environments.
import { networkInterfaces } from 'node:os';
import type Dockerode from 'dockerode';
import { LambdaEnvironmentError } from './errors.ts';
import { engineMessage, engineStatus } from '../docker/errors.ts';

export const NETWORK_NAME = 'lambkin';
/** Link-local, so nothing outside this machine routes to it; /20 leaves 4,093 container addresses. */
export const NETWORK_SUBNET = '169.254.96.0/20';
/** The gateway, where the host serves the Runtime API: the address AWS's nodejs24.x runtimes are given. */
export const NETWORK_GATEWAY = '169.254.100.1';
/** The host side of the bridge, named so `ip addr` and `ss -ltn` show what it is. */
const BRIDGE_INTERFACE = 'lambkin0';
const NETWORK_LABEL = 'lambkin.network';

export interface LambkinNetwork {
  name: string;
  /** `a.b.c.d/n` */
  subnet: string;
  /** The host's address on the network: where Runtime API listeners bind. */
  gateway: string;
}

interface NetworkInspect {
  IPAM?: { Config?: Array<{ Subnet?: string; Gateway?: string }> };
}

/** Finds lambkin's network, creating it the first time; another host creating it at the same moment is fine. */
export async function ensureLambkinNetwork(docker: Dockerode, name = NETWORK_NAME): Promise<LambkinNetwork> {
  const existing = await inspectNetwork(docker, name);
  if (existing) return describe(name, existing);
  try {
    await docker.createNetwork({
      Name: name,
      Driver: 'bridge',
      CheckDuplicate: true,
      Labels: { [NETWORK_LABEL]: '1' },
      IPAM: { Driver: 'default', Config: [{ Subnet: NETWORK_SUBNET, Gateway: NETWORK_GATEWAY }] },
      Options: { 'com.docker.network.bridge.enable_icc': 'false', 'com.docker.network.bridge.name': BRIDGE_INTERFACE },
    });
  } catch (error) {
    // 409: another host created it first.
    if (engineStatus(error) !== 409) {
      throw new LambdaEnvironmentError(
        'ServiceException',
        `Cannot create the Docker network ${name} (${NETWORK_SUBNET}): ${engineMessage(error)}. ` +
          `If another network uses that subnet, remove it or create a bridge network named ${name} yourself.`,
        { cause: error },
      );
    }
  }
  const created = await inspectNetwork(docker, name);
  if (!created) throw new LambdaEnvironmentError('ServiceException', `The Docker network ${name} vanished right after it was created`);
  return describe(name, created);
}

async function inspectNetwork(docker: Dockerode, name: string): Promise<NetworkInspect | undefined> {
  try {
    return (await docker.getNetwork(name).inspect()) as NetworkInspect;
  } catch (error) {
    if (engineStatus(error) === 404) return undefined;
    throw error;
  }
}

function describe(name: string, network: NetworkInspect): LambkinNetwork {
  const config = network.IPAM?.Config?.find((entry) => entry.Subnet && !entry.Subnet.includes(':'));
  if (!config?.Subnet) {
    throw new LambdaEnvironmentError('ServiceException', `The Docker network ${name} has no IPv4 subnet; remove it and lambkin makes its own`);
  }
  return { name, subnet: config.Subnet, gateway: config.Gateway || gatewayOf(config.Subnet) };
}

/**
 * The gateway of a network whose engine does not report one (Docker 20.10's default bridge, for one): the address
 * of this machine inside the subnet (the bridge interface's), else the subnet's first address, which is where
 * Docker puts the gateway when none is given.
 */
export function gatewayOf(subnet: string): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) if (entry.family === 'IPv4' && inSubnet(entry.address, subnet)) return entry.address;
  }
  const [base] = parseSubnet(subnet);
  return formatIPv4(base + 1);
}

export function parseSubnet(subnet: string): [base: number, prefix: number] {
  const [address, bits] = subnet.split('/');
  const prefix = Number(bits);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [(parseIPv4(address ?? '') & mask) >>> 0, prefix];
}

export function inSubnet(address: string, subnet: string): boolean {
  const [base, prefix] = parseSubnet(subnet);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return (parseIPv4(address) & mask) >>> 0 === base;
}

export function parseIPv4(address: string): number {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((part) => !Number.isInteger(part) || part < 0 || part > 255)) return Number.NaN;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function formatIPv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}
