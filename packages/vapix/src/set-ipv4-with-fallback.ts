import { setIPv4AddressConfiguration, type IPv4Configuration } from './apis/network-settings.ts';
import { updateParams } from './apis/param-cgi.ts';
import type { VapixClient } from './vapix-client.ts';
import { VapixUnsupportedError } from './vapix-error.ts';

function ipv4ToNumber(address: string): number {
  const parts = address.split('.').map(Number);
  if (
    parts.length !== 4 ||
    parts.some((part) => !Number.isInteger(part) || part < 0 || part > 255)
  ) {
    throw new TypeError(`not an IPv4 address: ${address}`);
  }
  return parts.reduce((total, part) => total * 256 + part, 0);
}

function numberToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** `24` → `255.255.255.0`. */
export function subnetMaskOf(prefixLength: number): string {
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > 32) {
    throw new TypeError(`not an IPv4 prefix length: ${prefixLength}`);
  }
  return numberToIpv4(prefixLength === 0 ? 0 : (2 ** 32 - 2 ** (32 - prefixLength)) >>> 0);
}

function broadcastOf(address: string, prefixLength: number): string {
  const host = 2 ** (32 - prefixLength);
  const network = Math.floor(ipv4ToNumber(address) / host) * host;
  return numberToIpv4(network + host - 1);
}

/** The legacy param.cgi update for the same configuration (reference §6.5). */
export function ipv4ConfigurationParams(config: IPv4Configuration): Record<string, string> {
  if (config.mode === 'dhcp') return { 'root.Network.BootProto': 'dhcp' };
  return {
    'root.Network.BootProto': 'none',
    'root.Network.IPAddress': config.address,
    'root.Network.SubnetMask': subnetMaskOf(config.prefixLength),
    'root.Network.Broadcast': broadcastOf(config.address, config.prefixLength),
    'root.Network.DefaultRouter': config.defaultRouter,
  };
}

/**
 * Applies an IPv4 configuration with network_settings.cgi, or with param.cgi on firmware
 * without it (404). The device may drop the connection once the address changes.
 */
export async function setIPv4WithFallback(
  client: VapixClient,
  config: IPv4Configuration,
  options: { signal?: AbortSignal } = {},
): Promise<{ via: 'network-settings' | 'param-cgi' }> {
  const legacy = ipv4ConfigurationParams(config);
  try {
    await client.send(setIPv4AddressConfiguration(config), { signal: options.signal });
    return { via: 'network-settings' };
  } catch (error) {
    if (!(error instanceof VapixUnsupportedError)) throw error;
  }
  await client.send(updateParams(legacy), { signal: options.signal });
  return { via: 'param-cgi' };
}
