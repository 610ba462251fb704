import { describe, expect, it } from 'vitest';
import type { Sighting } from '../discovery/discovered-camera.ts';
import { addressSource, createInventory, type InventoryOutput } from './inventory.ts';
import type { ProbeReport } from './probe-camera.ts';

const SERIAL_A = 'ACCC8E000001';
const SERIAL_B = 'ACCC8E000002';
const START = Date.parse('2026-11-23T10:00:00Z');

function report(url: string, serial: string, overrides: Partial<ProbeReport> = {}): ProbeReport {
  return {
    url,
    accessState: 'login-failed',
    identity: {
      serial,
      mac: 'AC:CC:8E:00:00:01',
      model: 'P3265-V',
      productName: 'AXIS P3265-V Dome Camera',
      firmware: '11.11.73',
      hardwareId: '9A1',
    },
    capabilities: [],
    error: { code: 'VAPIX_AUTH_REQUIRED', message: 'no credentials were given to test' },
    ...overrides,
  };
}

function setup(
  options: {
    sightings?: Sighting[];
    answer?: (url: string) => ProbeReport;
    concurrency?: number;
    refreshIntervalMs?: number;
  } = {},
) {
  let clock = START;
  const outputs: InventoryOutput[] = [];
  const probed: { url: string; at: number }[] = [];
  let active = 0;
  let maxActive = 0;
  let sightings = options.sightings ?? [];
  const inventory = createInventory({
    now: () => new Date(clock),
    refreshIntervalMs: options.refreshIntervalMs ?? 600_000,
    concurrency: options.concurrency ?? 4,
    lostAfterMs: 1_800_000,
    discover: () => Promise.resolve(sightings),
    probe: async (url) => {
      probed.push({ url, at: clock });
      active += 1;
      maxActive = Math.max(maxActive, active);
      await new Promise((resolve) => setImmediate(resolve));
      active -= 1;
      return (options.answer ?? ((target) => report(target, SERIAL_A)))(url);
    },
    emit: (output) => {
      outputs.push(output);
      return Promise.resolve();
    },
  });
  return {
    inventory,
    outputs,
    probed,
    get maxActive() {
      return maxActive;
    },
    advance(ms: number) {
      clock += ms;
    },
    setSightings(next: Sighting[]) {
      sightings = next;
    },
    deltas: () =>
      outputs.filter(
        (output): output is Extract<InventoryOutput, { type: 'inventory-delta' }> =>
          output.type === 'inventory-delta',
      ),
    events: () =>
      outputs.filter(
        (output): output is Extract<InventoryOutput, { type: 'discovery-event' }> =>
          output.type === 'discovery-event',
      ),
  };
}

