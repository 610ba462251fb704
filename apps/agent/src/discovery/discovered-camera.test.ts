import { describe, expect, it } from 'vitest';
import { mergeSightings, serialFrom } from './discovered-camera.ts';

describe('mergeSightings', () => {
  it('merges what SSDP, mDNS and the scan saw of one camera into one entry keyed by serial', () => {
    const cameras = mergeSightings([
      {
        source: 'ssdp',
        serial: 'accc8e270ad8',
        host: '10.0.0.5',
        port: 80,
        scheme: 'http',
        model: 'M1014',
      },
      {
        source: 'mdns',
        serial: 'AC:CC:8E:27:0A:D8',
        host: '10.0.0.5',
        port: 80,
        productName: 'AXIS M1014',
      },
      {
        source: 'scan',
        serial: 'ACCC8E270AD8',
        host: '10.0.0.5',
        port: 443,
        scheme: 'https',
        firmware: '9.80.1',
      },
    ]);
    expect(cameras).toEqual([
      {
        serial: 'ACCC8E270AD8',
        mac: 'AC:CC:8E:27:0A:D8',
        model: 'M1014',
        productName: 'AXIS M1014',
        firmware: '9.80.1',
        sources: ['ssdp', 'mdns', 'scan'],
        addresses: [
          { host: '10.0.0.5', port: 80, scheme: 'http', sources: ['ssdp', 'mdns'] },
          { host: '10.0.0.5', port: 443, scheme: 'https', sources: ['scan'] },
        ],
      },
    ]);
  });

  it('keeps a camera seen at two addresses as one camera, and two serials apart', () => {
    const cameras = mergeSightings([
      { source: 'scan', serial: 'B8A44F631339', host: '10.0.0.9', port: 80 },
      { source: 'mdns', serial: 'B8A44F631339', host: '169.254.4.2', port: 80 },
      { source: 'scan', serial: '00408CFB6888', host: '10.0.0.3', port: 80 },
    ]);
    expect(cameras.map((camera) => camera.serial)).toEqual(['00408CFB6888', 'B8A44F631339']);
    expect(cameras[1]?.addresses.map((address) => address.host)).toEqual([
      '10.0.0.9',
      '169.254.4.2',
    ]);
  });

  it('drops sightings whose serial is not 12 hex digits', () => {
    expect(mergeSightings([{ source: 'ssdp', serial: 'not-a-serial', host: '10.0.0.1' }])).toEqual(
      [],
    );
    expect(serialFrom(undefined)).toBeUndefined();
  });
});
