/** The largest range a scan accepts: a /16 is already 65,534 hosts. */
export const MAX_SCAN_PREFIX_HOSTS = 65_536;

export interface Ipv4Range {
  cidr: string;
  /** Host addresses in ascending order (network and broadcast addresses excluded below /31). */
  hosts: string[];
}

function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

/**
 * Expands an IPv4 CIDR such as `10.20.0.0/24` (or a single address) into host addresses.
 * Throws a `RangeError` whose message is fit for a user.
 */
export function expandCidr(cidr: string): Ipv4Range {
  const match = /^([^/]+)(?:\/(\d{1,2}))?$/.exec(cidr.trim());
  const base = match?.[1] === undefined ? undefined : parseIpv4(match[1]);
  const prefix = match?.[2] === undefined ? 32 : Number(match[2]);
  if (base === undefined || prefix > 32) {
    throw new RangeError(`"${cidr}" is not an IPv4 range; write it like 10.20.0.0/24`);
  }
  const size = 2 ** (32 - prefix);
  if (size > MAX_SCAN_PREFIX_HOSTS) {
    throw new RangeError(`${cidr} holds ${size} addresses; scan at most a /16 at a time`);
  }
  const network = prefix === 0 ? 0 : base - (base % size);
  const hosts: string[] = [];
  // Below /31 the first and last addresses are the network and broadcast addresses.
  const [first, last] =
    size <= 2 ? [network, network + size - 1] : [network + 1, network + size - 2];
  for (let value = first; value <= last; value += 1) hosts.push(formatIpv4(value));
  return { cidr: `${formatIpv4(network)}/${prefix}`, hosts };
}

function parseCidr(cidr: string): { network: number; size: number } | undefined {
  const match = /^([^/]+)(?:\/(\d{1,2}))?$/.exec(cidr.trim());
  const base = match?.[1] === undefined ? undefined : parseIpv4(match[1]);
  const prefix = match?.[2] === undefined ? 32 : Number(match[2]);
  if (base === undefined || prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  return { network: base - (base % size), size };
}

/** Whether `host` is an IPv4 address inside `cidr` (any size; a bare address is a /32). */
export function isInCidr(host: string, cidr: string): boolean {
  const address = parseIpv4(host);
  const range = parseCidr(cidr);
  if (address === undefined || range === undefined) return false;
  return address >= range.network && address < range.network + range.size;
}

/** Where an AXIS camera is after a factory default without DHCP (reference §1.6). */
export const AXIS_DEFAULT_ADDRESS = '192.168.0.90';
const LINK_LOCAL = '169.254.0.0/16';

/**
 * The addresses the agent accepts as a camera's: the site's configured ranges, the subnets the
 * agent itself is on (where multicast answers come from), link-local and the AXIS default address,
 * which is where a reset camera comes back. A discovery answer cannot aim the agent anywhere else.
 */
export function createAddressFilter(site: {
  cidrs: readonly string[];
  localSubnets: readonly string[];
}): (host: string) => boolean {
  const ranges = [...site.cidrs, ...site.localSubnets, LINK_LOCAL, AXIS_DEFAULT_ADDRESS];
  return (host) => ranges.some((range) => isInCidr(host, range));
}

/** `80,443` → [80, 443]; throws a `RangeError` for anything that is not a list of TCP ports. */
export function parsePorts(text: string): number[] {
  const ports = text.split(',').map((part) => part.trim());
  const parsed = ports.map((part) => (/^\d{1,5}$/.test(part) ? Number(part) : Number.NaN));
  if (ports.length === 0 || parsed.some((port) => !(port >= 1 && port <= 65_535))) {
    throw new RangeError(`"${text}" is not a list of TCP ports; write it like 80,443`);
  }
  return [...new Set(parsed)];
}