describe('createInventory', () => {
  it('reports a newly discovered camera once as appeared and sends it in the next delta', async () => {
    const site = setup({
      sightings: [{ source: 'ssdp', serial: 'accc8e000001', host: '10.0.0.5' }],
    });
    await site.inventory.discoverNow();
    await site.inventory.flush();
    expect(site.events()).toEqual([
      {
        type: 'discovery-event',
        event: 'appeared',
        serial: SERIAL_A,
        url: 'http://10.0.0.5/',
        previousUrl: null,
        via: 'ssdp',
      },
    ]);
    expect(site.deltas()).toHaveLength(1);
    expect(site.deltas()[0]?.upserts.map((camera) => camera.serial)).toEqual([SERIAL_A]);
    expect(site.inventory.urlOf(SERIAL_A)).toBe('http://10.0.0.5/');
  });

  it('keeps what a probe learned and sends nothing when a later round finds nothing new', async () => {
    const site = setup({ sightings: [{ source: 'scan', serial: SERIAL_A, host: '10.0.0.5' }] });
    await site.inventory.discoverNow();
    await site.inventory.tick();
    await site.inventory.flush();
    const first = site.deltas().at(-1)?.upserts[0];
    expect(first).toMatchObject({ model: 'P3265-V', firmware: '11.11.73', accessState: null });
    const sent = site.outputs.length;
    site.advance(1_000);
    await site.inventory.discoverNow();
    await site.inventory.tick();
    await site.inventory.flush();
    expect(site.outputs.length).toBe(sent);
    expect(site.inventory.cameras()[0]?.model).toBe('P3265-V');
  });

  it('tracks an address change by serial and probes the new address first', async () => {
    const site = setup({
      sightings: [{ source: 'mdns', serial: SERIAL_A, host: '10.0.0.5' }],
      answer: (url) => report(url, SERIAL_A),
    });
    await site.inventory.discoverNow();
    await site.inventory.tick();
    await site.inventory.flush();
    site.setSightings([{ source: 'mdns', serial: SERIAL_A, host: '10.0.0.77' }]);
    site.advance(5_000);
    await site.inventory.discoverNow();
    expect(site.events().at(-1)).toEqual({
      type: 'discovery-event',
      event: 'address-changed',
      serial: SERIAL_A,
      url: 'http://10.0.0.77/',
      previousUrl: 'http://10.0.0.5/',
      via: 'mdns',
    });
    await site.inventory.tick();
    expect(site.probed.at(-1)?.url).toBe('http://10.0.0.77/');
    await site.inventory.flush();
    expect(site.deltas().at(-1)?.upserts[0]).toMatchObject({
      url: 'http://10.0.0.77/',
      address: '10.0.0.77',
    });
    expect(site.inventory.urlOf(SERIAL_A)).toBe('http://10.0.0.77/');
  });

  it('spreads refresh probes over the interval instead of probing every camera at once', async () => {
    const cameras = Array.from({ length: 200 }, (_, index) => ({
      source: 'scan' as const,
      serial: `ACCC8E${index.toString(16).toUpperCase().padStart(6, '0')}`,
      host: `10.0.${Math.floor(index / 250)}.${(index % 250) + 1}`,
    }));
    const bySerial = new Map(cameras.map((camera) => [`http://${camera.host}/`, camera.serial]));
    const site = setup({
      sightings: cameras,
      concurrency: 1_000,
      refreshIntervalMs: 100_000,
      answer: (url) => report(url, bySerial.get(url) ?? SERIAL_A),
    });
    await site.inventory.discoverNow();
    await site.inventory.tick();
    expect(site.probed).toHaveLength(200);
    const firstRound = site.probed.length;
    // Walk one whole interval in ten slices and count the probes in each.
    const perSlice: number[] = [];
    for (let slice = 0; slice < 10; slice += 1) {
      const before = site.probed.length;
      for (let step = 0; step < 10; step += 1) {
        site.advance(1_000);
        await site.inventory.tick();
      }
      perSlice.push(site.probed.length - before);
    }
    expect(site.probed.length - firstRound).toBe(200);
    // A uniform spread puts 20 in each slice; a burst would put 200 in one.
    expect(Math.max(...perSlice)).toBeLessThanOrEqual(45);
    expect(Math.min(...perSlice)).toBeGreaterThanOrEqual(5);
  });

  it('never runs more probes at once than its concurrency, nor two on one camera', async () => {
    const cameras = Array.from({ length: 30 }, (_, index) => ({
      source: 'scan' as const,
      serial: `ACCC8E0000${index.toString(16).toUpperCase().padStart(2, '0')}`,
      host: `10.0.0.${index + 1}`,
    }));
    const site = setup({ sightings: cameras, concurrency: 3 });
    await site.inventory.discoverNow();
    await Promise.all([site.inventory.tick(), site.inventory.tick(), site.inventory.tick()]);
    expect(site.maxActive).toBeLessThanOrEqual(3);
    const urls = site.probed.map((probe) => probe.url);
    expect(new Set(urls).size).toBe(urls.length);
  });

  it('reports a camera unseen past the threshold as lost once, and as appeared when it returns', async () => {
    const site = setup({
      sightings: [{ source: 'scan', serial: SERIAL_A, host: '10.0.0.5' }],
      answer: (url) => ({ url, accessState: 'unreachable', identity: null, capabilities: [] }),
    });
    await site.inventory.discoverNow();
    await site.inventory.flush();
    site.setSightings([]);
    site.advance(1_800_000);
    await site.inventory.tick();
    await site.inventory.tick();
    await site.inventory.flush();
    expect(site.events().filter((event) => event.event === 'lost')).toHaveLength(1);
    expect(site.deltas().at(-1)).toEqual({
      type: 'inventory-delta',
      upserts: [],
      lost: [SERIAL_A],
    });
    site.setSightings([{ source: 'scan', serial: SERIAL_A, host: '10.0.0.5' }]);
    await site.inventory.discoverNow();
    expect(site.events().at(-1)).toMatchObject({ event: 'appeared', serial: SERIAL_A });
  });

  it('re-sends an unchanged camera after the keep-alive so the server sees it alive', async () => {
    const site = setup({ sightings: [{ source: 'scan', serial: SERIAL_A, host: '10.0.0.5' }] });
    await site.inventory.discoverNow();
    await site.inventory.flush();
    const before = site.deltas().length;
    site.advance(600_000);
    await site.inventory.discoverNow();
    await site.inventory.flush();
    expect(site.deltas().length).toBe(before + 1);
  });

  it('splits large deltas and snapshots into frames of at most a thousand cameras', async () => {
    const cameras = Array.from({ length: 2_345 }, (_, index) => ({
      source: 'scan' as const,
      serial: `ACCC8E${index.toString(16).toUpperCase().padStart(6, '0')}`,
      host: `10.${Math.floor(index / 65_536)}.${Math.floor(index / 256) % 256}.${index % 256}`,
    }));
    const site = setup({ sightings: cameras });
    await site.inventory.discoverNow();
    await site.inventory.flush();
    expect(site.deltas().map((delta) => delta.upserts.length)).toEqual([1_000, 1_000, 345]);
    expect(site.inventory.snapshotParts().map((part) => part.length)).toEqual([1_000, 1_000, 345]);
  });

  it('records a camera at 192.168.0.90 or a link-local address by that source', () => {
    expect(addressSource('192.168.0.90', 'scan')).toBe('default-ip');
    expect(addressSource('169.254.12.7', 'mdns')).toBe('link-local');
    expect(addressSource('10.1.1.1', 'ssdp')).toBe('ssdp');
  });

  it('tells sighting listeners about every sighting until they unsubscribe', async () => {
    const site = setup({ sightings: [{ source: 'scan', serial: SERIAL_B, host: '10.0.0.9' }] });
    const seen: string[] = [];
    const unsubscribe = site.inventory.onSighting((sighting) => seen.push(sighting.serial));
    await site.inventory.discoverNow();
    await site.inventory.discoverNow();
    unsubscribe();
    await site.inventory.discoverNow();
    expect(seen).toEqual([SERIAL_B, SERIAL_B]);
  });

  it('keeps going when discovery or a probe throws', async () => {
    const warnings: string[] = [];
    const inventory = createInventory({
      discover: () => Promise.reject(new Error('no multicast route')),
      probe: () => Promise.reject(new Error('boom')),
      emit: () => Promise.resolve(),
      log: { warn: (message) => warnings.push(message) },
    });
    await inventory.discoverNow();
    await inventory.tick();
    expect(warnings).toEqual(['discovery failed: no multicast route']);
    expect(inventory.size).toBe(0);
  });
});
