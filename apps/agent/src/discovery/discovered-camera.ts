import { parseSerial, serialToMac } from '@custody/core';

export const DISCOVERY_SOURCES = ['ssdp', 'mdns', 'scan'] as const;
export type DiscoverySource = (typeof DISCOVERY_SOURCES)[number];

/** One sighting of a camera by one discovery method. */
export interface Sighting {
  source: DiscoverySource;
  serial: string;
  /** Where it answered: the address its HTTP interface is reachable at. */
  host: string;
  port?: number | undefined;
  scheme?: 'http' | 'https' | undefined;
  model?: string | undefined;
  productName?: string | undefined;
  firmware?: string | undefined;
  /** The serial was read over HTTP from this very host and port (a scan), not just claimed. */
  verified?: boolean | undefined;
}

export interface DiscoveredAddress {
  host: string;
  port: number | null;
  scheme: 'http' | 'https' | null;
  sources: DiscoverySource[];
}

export interface DiscoveredCamera {
  serial: string;
  mac: string;
  model: string | null;
  productName: string | null;
  firmware: string | null;
  sources: DiscoverySource[];
  addresses: DiscoveredAddress[];
}

/** A serial from a serial or a MAC in any common notation; undefined when it is not one. */
export function serialFrom(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const parsed = parseSerial(value);
  return parsed.ok ? parsed.value : undefined;
}

function sortedSources(sources: Iterable<DiscoverySource>): DiscoverySource[] {
  const set = new Set(sources);
  return DISCOVERY_SOURCES.filter((source) => set.has(source));
}

/**
 * Merges sightings into one entry per serial: identity never depends on an address, so a
 * camera seen by SSDP at one address and by the scan at another is one camera with two addresses.
 */
export function mergeSightings(sightings: readonly Sighting[]): DiscoveredCamera[] {
  const bySerial = new Map<string, { camera: DiscoveredCamera; sources: Set<DiscoverySource> }>();
  for (const sighting of sightings) {
    const serial = serialFrom(sighting.serial);
    if (serial === undefined) continue;
    let entry = bySerial.get(serial);
    if (entry === undefined) {
      entry = {
        camera: {
          serial,
          mac: serialToMac(serial),
          model: null,
          productName: null,
          firmware: null,
          sources: [],
          addresses: [],
        },
        sources: new Set(),
      };
      bySerial.set(serial, entry);
    }
    const { camera } = entry;
    entry.sources.add(sighting.source);
    camera.model ??= sighting.model ?? null;
    camera.productName ??= sighting.productName ?? null;
    camera.firmware ??= sighting.firmware ?? null;
    const port = sighting.port ?? null;
    const scheme = sighting.scheme ?? null;
    let address = camera.addresses.find(
      (known) =>
        known.host === sighting.host &&
        (known.port === port || known.port === null || port === null) &&
        (known.scheme === scheme || known.scheme === null || scheme === null),
    );
    if (address === undefined) {
      address = { host: sighting.host, port, scheme, sources: [] };
      camera.addresses.push(address);
    }
    address.port ??= port;
    address.scheme ??= scheme;
    address.sources = sortedSources([...address.sources, sighting.source]);
  }
  return [...bySerial.values()]
    .map(({ camera, sources }) => ({
      ...camera,
      sources: sortedSources(sources),
      addresses: [...camera.addresses].sort((a, b) =>
        `${a.host}:${a.port ?? 0}`.localeCompare(`${b.host}:${b.port ?? 0}`, 'en', {
          numeric: true,
        }),
      ),
    }))
    .sort((a, b) => a.serial.localeCompare(b.serial));
}
