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
  const guarded = (name: string, run: () => Promise<Sighting[]>) =>
    run().catch((error: unknown) => {
      if (!signal.aborted) warn(`${name} failed: ${(error as Error).message}`);
      return [];
    });
  for (const cidr of discovery.cidrs) {
    rounds.push(
      guarded(`scan of ${cidr}`, async () => {
        const { sightings, failures } = await (methods.scanRange ?? scanRange)({
          hosts: expandCidr(cidr).hosts,
          ports: discovery.ports,
          timeoutMs: options.probeTimeoutMs,
          concurrency: options.concurrency,
          signal,
        });
        if (failures.length > 0) {
          warn(`scan of ${cidr}: ${failures.length} endpoint(s) failed, e.g. ${failures[0]?.url}`);
        }
        return sightings;
      }),
    );
  }
  const multicast = { timeoutMs: 3_000, interfaceAddress: discovery.interfaceAddress, signal };
  if (discovery.ssdp) {
    rounds.push(guarded('SSDP search', () => (methods.searchSsdp ?? searchSsdp)(multicast)));
  }
  if (discovery.mdns) {
    rounds.push(guarded('mDNS browse', () => (methods.browseMdns ?? browseMdns)(multicast)));
  }
  return (await Promise.all(rounds)).flat();
}
