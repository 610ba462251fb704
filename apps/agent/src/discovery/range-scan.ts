import { probe, type ProbeResult } from '@custody/vapix';
import type { Sighting } from './discovered-camera.ts';
import { serialFrom } from './discovered-camera.ts';

export interface RangeScanProgress {
  done: number;
  total: number;
  found: number;
}

export interface RangeScanOptions {
  hosts: readonly string[];
  ports: readonly number[];
  /** Per-request timeout for each anonymous probe. */
  timeoutMs: number;
  /** Endpoints probed at once; each AXIS device also limits itself to two requests in flight. */
  concurrency?: number | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: RangeScanProgress) => void) | undefined;
  /** Told about each camera as soon as it is found. */
  onSighting?: ((sighting: Sighting) => void) | undefined;
  /** The anonymous identification; replaceable in tests. */
  identify?: ((url: string, signal: AbortSignal | undefined) => Promise<ProbeResult>) | undefined;
}

export function endpointUrl(host: string, port: number): string {
  const scheme = port === 443 ? 'https' : 'http';
  const defaultPort = scheme === 'https' ? 443 : 80;
  return `${scheme}://${host}${port === defaultPort ? '' : `:${port}`}/`;
}

function identifyAnonymously(timeoutMs: number) {
  return (url: string, signal: AbortSignal | undefined) =>
    // Anonymous only: discovery never spends a credential attempt. Self-signed certificates are
    // accepted by pinning on first use, which is safe because nothing secret is sent.
    probe(url, null, {
      tls: { mode: 'pin' },
      timeouts: { probeMs: timeoutMs, normalMs: timeoutMs },
      ...(signal === undefined ? {} : { signal }),
    });
}

/** What a probe proves about an endpoint: an AXIS serial from its properties or its auth realm. */
export function sightingFromProbe(
  host: string,
  port: number,
  result: ProbeResult,
): Sighting | undefined {
  const serial = serialFrom(result.identity?.serial ?? result.realmSerial);
  if (serial === undefined) return undefined;
  return {
    source: 'scan',
    serial,
    host,
    port,
    scheme: port === 443 ? 'https' : 'http',
    model: result.identity?.model,
    productName: result.identity?.productName,
    firmware: result.identity?.firmware,
    verified: true,
  };
}

/**
 * Probes every host × port anonymously and keeps the endpoints that identify as AXIS devices
 * (reference §3.1: realm `AXIS_<serial>` on a 401, or unrestricted properties on a 200).
 */
export interface RangeScanResult {
  sightings: Sighting[];
  /** Endpoints whose probe failed unexpectedly (not "nothing there", which is an outcome). */
  failures: { url: string; message: string }[];
}

export async function scanRange(options: RangeScanOptions): Promise<RangeScanResult> {
  const identify = options.identify ?? identifyAnonymously(options.timeoutMs);
  const endpoints = options.hosts.flatMap((host) => options.ports.map((port) => ({ host, port })));
  const total = endpoints.length;
  const sightings: Sighting[] = [];
  const failures: RangeScanResult['failures'] = [];
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < endpoints.length && options.signal?.aborted !== true) {
      const endpoint = endpoints[next];
      next += 1;
      if (endpoint === undefined) break;
      const url = endpointUrl(endpoint.host, endpoint.port);
      try {
        const sighting = sightingFromProbe(
          endpoint.host,
          endpoint.port,
          await identify(url, options.signal),
        );
        if (sighting !== undefined) {
          sightings.push(sighting);
          options.onSighting?.(sighting);
        }
      } catch (error) {
        // probe returns expected outcomes as values; a throw is one endpoint's problem, reported.
        failures.push({ url, message: error instanceof Error ? error.message : String(error) });
      }
      done += 1;
      options.onProgress?.({ done, total, found: sightings.length });
    }
  };
  const concurrency = Math.max(1, Math.min(options.concurrency ?? 64, total));
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { sightings, failures };
}
