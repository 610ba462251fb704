import { createSocket, type Socket } from 'node:dgram';
import { serialFrom, type Sighting } from './discovered-camera.ts';
import { waitOrAbort } from './wait-or-abort.ts';

export const SSDP_ADDRESS = '239.255.255.250';
export const SSDP_PORT = 1900;
export const AXIS_SERVICE_TYPE = 'urn:axis-com:service:BasicService:1';

/** The request AXIS's own tools send (reference §1.1), byte for byte. */
export const M_SEARCH =
  'M-SEARCH * HTTP/1.1\r\nHost:239.255.255.250:1900\r\n' +
  `ST:${AXIS_SERVICE_TYPE}\r\nMan:"ssdp:discover"\r\nMX:3\r\n\r\n`;

export interface SsdpSearchOptions {
  /** How long to collect answers. */
  timeoutMs: number;
  /** Local IPv4 address whose interface sends the search; the OS default route otherwise. */
  interfaceAddress?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Fetches the device description at LOCATION; replaceable in tests. */
  fetchDescription?: (location: string, signal: AbortSignal) => Promise<string>;
}

export interface SsdpAnswer {
  headers: Record<string, string>;
  from: string;
}

/** Parses an SSDP datagram into upper-case-keyed headers; undefined when it is not SSDP. */
export function parseSsdpMessage(
  text: string,
): { startLine: string; headers: Record<string, string> } | undefined {
  const lines = text.split(/\r?\n/);
  const startLine = lines[0]?.trim() ?? '';
  if (!/^(HTTP\/1\.1 200|NOTIFY \* HTTP\/1\.1)/i.test(startLine)) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers[line.slice(0, colon).trim().toUpperCase()] = line.slice(colon + 1).trim();
  }
  return { startLine, headers };
}

/** The MAC inside a USN such as `uuid:Upnp-BasicDevice-1_0-ACCC8E270AD8::urn:…` (reference §1.1). */
export function macFromUsn(usn: string | undefined): string | undefined {
  return /^uuid:.*([0-9a-f]{12})::.*$/i.exec(usn ?? '')?.[1]?.toUpperCase();
}

function xmlText(xml: string, tag: string): string | undefined {
  const match = new RegExp(`<${tag}>([^<]*)</${tag}>`, 'i').exec(xml);
  const value = match?.[1]
    ?.replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&')
    .trim();
  return value === '' ? undefined : value;
}

export interface DeviceDescription {
  serial?: string | undefined;
  manufacturer?: string | undefined;
  modelNumber?: string | undefined;
  modelName?: string | undefined;
  presentationUrl?: string | undefined;
}

/** The fields Custody uses from a UPnP root description (reference §1.1). */
export function parseDeviceDescription(xml: string): DeviceDescription {
  return {
    serial: serialFrom(xmlText(xml, 'serialNumber')),
    manufacturer: xmlText(xml, 'manufacturer'),
    modelNumber: xmlText(xml, 'modelNumber'),
    modelName: xmlText(xml, 'modelName'),
    presentationUrl: xmlText(xml, 'presentationURL'),
  };
}

async function fetchText(location: string, signal: AbortSignal): Promise<string> {
  const response = await fetch(location, { signal, redirect: 'error' });
  if (!response.ok) throw new Error(`${location} answered ${response.status}`);
  return response.text();
}

/**
 * The sighting an answer proves: always at the address that answered (the UDP source). The HTTP
 * port and scheme come from presentationURL (LOCATION is a random UPnP port, reference §1.1), but
 * only when it names that same host: a description cannot aim the agent at another address.
 */
export function sightingFromAnswer(
  answer: SsdpAnswer,
  description: DeviceDescription | undefined,
): Sighting | undefined {
  const serial = description?.serial ?? serialFrom(macFromUsn(answer.headers.USN));
  if (serial === undefined) return undefined;
  let port: number | undefined;
  let scheme: 'http' | 'https' | undefined;
  if (description?.presentationUrl !== undefined) {
    try {
      const url = new URL(description.presentationUrl);
      if (url.hostname === answer.from && (url.protocol === 'http:' || url.protocol === 'https:')) {
        scheme = url.protocol === 'https:' ? 'https' : 'http';
        port = url.port === '' ? (scheme === 'https' ? 443 : 80) : Number(url.port);
      }
    } catch {
      // A malformed presentationURL still leaves the answering address.
    }
  }
  return {
    source: 'ssdp',
    serial,
    host: answer.from,
    port,
    scheme,
    model: description?.modelNumber,
    productName: description?.modelName,
  };
}

/** Only descriptions served by the host that answered are read, so an answer cannot aim the agent elsewhere. */
function isOnAnsweringHost(location: string, from: string): boolean {
  try {
    const url = new URL(location);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname === from;
  } catch {
    return false;
  }
}

function isAxisAnswer(headers: Record<string, string>): boolean {
  return (
    (headers.ST ?? headers.NT) === AXIS_SERVICE_TYPE ||
    (headers.USN ?? '').includes(AXIS_SERVICE_TYPE)
  );
}

/**
 * Sends the AXIS M-SEARCH and collects answers (and any NOTIFY alive that arrives meanwhile) for
 * `timeoutMs`, then reads each device description once. Devices with UPnP off never answer
 * (reference §1.1), which is why discovery never relies on SSDP alone.
 */
export async function searchSsdp(options: SsdpSearchOptions): Promise<Sighting[]> {
  const answers = new Map<string, SsdpAnswer>();
  const socket: Socket = createSocket({ type: 'udp4', reuseAddr: true });
  const fetchDescription = options.fetchDescription ?? fetchText;
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, options.interfaceAddress, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  try {
    if (options.interfaceAddress !== undefined)
      socket.setMulticastInterface(options.interfaceAddress);
    socket.setMulticastTTL(2);
    socket.on('message', (message, remote) => {
      const parsed = parseSsdpMessage(message.toString('utf8'));
      if (parsed === undefined || !isAxisAnswer(parsed.headers)) return;
      if (/byebye/i.test(parsed.headers.NTS ?? '')) return;
      const key = parsed.headers.USN ?? `${remote.address}:${parsed.headers.LOCATION ?? ''}`;
      if (!answers.has(key)) answers.set(key, { headers: parsed.headers, from: remote.address });
    });
    socket.on('error', () => {
      // A send or receive error on one datagram must not end the search.
    });
    const payload = Buffer.from(M_SEARCH, 'latin1');
    // UDP may drop one datagram; a second search a moment later is what SSDP clients do.
    socket.send(payload, SSDP_PORT, SSDP_ADDRESS);
    const resendAfterMs = Math.min(250, options.timeoutMs / 4);
    await waitOrAbort(resendAfterMs, options.signal);
    socket.send(payload, SSDP_PORT, SSDP_ADDRESS);
    await waitOrAbort(options.timeoutMs - resendAfterMs, options.signal);
  } finally {
    socket.close();
  }
  const signal = AbortSignal.any([
    AbortSignal.timeout(5_000),
    ...(options.signal ? [options.signal] : []),
  ]);
  const sightings = await Promise.all(
    [...answers.values()].map(async (answer) => {
      const location = answer.headers.LOCATION;
      let description: DeviceDescription | undefined;
      if (location !== undefined && isOnAnsweringHost(location, answer.from)) {
        try {
          description = parseDeviceDescription(await fetchDescription(location, signal));
        } catch {
          description = undefined;
        }
      }
      return sightingFromAnswer(answer, description);
    }),
  );
  return sightings.filter((sighting): sighting is Sighting => sighting !== undefined);
}
