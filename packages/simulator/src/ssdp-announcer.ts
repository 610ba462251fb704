import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { randomUUID } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { bindSocketError, type AnnouncedDevice } from './announced-device.ts';

export const SSDP_ADDRESS = '239.255.255.250';
export const SSDP_PORT = 1900;
export const AXIS_SERVICE_TYPE = 'urn:axis-com:service:BasicService:1';
const DEVICE_TYPE = 'urn:schemas-upnp-org:device:Basic:1';
const MAX_AGE_SECONDS = 1800;

export interface SsdpAnnouncerOptions {
  /** The only interface SSDP binds to and sends from. Required: there is no default. */
  interfaceAddress: string;
  /** Re-announcement period in real ms (libupnp: half of max-age). */
  notifyIntervalMs?: number;
  /** Upper bound of the random M-SEARCH reply delay, in real ms. */
  maxReplyDelayMs?: number;
}

function uuid(device: AnnouncedDevice): string {
  return `uuid:Upnp-BasicDevice-1_0-${device.serial}`;
}

/** The four notification types libupnp announces for a basic device, with their USNs. */
function notificationTypes(device: AnnouncedDevice): [string, string][] {
  const id = uuid(device);
  return [
    ['upnp:rootdevice', `${id}::upnp:rootdevice`],
    [id, id],
    [DEVICE_TYPE, `${id}::${DEVICE_TYPE}`],
    [AXIS_SERVICE_TYPE, `${id}::${AXIS_SERVICE_TYPE}`],
  ];
}

function location(device: AnnouncedDevice): string {
  return `http://${device.address}:${device.upnpPort ?? device.httpPort}/rootdesc1.xml`;
}

export function ssdpNotify(
  device: AnnouncedDevice,
  nts: 'ssdp:alive' | 'ssdp:byebye',
  nt: string,
  usn: string,
  nls: string,
): string {
  const lines = [
    'NOTIFY * HTTP/1.1',
    `HOST: ${SSDP_ADDRESS}:${SSDP_PORT}`,
    `CACHE-CONTROL: max-age=${MAX_AGE_SECONDS}`,
    `LOCATION: ${location(device)}`,
    'OPT: "http://schemas.upnp.org/upnp/1/0/"; ns=01',
    `01-NLS: ${nls}`,
    `NT: ${nt}`,
    `NTS: ${nts}`,
    `SERVER: ${device.ssdpServer}`,
    'X-User-Agent: redsonic',
    `USN: ${usn}`,
  ];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

export function ssdpSearchResponse(
  device: AnnouncedDevice,
  st: string,
  usn: string,
  nls: string,
  date: Date,
) {
  const lines = [
    'HTTP/1.1 200 OK',
    `CACHE-CONTROL: max-age=${MAX_AGE_SECONDS}`,
    `DATE: ${date.toUTCString()}`,
    'EXT:',
    `LOCATION: ${location(device)}`,
    'OPT: "http://schemas.upnp.org/upnp/1/0/"; ns=01',
    `01-NLS: ${nls}`,
    `SERVER: ${device.ssdpServer}`,
    'X-User-Agent: redsonic',
    `ST: ${st}`,
    `USN: ${usn}`,
  ];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

function parseHeaders(message: string): { startLine: string; headers: Map<string, string> } {
  const [startLine = '', ...lines] = message.split(/\r?\n/);
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0)
      headers.set(line.slice(0, colon).trim().toUpperCase(), line.slice(colon + 1).trim());
  }
  return { startLine, headers };
}

/**
 * SSDP for simulated cameras, written on node:dgram so every header is exactly what an AXIS
 * device sends. It joins the multicast group on the given interface only and sends only there.
 */
export class SsdpAnnouncer {
  private readonly devices = new Map<string, { device: AnnouncedDevice; nls: string }>();
  private readonly pending = new Set<NodeJS.Timeout>();
  private readonly interval: NodeJS.Timeout;

  private constructor(
    private readonly socket: Socket,
    private readonly options: SsdpAnnouncerOptions,
  ) {
    socket.on('message', (message, remote) => this.onMessage(message, remote));
    this.interval = setInterval(
      () => {
        for (const { device } of this.devices.values()) this.sendAlive(device);
      },
      options.notifyIntervalMs ?? (MAX_AGE_SECONDS / 2) * 1000,
    );
    this.interval.unref();
  }

  static async start(options: SsdpAnnouncerOptions): Promise<SsdpAnnouncer> {
    const address = options.interfaceAddress;
    if (!isIPv4(address)) throw new Error(`SSDP needs an IPv4 interface address, got "${address}"`);
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        // Bound to the group address, the socket receives only SSDP multicast, not unicast.
        socket.bind({ port: SSDP_PORT, address: SSDP_ADDRESS, exclusive: false }, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      socket.addMembership(SSDP_ADDRESS, address);
      socket.setMulticastInterface(address);
      socket.setMulticastTTL(2);
    } catch (error) {
      socket.close();
      throw bindSocketError(error, 'SSDP', address);
    }
    socket.on('error', () => undefined);
    return new SsdpAnnouncer(socket, options);
  }

  alive(device: AnnouncedDevice): void {
    const nls = randomUUID();
    this.devices.set(device.serial, { device, nls });
    this.sendAlive(device);
  }

  byebye(device: AnnouncedDevice): void {
    const entry = this.devices.get(device.serial);
    this.devices.delete(device.serial);
    const nls = entry?.nls ?? randomUUID();
    for (const [nt, usn] of notificationTypes(device)) {
      this.send(ssdpNotify(device, 'ssdp:byebye', nt, usn, nls), SSDP_PORT, SSDP_ADDRESS);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.interval);
    for (const timer of this.pending) clearTimeout(timer);
    this.pending.clear();
    for (const { device } of [...this.devices.values()]) this.byebye(device);
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  private sendAlive(device: AnnouncedDevice): void {
    const nls = this.devices.get(device.serial)?.nls ?? randomUUID();
    for (const [nt, usn] of notificationTypes(device)) {
      this.send(ssdpNotify(device, 'ssdp:alive', nt, usn, nls), SSDP_PORT, SSDP_ADDRESS);
    }
  }

  private onMessage(message: Buffer, remote: RemoteInfo): void {
    const { startLine, headers } = parseHeaders(message.toString('utf8'));
    if (!startLine.startsWith('M-SEARCH * HTTP/1.1')) return;
    if ((headers.get('MAN') ?? '').replace(/"/g, '') !== 'ssdp:discover') return;
    const st = headers.get('ST') ?? '';
    const mx = Math.max(1, Math.min(5, Number(headers.get('MX') ?? 1) || 1));
    for (const { device, nls } of this.devices.values()) {
      for (const [nt, usn] of notificationTypes(device)) {
        if (st !== 'ssdp:all' && st !== nt) continue;
        const delay = Math.random() * Math.min(mx * 1000, this.options.maxReplyDelayMs ?? 500);
        const timer = setTimeout(() => {
          this.pending.delete(timer);
          this.send(
            ssdpSearchResponse(device, nt, usn, nls, new Date()),
            remote.port,
            remote.address,
          );
        }, delay);
        this.pending.add(timer);
      }
    }
  }

  private send(text: string, port: number, address: string): void {
    this.socket.send(text, port, address, () => undefined);
  }
}
