import { Bonjour, type Service } from 'bonjour-service';
import { serialFrom, type Sighting } from './discovered-camera.ts';
import { waitOrAbort } from './wait-or-abort.ts';

export interface MdnsBrowseOptions {
  timeoutMs: number;
  /** Local IPv4 address whose interface joins 224.0.0.251; every interface otherwise. */
  interfaceAddress?: string | undefined;
  signal?: AbortSignal | undefined;
}

/** Service types AXIS IP Utility browses (reference §1.2). */
export const AXIS_MDNS_TYPES = ['axis-video', 'axis-bwsc', 'axis-nvr'] as const;

function txtValue(txt: unknown, key: string): string | undefined {
  if (txt === null || typeof txt !== 'object') return undefined;
  const value = (txt as Record<string, unknown>)[key];
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return undefined;
}

/**
 * The address that answered. The A records name more (every responder also claims link-local),
 * but the answer's source is the one address the agent has seen the camera speak from, so a
 * record cannot aim the agent at another host.
 */
function answeringHost(service: Service): string | undefined {
  const address = service.referer?.address;
  return address !== undefined && /^\d+\.\d+\.\d+\.\d+$/.test(address) ? address : undefined;
}

/** The product name from an instance name such as `AXIS M2026-LE Mk II - B8A44F0A98A1`. */
function productFromInstance(name: string): string | undefined {
  const match = /^(AXIS .+?) - [0-9A-Fa-f]{12}(?: \(\d+\))?$/.exec(name);
  return match?.[1];
}

export function sightingFromService(service: Service): Sighting | undefined {
  // The TXT macaddress is the identity; names lose the serial on 12.x (reference §1.2).
  const serial = serialFrom(txtValue(service.txt, 'macaddress'));
  const host = answeringHost(service);
  if (serial === undefined || host === undefined) return undefined;
  return {
    source: 'mdns',
    serial,
    host,
    port: service.port,
    scheme: service.port === 443 ? 'https' : 'http',
    productName: productFromInstance(service.name),
  };
}

/** Browses the AXIS service types for `timeoutMs` and returns what answered. */
export async function browseMdns(options: MdnsBrowseOptions): Promise<Sighting[]> {
  const errors: unknown[] = [];
  // multicast-dns binds to `interface` when given, and a socket bound to a unicast address never
  // sees multicast on Linux: bind the wildcard and join the group on that interface only.
  const bonjour = new Bonjour(
    options.interfaceAddress === undefined
      ? {}
      : ({ interface: options.interfaceAddress, bind: '0.0.0.0' } as object),
    (error: unknown) => errors.push(error),
  );
  const sightings: Sighting[] = [];
  try {
    const browsers = AXIS_MDNS_TYPES.map((type) =>
      bonjour.find({ type }, (service) => {
        const sighting = sightingFromService(service);
        if (sighting !== undefined) sightings.push(sighting);
      }),
    );
    await waitOrAbort(options.timeoutMs, options.signal);
    for (const browser of browsers) browser.stop();
  } finally {
    await new Promise<void>((resolve) => bonjour.destroy(() => resolve()));
  }
  if (sightings.length === 0 && errors.length > 0) {
    throw new Error('mDNS browsing failed', { cause: errors[0] });
  }
  return sightings;
}
