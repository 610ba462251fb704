import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';
import { bindSocketError, type AnnouncedDevice } from './announced-device.ts';
import {
  DNS_TYPE,
  decodeDnsMessage,
  encodeDnsMessage,
  type DnsMessage,
  type DnsQuestion,
  type DnsRecord,
} from './dns-message.ts';

export const MDNS_ADDRESS = '224.0.0.251';
export const MDNS_PORT = 5353;
export const AXIS_VIDEO_SERVICE = '_axis-video._tcp.local';
const SERVICES_META = '_services._dns-sd._udp.local';
const HOST_TTL = 120;
const OTHER_TTL = 4500;

export interface MdnsAnnouncerOptions {
  /** The only interface mDNS binds to and sends from. Required: there is no default. */
  interfaceAddress: string;
}

export function instanceName(device: AnnouncedDevice): string {
  return `AXIS ${device.model} - ${device.serial}.${AXIS_VIDEO_SERVICE}`;
}

export function hostName(device: AnnouncedDevice): string {
  return `axis-${device.serial.toLowerCase()}.local`;
}

/** PTR, SRV, TXT and A records of one camera; TTL 0 says goodbye. */
export function serviceRecords(device: AnnouncedDevice, goodbye = false) {
  const ttl = (value: number) => (goodbye ? 0 : value);
  const instance = instanceName(device);
  const pointer: DnsRecord = {
    type: 'PTR',
    name: AXIS_VIDEO_SERVICE,
    ttl: ttl(OTHER_TTL),
    target: instance,
  };
  const details: DnsRecord[] = [
    {
      type: 'SRV',
      name: instance,
      ttl: ttl(HOST_TTL),
      cacheFlush: true,
      priority: 0,
      weight: 0,
      port: device.httpPort,
      target: hostName(device),
    },
    {
      type: 'TXT',
      name: instance,
      ttl: ttl(OTHER_TTL),
      cacheFlush: true,
      entries: [`macaddress=${device.serial}`],
    },
    {
      type: 'A',
      name: hostName(device),
      ttl: ttl(HOST_TTL),
      cacheFlush: true,
      address: device.address,
    },
  ];
  return { pointer, details };
}

/** A minimal mDNS responder for `_axis-video._tcp`, bound to one interface. */
export class MdnsAnnouncer {
  private readonly devices = new Map<string, AnnouncedDevice>();
  private readonly pending = new Set<NodeJS.Timeout>();

  private constructor(private readonly socket: Socket) {
    socket.on('message', (message, remote) => this.onMessage(message, remote));
  }

  static async start(options: MdnsAnnouncerOptions): Promise<MdnsAnnouncer> {
    const address = options.interfaceAddress;
    if (!isIPv4(address)) throw new Error(`mDNS needs an IPv4 interface address, got "${address}"`);
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind({ port: MDNS_PORT, address: MDNS_ADDRESS, exclusive: false }, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      socket.addMembership(MDNS_ADDRESS, address);
      socket.setMulticastInterface(address);
      socket.setMulticastTTL(255);
    } catch (error) {
      socket.close();
      throw bindSocketError(error, 'mDNS', address);
    }
    socket.on('error', () => undefined);
    return new MdnsAnnouncer(socket);
  }

  /** Announces twice, one second apart, as RFC 6762 §8.3 asks. */
  announce(device: AnnouncedDevice): void {
    this.devices.set(device.serial, device);
    this.sendAnnouncement(device, false);
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      if (this.devices.get(device.serial) === device) this.sendAnnouncement(device, false);
    }, 1000);
    this.pending.add(timer);
  }

  goodbye(device: AnnouncedDevice): void {
    this.devices.delete(device.serial);
    this.sendAnnouncement(device, true);
  }

  async close(): Promise<void> {
    for (const timer of this.pending) clearTimeout(timer);
    this.pending.clear();
    for (const device of [...this.devices.values()]) this.goodbye(device);
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  private sendAnnouncement(device: AnnouncedDevice, goodbye: boolean): void {
    const { pointer, details } = serviceRecords(device, goodbye);
    const message = encodeDnsMessage({
      isResponse: true,
      authoritative: true,
      answers: [pointer, ...details],
    });
    this.socket.send(message, MDNS_PORT, MDNS_ADDRESS, () => undefined);
  }

  private answer(question: DnsQuestion): { answers: DnsRecord[]; additionals: DnsRecord[] } {
    const answers: DnsRecord[] = [];
    const additionals: DnsRecord[] = [];
    const name = question.name.toLowerCase();
    const any = question.type === DNS_TYPE.ANY;
    if (
      name === SERVICES_META &&
      (any || question.type === DNS_TYPE.PTR) &&
      this.devices.size > 0
    ) {
      answers.push({
        type: 'PTR',
        name: SERVICES_META,
        ttl: OTHER_TTL,
        target: AXIS_VIDEO_SERVICE,
      });
    }
    for (const device of this.devices.values()) {
      const { pointer, details } = serviceRecords(device);
      if (name === AXIS_VIDEO_SERVICE.toLowerCase() && (any || question.type === DNS_TYPE.PTR)) {
        answers.push(pointer);
        additionals.push(...details);
        continue;
      }
      for (const record of details) {
        const typeMatches = any || question.type === DNS_TYPE[record.type];
        if (typeMatches && record.name.toLowerCase() === name) answers.push(record);
      }
    }
    return { answers, additionals };
  }

  private onMessage(message: Buffer, remote: RemoteInfo): void {
    let query: DnsMessage;
    try {
      query = decodeDnsMessage(message);
    } catch {
      return;
    }
    if (query.isResponse || query.questions.length === 0) return;
    const answers: DnsRecord[] = [];
    const additionals: DnsRecord[] = [];
    for (const question of query.questions) {
      const result = this.answer(question);
      answers.push(...result.answers);
      additionals.push(...result.additionals);
    }
    if (answers.length === 0) return;
    const legacyUnicast = remote.port !== MDNS_PORT;
    const response = encodeDnsMessage({
      id: legacyUnicast ? query.id : 0,
      isResponse: true,
      authoritative: true,
      questions: legacyUnicast ? query.questions : [],
      answers,
      additionals: additionals.filter(
        (record) =>
          !answers.some((answer) => answer.name === record.name && answer.type === record.type),
      ),
    });
    const unicast = legacyUnicast || query.questions.every((question) => question.unicastResponse);
    if (unicast) this.socket.send(response, remote.port, remote.address, () => undefined);
    else this.socket.send(response, MDNS_PORT, MDNS_ADDRESS, () => undefined);
  }
}
