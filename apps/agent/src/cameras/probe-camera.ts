import { parseSerial, serialToMac, type AccessState } from '@custody/core';
import { probe, type Credentials, type ProbeResult, type TlsPolicy } from '@custody/vapix';

/** The agent's view of a probe, in Custody's terms: what `custody-agent probe --json` prints. */
export interface ProbeReport {
  url: string;
  accessState: AccessState;
  identity: {
    serial: string;
    mac: string;
    model: string | null;
    productName: string | null;
    firmware: string | null;
    hardwareId: string | null;
  } | null;
  capabilities: string[];
  error?: { code: string; message: string };
}

export interface ProbeCameraOptions {
  tls?: TlsPolicy | undefined;
  signal?: AbortSignal | undefined;
  /** The vapix probe; replaceable in tests. */
  probeDevice?: typeof probe;
}

/** Maps a VAPIX probe result to Custody's identity: the serial is the key, ProdNbr is the model. */
export function toProbeReport(result: ProbeResult): ProbeReport {
  const parsed = parseSerial(result.identity?.serial ?? result.realmSerial ?? '');
  const report: ProbeReport = {
    url: result.url,
    accessState: result.accessState,
    identity: parsed.ok
      ? {
          serial: parsed.value,
          mac: serialToMac(parsed.value),
          model: result.identity?.model ?? null,
          productName: result.identity?.productName ?? null,
          firmware: result.identity?.firmware ?? null,
          hardwareId: result.identity?.hardwareId ?? null,
        }
      : null,
    capabilities: [...result.capabilities],
  };
  if (result.error !== undefined) {
    report.error = { code: result.error.code, message: result.error.message };
  }
  return report;
}

export async function probeCamera(
  url: string,
  credentials: Credentials | null,
  options: ProbeCameraOptions = {},
): Promise<{ report: ProbeReport; fingerprint256?: string }> {
  const result = await (options.probeDevice ?? probe)(url, credentials, {
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  return {
    report: toProbeReport(result),
    ...(result.tls === undefined ? {} : { fingerprint256: result.tls.fingerprint256 }),
  };
}
