// The address rules of lambkin's network, without an engine: subnet arithmetic, the gateway of a network whose
// engine reports none, and the addresses the host picks for its containers.
import { describe, expect, it } from 'vitest';
import { AddressAllocator, isAddressInUse } from '../src/environments/address-allocator.ts';
import { formatIPv4, gatewayOf, inSubnet, NETWORK_GATEWAY, NETWORK_SUBNET, parseIPv4 } from '../src/environments/lambkin-network.ts';

describe("lambkin's network addresses", () => {
  it('the gateway lies in the link-local subnet, and subnet arithmetic holds at its edges', () => {
    expect(inSubnet(NETWORK_GATEWAY, NETWORK_SUBNET)).toBe(true);
    expect(inSubnet('169.254.96.0', NETWORK_SUBNET)).toBe(true);
    expect(inSubnet('169.254.111.255', NETWORK_SUBNET)).toBe(true);
    expect(inSubnet('169.254.112.0', NETWORK_SUBNET)).toBe(false);
    expect(inSubnet('169.254.169.254', NETWORK_SUBNET)).toBe(false);
    expect(formatIPv4(parseIPv4('10.1.2.3'))).toBe('10.1.2.3');
    expect(parseIPv4('10.1.2')).toBeNaN();
  });

  it("derives a missing gateway from the subnet (the engine's first address) when no interface of this machine is in it", () => {
    expect(gatewayOf('10.250.0.0/24')).toBe('10.250.0.1');
  });

  it('hands out every address of a subnet once, never the gateway, then refuses', () => {
    const allocator = new AddressAllocator('10.9.0.0/29', ['10.9.0.1']);
    const taken = Array.from({ length: 5 }, () => allocator.take());
    expect(new Set(taken).size).toBe(5);
    expect(taken).not.toContain('10.9.0.1');
    expect(taken.every((address) => inSubnet(address, '10.9.0.0/29') && address !== '10.9.0.0' && address !== '10.9.0.7')).toBe(true);
    expect(() => allocator.take()).toThrow(/no free address/);
    allocator.release(taken[2]!);
    expect(allocator.take()).toBe(taken[2]);
  });

  it("recognises the engine's words for an address another container holds", () => {
    expect(isAddressInUse('Address already in use')).toBe(true);
    expect(isAddressInUse('no such image')).toBe(false);
  });
});
