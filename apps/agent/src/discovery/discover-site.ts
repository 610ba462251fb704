import type { AgentConfig } from '../env.ts';
import { expandCidr } from './cidr.ts';
import type { Sighting } from './discovered-camera.ts';
import { browseMdns } from './mdns-browse.ts';
import { scanRange } from './range-scan.ts';
import { searchSsdp } from './ssdp-search.ts';

export interface DiscoverSiteOptions {
  discovery: AgentConfig['discovery'];
  probeTimeoutMs: number;
  concurrency: number;
  signal: AbortSignal;
  warn: (message: string) => void;
  /**
   * Told about sightings as they come: each scanned camera as it is found, each multicast
   * method's answers once it is done, so nothing waits for the slowest method.
   */
  onSightings?: (batch: Sighting[]) => void;
  /** The individual methods; replaceable in tests. */
  methods?: {
    scanRange?: typeof scanRange;
    searchSsdp?: typeof searchSsdp;
    browseMdns?: typeof browseMdns;
  };
}

/**
 * One discovery round over every method the site configured. A method that fails is reported and
 * skipped; the others still count, so a site without a multicast route still gets its range scan.
 */
export async function discoverSite(options: DiscoverSiteOptions): Promise<Sighting[]> {
  const { discovery, signal, warn } = options;
  const methods = options.methods ?? {};
  const rounds: Promise<Sighting[]>[] = [];
  const hand = (batch: Sighting[]) => {
    if (batch.length > 0) options.onSightings?.(batch);
  };
  const guarded = (name: string, run: () => Promise<Sighting[]>) =>
    run().catch((error: unknown) => {
      if (!signal.aborted) warn(`${name} failed: ${(error as Error).message}`);
      return [];
    });
  for (const cidr of discovery.cidrs) {
    rounds.push(
      guarded(`scan of ${cidr}`, async () => {
        const handed = new Set<Sighting>();
        const { sightings, failures } = await (methods.scanRange ?? scanRange)({
          hosts: expandCidr(cidr).hosts,
          ports: discovery.ports,
          timeoutMs: options.probeTimeoutMs,
          concurrency: options.concurrency,
          signal,
          onSighting: (sighting) => {
            handed.add(sighting);
            hand([sighting]);
          },
        });
        hand(sightings.filter((sighting) => !handed.has(sighting)));
        if (failures.length > 0) {
          warn(`scan of ${cidr}: ${failures.length} endpoint(s) failed, e.g. ${failures[0]?.url}`);
        }
        return sightings;
      }),
    );
  }
  const multicast = { timeoutMs: 3_000, interfaceAddress: discovery.interfaceAddress, signal };
  if (discovery.ssdp) {
    rounds.push(
      guarded('SSDP search', async () => {
        const found = await (methods.searchSsdp ?? searchSsdp)(multicast);
        hand(found);
        return found;
      }),
    );
  }
  if (discovery.mdns) {
    rounds.push(
      guarded('mDNS browse', async () => {
        const found = await (methods.browseMdns ?? browseMdns)(multicast);
        hand(found);
        return found;
      }),
    );
  }
  return (await Promise.all(rounds)).flat();
}
