import { describe, expect, it } from 'vitest';
import {
  macFromUsn,
  M_SEARCH,
  parseDeviceDescription,
  parseSsdpMessage,
  sightingFromAnswer,
} from './ssdp-search.ts';

// Reference §1.1: a captured M-SEARCH answer and root description.
const ANSWER = [
  'HTTP/1.1 200 OK',
  'CACHE-CONTROL: max-age=1800',
  'DATE: Sun, 02 Oct 2016 21:11:25 GMT',
  'EXT:',
  'LOCATION: http://192.168.1.102:45895/rootdesc1.xml',
  'OPT: "http://schemas.upnp.org/upnp/1/0/"; ns=01',
  '01-NLS: 8fb2638a-1dd2-11b2-a915-c89968cce2ca',
  'SERVER: Linux/2.6.35, UPnP/1.0, Portable SDK for UPnP devices/1.6.18',
  'X-User-Agent: redsonic',
  'ST: urn:axis-com:service:BasicService:1',
  'USN: uuid:Upnp-BasicDevice-1_0-ACCC8E270AD8::urn:axis-com:service:BasicService:1',
  '',
  '',
].join('\r\n');

const DESCRIPTION = `<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><specVersion><major>1</major><minor>0</minor></specVersion>
 <device><deviceType>urn:schemas-upnp-org:device:Basic:1</deviceType>
  <friendlyName>AXIS M1014 - ACCC8E270AD8</friendlyName><manufacturer>AXIS</manufacturer>
  <modelName>AXIS M1014</modelName><modelNumber>M1014</modelNumber>
  <serialNumber>accc8e270ad8</serialNumber><UDN>uuid:Upnp-BasicDevice-1_0-ACCC8E270AD8</UDN>
  <presentationURL>http://192.168.1.102:80/</presentationURL></device>
 <URLBase>http://192.168.1.102:51578/</URLBase></root>`;

describe('SSDP parsing', () => {
  it('sends the M-SEARCH AXIS tools send, byte for byte', () => {
    expect(M_SEARCH).toBe(
      'M-SEARCH * HTTP/1.1\r\nHost:239.255.255.250:1900\r\nST:urn:axis-com:service:BasicService:1\r\nMan:"ssdp:discover"\r\nMX:3\r\n\r\n',
    );
  });

  it('reads the headers of a captured M-SEARCH answer case-insensitively', () => {
    const parsed = parseSsdpMessage(ANSWER);
    expect(parsed?.headers.ST).toBe('urn:axis-com:service:BasicService:1');
    expect(parsed?.headers.LOCATION).toBe('http://192.168.1.102:45895/rootdesc1.xml');
    expect(parsed?.headers.EXT).toBe('');
  });

  it('ignores datagrams that are not SSDP answers or notifications', () => {
    expect(parseSsdpMessage('M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\n\r\n')).toBeUndefined();
    expect(parseSsdpMessage('\u0000\u0001garbage')).toBeUndefined();
  });

  it('takes the MAC from a USN, and nothing from a USN without one', () => {
    expect(
      macFromUsn('uuid:Upnp-BasicDevice-1_0-accc8e270ad8::urn:axis-com:service:BasicService:1'),
    ).toBe('ACCC8E270AD8');
    expect(
      macFromUsn('uuid:Upnp-BasicDevice-1_0::urn:axis-com:service:BasicService:1'),
    ).toBeUndefined();
  });

  it('reads serial, model and the HTTP address from a captured root description', () => {
    expect(parseDeviceDescription(DESCRIPTION)).toEqual({
      serial: 'ACCC8E270AD8',
      manufacturer: 'AXIS',
      modelNumber: 'M1014',
      modelName: 'AXIS M1014',
      presentationUrl: 'http://192.168.1.102:80/',
    });
  });
});

describe('sightingFromAnswer', () => {
  const headers = parseSsdpMessage(ANSWER)?.headers ?? {};

  it('takes the HTTP port from a presentationURL on the answering host', () => {
    const description = parseDeviceDescription(
      DESCRIPTION.replace('http://192.168.1.102:80/', 'https://192.168.1.102:8443/'),
    );
    expect(sightingFromAnswer({ headers, from: '192.168.1.102' }, description)).toEqual({
      source: 'ssdp',
      serial: 'ACCC8E270AD8',
      host: '192.168.1.102',
      port: 8443,
      scheme: 'https',
      model: 'M1014',
      productName: 'AXIS M1014',
    });
  });

  it('never takes its address from the answer: a presentationURL elsewhere is ignored', () => {
    for (const elsewhere of ['http://10.66.0.1:8080/', 'http://camera.example.com/']) {
      const description = parseDeviceDescription(
        DESCRIPTION.replace('http://192.168.1.102:80/', elsewhere),
      );
      const sighting = sightingFromAnswer({ headers, from: '192.168.1.102' }, description);
      expect(sighting).toMatchObject({ host: '192.168.1.102', serial: 'ACCC8E270AD8' });
      expect(sighting?.port).toBeUndefined();
      expect(sighting?.scheme).toBeUndefined();
    }
  });
});
