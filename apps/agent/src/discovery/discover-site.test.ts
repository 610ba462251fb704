import { describe, expect, it } from 'vitest';
import type { AgentConfig } from '../env.ts';
import { discoverSite } from './discover-site.ts';

const DISCOVERY: AgentConfig['discovery'] = {
  cidrs: ['10.9.0.0/30'],
  ports: [80, 443],
  ssdp: true,
  mdns: false,
  interfaceAddress: '10.9.0.1',
  intervalMs: 60_000,
};

describe('discoverSite', () => {
  it('runs only the configured methods and merges what they saw', async () => {
    const calls: string[] = [];
    const warnings: string[] = [];
    const sightings = await discoverSite({
      discovery: DISCOVERY,
      probeTimeoutMs: 1_000,
      concurrency: 4,
      signal: new AbortController().signal,
      warn: (message) => warnings.push(message),
      methods: {
        scanRange: (options) => {
          calls.push(`scan ${options.hosts.join(',')} ports ${options.ports.join(',')}`);
          return Promise.resolve({
            sightings: [{ source: 'scan', serial: 'ACCC8E000001', host: '10.9.0.1', port: 80 }],
            failures: [],
          });
        },
        searchSsdp: (options) => {
          calls.push(`ssdp via ${options.interfaceAddress}`);
          return Promise.resolve([{ source: 'ssdp', serial: 'ACCC8E000002', host: '10.9.0.2' }]);
        },
        browseMdns: () => {
          calls.push('mdns');
          return Promise.resolve([]);
        },
      },
    });
    expect(calls.sort()).toEqual(['scan 10.9.0.1,10.9.0.2 ports 80,443', 'ssdp via 10.9.0.1']);
    expect(sightings.map((sighting) => sighting.serial).sort()).toEqual([
      'ACCC8E000001',
      'ACCC8E000002',
    ]);
    expect(warnings).toEqual([]);
  });

  it('reports a failing method and still returns the others', async () => {
    const warnings: string[] = [];
    const sightings = await discoverSite({
      discovery: { ...DISCOVERY, cidrs: [] },
      probeTimeoutMs: 1_000,
      concurrency: 4,
      signal: new AbortController().signal,
      warn: (message) => warnings.push(message),
      methods: {
        searchSsdp: () => Promise.reject(new Error('no route to 239.255.255.250')),
      },
    });
    expect(sightings).toEqual([]);
    expect(warnings).toEqual(['SSDP search failed: no route to 239.255.255.250']);
  });

  it('hands over the sightings of each method as soon as that method is done', async () => {
    const batches: string[][] = [];
    let finishScan = () => undefined as void;
    const done = discoverSite({
      discovery: DISCOVERY,
      probeTimeoutMs: 1_000,
      concurrency: 4,
      signal: new AbortController().signal,
      warn: () => undefined,
      onSightings: (batch) => batches.push(batch.map((sighting) => sighting.serial)),
      methods: {
        scanRange: () =>
          new Promise((resolve) => {
            finishScan = () =>
              resolve({
                sightings: [{ source: 'scan', serial: 'ACCC8E000001', host: '10.9.0.1', port: 80 }],
                failures: [],
              });
          }),
        searchSsdp: () =>
          Promise.resolve([{ source: 'ssdp', serial: 'ACCC8E000002', host: '10.9.0.2' }]),
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(batches).toEqual([['ACCC8E000002']]);
    finishScan();
    await done;
    expect(batches).toEqual([['ACCC8E000002'], ['ACCC8E000001']]);
  });
});
