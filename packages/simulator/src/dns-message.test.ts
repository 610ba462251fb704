import { describe, expect, it } from 'vitest';
import { DNS_TYPE, decodeDnsMessage, encodeDnsMessage } from './dns-message.ts';
import { instanceName, serviceRecords } from './mdns-announcer.ts';

// A PTR query for _axis-video._tcp.local with the unicast-response bit, assembled by hand from
// RFC 1035 §4.1 and RFC 6762 §5.4.
const QUERY = Buffer.from([
  0x00,
  0x00,
  0x00,
  0x00,
  0x00,
  0x01,
  0x00,
  0x00,
  0x00,
  0x00,
  0x00,
  0x00,
  0x0b,
  ...Buffer.from('_axis-video'),
  0x04,
  ...Buffer.from('_tcp'),
  0x05,
  ...Buffer.from('local'),
  0x00,
  0x00,
  0x0c,
  0x80,
  0x01,
]);

// An answer whose PTR target uses a compression pointer back to the question name (offset 12).
const COMPRESSED_ANSWER = Buffer.from([
  0x00,
  0x00,
  0x84,
  0x00,
  0x00,
  0x01,
  0x00,
  0x01,
  0x00,
  0x00,
  0x00,
  0x00,
  0x05,
  ...Buffer.from('_http'),
  0x04,
  ...Buffer.from('_tcp'),
  0x05,
  ...Buffer.from('local'),
  0x00,
  0x00,
  0x0c,
  0x00,
  0x01,
  0xc0,
  0x0c,
  0x00,
  0x0c,
  0x00,
  0x01,
  0x00,
  0x00,
  0x00,
  0x78,
  0x00,
  0x07,
  0x04,
  ...Buffer.from('cam1'),
  0xc0,
  0x0c,
]);

const device = {
  serial: 'B8A44F0A98A1',
  model: 'M2026-LE Mk II',
  address: '10.9.8.7',
  httpPort: 80,
  upnpPort: 49152,
  ssdpServer: 'Linux',
};

describe('DNS messages', () => {
  it('decodes a hand-assembled mDNS question with the QU bit', () => {
    const message = decodeDnsMessage(QUERY);
    expect(message.isResponse).toBe(false);
    expect(message.questions).toEqual([
      { name: '_axis-video._tcp.local', type: DNS_TYPE.PTR, unicastResponse: true },
    ]);
  });

  it('follows compression pointers', () => {
    const message = decodeDnsMessage(COMPRESSED_ANSWER);
    expect(message.answers).toEqual([
      {
        type: 'PTR',
        name: '_http._tcp.local',
        ttl: 120,
        cacheFlush: false,
        target: 'cam1._http._tcp.local',
      },
    ]);
  });

  it('rejects a pointer loop instead of hanging', () => {
    const loop = Buffer.from([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1, 0, 1]);
    expect(() => decodeDnsMessage(loop)).toThrow(RangeError);
  });

  it('encodes the AXIS service records byte for byte where the wire format is fixed', () => {
    const { pointer, details } = serviceRecords(device);
    const encoded = encodeDnsMessage({
      isResponse: true,
      authoritative: true,
      answers: [pointer, ...details],
    });
    expect([...encoded.subarray(0, 12)]).toEqual([0, 0, 0x84, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
    expect(encoded.includes(Buffer.from('\x17macaddress=B8A44F0A98A1'))).toBe(true);
    expect(encoded.includes(Buffer.from([0x0a, 0x09, 0x08, 0x07]))).toBe(true);
    const decoded = decodeDnsMessage(encoded);
    expect(decoded.answers).toEqual([
      {
        type: 'PTR',
        name: '_axis-video._tcp.local',
        ttl: 4500,
        cacheFlush: false,
        target: instanceName(device),
      },
      {
        type: 'SRV',
        name: 'AXIS M2026-LE Mk II - B8A44F0A98A1._axis-video._tcp.local',
        ttl: 120,
        cacheFlush: true,
        priority: 0,
        weight: 0,
        port: 80,
        target: 'axis-b8a44f0a98a1.local',
      },
      {
        type: 'TXT',
        name: instanceName(device),
        ttl: 4500,
        cacheFlush: true,
        entries: ['macaddress=B8A44F0A98A1'],
      },
      {
        type: 'A',
        name: 'axis-b8a44f0a98a1.local',
        ttl: 120,
        cacheFlush: true,
        address: '10.9.8.7',
      },
    ]);
  });

  it('says goodbye with TTL 0', () => {
    const { pointer, details } = serviceRecords(device, true);
    expect([pointer, ...details].map((record) => record.ttl)).toEqual([0, 0, 0, 0]);
  });
});
