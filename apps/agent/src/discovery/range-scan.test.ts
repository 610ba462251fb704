import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProbeResult } from '@custody/vapix';
import { afterEach, describe, expect, it } from 'vitest';
import { endpointUrl, scanRange } from './range-scan.ts';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))),
  );
});

function result(url: string, fields: Partial<ProbeResult>): ProbeResult {
  return { url, accessState: 'login-failed', identity: null, capabilities: [], ...fields };
}

/** An HTTP server on loopback that challenges every request the way AXIS firmware does. */
async function challengingServer(realm: string): Promise<number> {
  const server = createServer((_request, response) => {
    response.writeHead(401, {
      'WWW-Authenticate': `Digest realm="${realm}", nonce="WuZJmDxdBgA=39fd", algorithm=MD5, qop="auth"`,
      'Content-Type': 'text/html',
    });
    response.end('<html>401</html>');
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('scanRange', () => {
  it('builds http URLs, and https for port 443', () => {
    expect(endpointUrl('10.0.0.1', 80)).toBe('http://10.0.0.1/');
    expect(endpointUrl('10.0.0.1', 443)).toBe('https://10.0.0.1/');
    expect(endpointUrl('10.0.0.1', 8080)).toBe('http://10.0.0.1:8080/');
  });

  it('keeps only endpoints that identify as AXIS, by properties or by realm, and reports progress', async () => {
    const answer = (url: string): ProbeResult => {
      if (url.includes('10.0.0.1')) {
        return result(url, {
          identity: {
            serial: 'B8A44F631339',
            mac: 'B8:A4:4F:63:13:39',
            model: 'P3265-V',
            productName: 'AXIS P3265-V Dome Camera',
            firmware: '12.11.77',
            hardwareId: '931.11',
          },
        });
      }
      if (url.includes('10.0.0.2')) return result(url, { realmSerial: 'ACCC8E012345' });
      if (url.includes('10.0.0.3')) throw new Error('socket exploded');
      return result(url, { accessState: 'unreachable' });
    };
    const progress: number[] = [];
    const { sightings, failures } = await scanRange({
      hosts: ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'],
      ports: [80],
      timeoutMs: 1000,
      concurrency: 2,
      onProgress: ({ done }) => progress.push(done),
      identify: (url) => Promise.resolve().then(() => answer(url)),
    });
    expect(sightings.map((sighting) => [sighting.host, sighting.serial, sighting.model])).toEqual(
      expect.arrayContaining([
        ['10.0.0.1', 'B8A44F631339', 'P3265-V'],
        ['10.0.0.2', 'ACCC8E012345', undefined],
      ]),
    );
    expect(sightings).toHaveLength(2);
    expect(failures).toEqual([{ url: 'http://10.0.0.3/', message: 'socket exploded' }]);
    expect(progress.sort((a, b) => a - b)).toEqual([1, 2, 3, 4]);
  });

  it('hands over each camera as it is found, marked as read from that very address', async () => {
    const found: string[] = [];
    const { sightings } = await scanRange({
      hosts: ['10.0.0.1', '10.0.0.2'],
      ports: [80],
      timeoutMs: 1000,
      onSighting: (sighting) => found.push(sighting.host),
      identify: (url) =>
        Promise.resolve(
          url.includes('10.0.0.1')
            ? result(url, { realmSerial: 'ACCC8E012345' })
            : result(url, { accessState: 'unreachable' }),
        ),
    });
    expect(found).toEqual(['10.0.0.1']);
    expect(sightings).toEqual([expect.objectContaining({ host: '10.0.0.1', verified: true })]);
  });

  it('recognises an AXIS device over a real socket by the realm of its challenge, sending no credentials', async () => {
    const port = await challengingServer('AXIS_ACCC8EF7DE6B');
    const closed = await challengingServer('AXIS_000000000000');
    await new Promise<void>((resolve) => servers.pop()?.close(() => resolve()));
    const { sightings } = await scanRange({
      hosts: ['127.0.0.1'],
      ports: [port, closed],
      timeoutMs: 2000,
    });
    expect(sightings).toEqual([
      {
        source: 'scan',
        serial: 'ACCC8EF7DE6B',
        host: '127.0.0.1',
        port,
        scheme: 'http',
        model: undefined,
        productName: undefined,
        firmware: undefined,
        verified: true,
      },
    ]);
  });
});
