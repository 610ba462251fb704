import { CameraSightingSchema } from '@custody/core';
import { describe, expect, it, vi } from 'vitest';
import type { Sighting } from '../discovery/discovered-camera.ts';
import {
  addressSource,
  createInventory,
  type InventoryOutput,
  type PersistedCamera,
} from './inventory.ts';
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
    answer?: (url: string) => ProbeReport | Promise<ProbeReport>;
    concurrency?: number;
    refreshIntervalMs?: number;
    isAllowedHost?: (host: string) => boolean;
    restored?: PersistedCamera[];
    emit?: (output: InventoryOutput) => Promise<void>;
  } = {},
) {
  let clock = START;
  const outputs: InventoryOutput[] = [];
  const probed: { url: string; at: number }[] = [];
  let active = 0;
  let maxActive = 0;
  let sightings = options.sightings ?? [];
  const warnings: string[] = [];
  const inventory = createInventory({
    now: () => new Date(clock),
    refreshIntervalMs: options.refreshIntervalMs ?? 600_000,
    concurrency: options.concurrency ?? 4,
    lostAfterMs: 1_800_000,
    discover: (_signal, found) => {
      found(sightings);
      return Promise.resolve();
    },
    probe: async (url) => {
      probed.push({ url, at: clock });
      active += 1;
      maxActive = Math.max(maxActive, active);
      try {
        await new Promise((resolve) => setImmediate(resolve));
        return await (options.answer ?? ((target) => report(target, SERIAL_A)))(url);
      } finally {
        active -= 1;
      }
    },
    emit:
      options.emit ??
      ((output) => {
        outputs.push(output);
        return Promise.resolve();
      }),
    log: { warn: (message) => warnings.push(message) },
    ...(options.isAllowedHost === undefined ? {} : { isAllowedHost: options.isAllowedHost }),
    ...(options.restored === undefined ? {} : { restored: options.restored }),
  });
  return {
    inventory,
    outputs,
    probed,
    warnings,
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
    await site.inventory.runDiscoveryRound();
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
    const site = setup({
      sightings: [{ source: 'scan', serial: SERIAL_A, host: '10.0.0.5', verified: true }],
    });
    await site.inventory.runDiscoveryRound();
    await site.inventory.tick();
    await site.inventory.flush();
    const first = site.deltas().at(-1)?.upserts[0];
    expect(first).toMatchObject({ model: 'P3265-V', firmware: '11.11.73', accessState: null });
    const sent = site.outputs.length;
    site.advance(1_000);
    await site.inventory.runDiscoveryRound();
    await site.inventory.tick();
    await site.inventory.flush();
    expect(site.outputs.length).toBe(sent);
    expect(site.inventory.cameras()[0]?.model).toBe('P3265-V');
  });

  it('tracks an address change by serial and probes the new address first', async () => {
    let moved = false;
    const site = setup({
      sightings: [{ source: 'mdns', serial: SERIAL_A, host: '10.0.0.5' }],
      answer: (url) =>
        moved && url.includes('10.0.0.5')
          ? { url, accessState: 'unreachable', identity: null, capabilities: [] }
          : report(url, SERIAL_A),
    });
    await site.inventory.runDiscoveryRound();
    await site.inventory.tick();
    await site.inventory.flush();
    moved = true;
    site.setSightings([{ source: 'mdns', serial: SERIAL_A, host: '10.0.0.77' }]);
    site.advance(5_000);
    await site.inventory.runDiscoveryRound();
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
      verified: true,
    }));
    const bySerial = new Map(cameras.map((camera) => [`http://${camera.host}/`, camera.serial]));
    const site = setup({
      sightings: cameras,
      concurrency: 1_000,
      refreshIntervalMs: 100_000,
      answer: (url) => report(url, bySerial.get(url) ?? SERIAL_A),
    });
    await site.inventory.runDiscoveryRound();
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
      verified: true,
    }));
    const site = setup({ sightings: cameras, concurrency: 3 });
    await site.inventory.runDiscoveryRound();
    await Promise.all([site.inventory.tick(), site.inventory.tick(), site.inventory.tick()]);
    expect(site.maxActive).toBeLessThanOrEqual(3);
    const urls = site.probed.map((probe) => probe.url);
    expect(new Set(urls).size).toBe(urls.length);
  });

  it('reports a camera unseen past the threshold as lost once, and as appeared when it returns', async () => {
    const site = setup({
      sightings: [{ source: 'scan', serial: SERIAL_A, host: '10.0.0.5', verified: true }],
      answer: (url) => ({ url, accessState: 'unreachable', identity: null, capabilities: [] }),
    });
    await site.inventory.runDiscoveryRound();
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
    site.setSightings([{ source: 'scan', serial: SERIAL_A, host: '10.0.0.5', verified: true }]);
    await site.inventory.runDiscoveryRound();
    expect(site.events().at(-1)).toMatchObject({ event: 'appeared', serial: SERIAL_A });
  });

  it('re-sends an unchanged camera after the keep-alive so the server sees it alive', async () => {
    const site = setup({
      sightings: [{ source: 'scan', serial: SERIAL_A, host: '10.0.0.5', verified: true }],
    });
    await site.inventory.runDiscoveryRound();
    await site.inventory.flush();
    const before = site.deltas().length;
    site.advance(600_000);
    await site.inventory.runDiscoveryRound();
    await site.inventory.flush();
    expect(site.deltas().length).toBe(before + 1);
  });

  it('splits large deltas and snapshots into frames of at most a thousand cameras', async () => {
    const cameras = Array.from({ length: 2_345 }, (_, index) => ({
      source: 'scan' as const,
      serial: `ACCC8E${index.toString(16).toUpperCase().padStart(6, '0')}`,
      host: `10.${Math.floor(index / 65_536)}.${Math.floor(index / 256) % 256}.${index % 256}`,
      verified: true,
    }));
    const site = setup({ sightings: cameras });
    await site.inventory.runDiscoveryRound();
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
    const site = setup({
      sightings: [{ source: 'scan', serial: SERIAL_B, host: '10.0.0.9', verified: true }],
    });
    const seen: string[] = [];
    const unsubscribe = site.inventory.onSighting((sighting) => seen.push(sighting.serial));
    await site.inventory.runDiscoveryRound();
    await site.inventory.runDiscoveryRound();
    unsubscribe();
    await site.inventory.runDiscoveryRound();
    expect(seen).toEqual([SERIAL_B, SERIAL_B]);
  });

  it('keeps going when discovery or a probe throws', async () => {
    const warnings: string[] = [];
    let fail = true;
    const inventory = createInventory({
      discover: (_signal, found) => {
        if (fail) return Promise.reject(new Error('no multicast route'));
        found([{ source: 'scan', serial: SERIAL_A, host: '10.0.0.5', verified: true }]);
        return Promise.resolve();
      },
      probe: () => Promise.reject(new Error('boom')),
      emit: () => Promise.resolve(),
      log: { warn: (message) => warnings.push(message) },
    });
    await inventory.runDiscoveryRound();
    expect(warnings).toEqual(['discovery failed: no multicast route']);
    expect(inventory.size).toBe(0);
    fail = false;
    await inventory.runDiscoveryRound();
    await inventory.tick();
    expect(warnings.at(-1)).toBe('probe of http://10.0.0.5/ failed: boom');
    await inventory.runDiscoveryRound();
    expect(inventory.urlOf(SERIAL_A)).toBe('http://10.0.0.5/');
  });

  it('keeps sending after the outbox refused a message, and leaves no rejection unhandled', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      let refuse = true;
      const sent: InventoryOutput[] = [];
      const site = setup({
        sightings: [{ source: 'scan', serial: SERIAL_A, host: '10.0.0.5', verified: true }],
        emit: (output) => {
          if (refuse) {
            refuse = false;
            return Promise.reject(new Error('outbox full'));
          }
          sent.push(output);
          return Promise.resolve();
        },
      });
      await site.inventory.runDiscoveryRound();
      site.setSightings([{ source: 'scan', serial: SERIAL_B, host: '10.0.0.6', verified: true }]);
      await site.inventory.runDiscoveryRound();
      await site.inventory.flush();
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(unhandled).toEqual([]);
      expect(site.warnings.join('\n')).toContain('outbox full');
      expect(sent).toContainEqual(expect.objectContaining({ event: 'appeared', serial: SERIAL_B }));
      // The delta that carried nothing yet still goes out with both cameras.
      const upserts = sent.flatMap((output) =>
        output.type === 'inventory-delta' ? output.upserts.map((camera) => camera.serial) : [],
      );
      expect(upserts.sort()).toEqual([SERIAL_A, SERIAL_B]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('sends a delta again when the outbox refused it', async () => {
    let refuse = true;
    const sent: InventoryOutput[] = [];
    const site = setup({
      sightings: [{ source: 'scan', serial: SERIAL_A, host: '10.0.0.5', verified: true }],
      emit: (output) => {
        if (refuse && output.type === 'inventory-delta') {
          refuse = false;
          return Promise.reject(new Error('outbox full'));
        }
        sent.push(output);
        return Promise.resolve();
      },
    });
    await site.inventory.runDiscoveryRound();
    await expect(site.inventory.flush()).rejects.toThrow('outbox full');
    await site.inventory.flush();
    expect(sent.filter((output) => output.type === 'inventory-delta')).toEqual([
      expect.objectContaining({ upserts: [expect.objectContaining({ serial: SERIAL_A })] }),
    ]);
  });

  it('drops a sighting that is not a valid camera and clips over-long text', async () => {
    const site = setup({
      sightings: [
        { source: 'scan', serial: SERIAL_A, host: 'camera-7.local', verified: true },
        {
          source: 'scan',
          serial: SERIAL_B,
          host: '10.0.0.6',
          verified: true,
          productName: `AXIS ${'Q'.repeat(400)}`,
        },
      ],
    });
    await site.inventory.runDiscoveryRound();
    await site.inventory.flush();
    expect(site.inventory.urlOf(SERIAL_A)).toBeUndefined();
    expect(site.warnings.join('\n')).toMatch(/ACCC8E000001.*address/);
    const [camera] = site.inventory.cameras();
    expect(camera?.serial).toBe(SERIAL_B);
    expect(camera?.productName).toHaveLength(200);
    expect(CameraSightingSchema.safeParse(camera).success).toBe(true);
  });

  it('ignores a camera at an address outside the site', async () => {
    const site = setup({
      sightings: [
        { source: 'scan', serial: SERIAL_A, host: '203.0.113.9', verified: true },
        { source: 'scan', serial: SERIAL_B, host: '10.0.0.6', verified: true },
      ],
      isAllowedHost: (host) => host.startsWith('10.'),
    });
    await site.inventory.runDiscoveryRound();
    expect(site.inventory.urlOf(SERIAL_A)).toBeUndefined();
    expect(site.inventory.urlOf(SERIAL_B)).toBe('http://10.0.0.6/');
    expect(site.events().map((event) => event.serial)).toEqual([SERIAL_B]);
  });

  it('adopts an address a multicast answer claims only once a probe there confirms the serial', async () => {
    const site = setup({
      sightings: [
        { source: 'ssdp', serial: SERIAL_A, host: '10.0.0.5' },
        { source: 'mdns', serial: SERIAL_B, host: '10.0.0.9' },
      ],
      // 10.0.0.9 is really camera A's neighbour C: B's claim is false.
      answer: (url) => report(url, url.includes('10.0.0.9') ? 'ACCC8E00000C' : SERIAL_A),
    });
    await site.inventory.runDiscoveryRound();
    expect(site.probed.map((probe) => probe.url).sort()).toEqual([
      'http://10.0.0.5/',
      'http://10.0.0.9/',
    ]);
    expect(site.inventory.urlOf(SERIAL_A)).toBe('http://10.0.0.5/');
    expect(site.inventory.urlOf(SERIAL_B)).toBeUndefined();
    // What the probe read is kept: the model came from it, not from the answer.
    expect(site.inventory.cameras()[0]).toMatchObject({ serial: SERIAL_A, model: 'P3265-V' });
  });

  it('stays at the known address while it still answers when another one claims the serial', async () => {
    const site = setup({
      sightings: [{ source: 'scan', serial: SERIAL_A, host: '10.0.0.5', verified: true }],
    });
    await site.inventory.runDiscoveryRound();
    // Something at 10.0.0.66 answers as A too, round after round, and A still answers at home.
    site.setSightings([{ source: 'scan', serial: SERIAL_A, host: '10.0.0.66', verified: true }]);
    for (let round = 0; round < 3; round += 1) {
      site.advance(60_000);
      await site.inventory.runDiscoveryRound();
    }
    expect(site.inventory.urlOf(SERIAL_A)).toBe('http://10.0.0.5/');
    expect(site.events().map((event) => event.event)).toEqual(['appeared']);
    const claims = site.warnings.filter((warning) => warning.includes('10.0.0.66'));
    expect(claims).toHaveLength(1);
    expect(claims[0]).toMatch(/two devices/);
  });

  it('moves to a new address once the known one no longer answers as that camera', async () => {
    let home: 'A' | 'gone' = 'A';
    const site = setup({
      sightings: [{ source: 'scan', serial: SERIAL_A, host: '10.0.0.5', verified: true }],
      answer: (url) =>
        url.includes('10.0.0.5') && home === 'gone'
          ? { url, accessState: 'unreachable', identity: null, capabilities: [] }
          : report(url, SERIAL_A),
    });
    await site.inventory.runDiscoveryRound();
    home = 'gone';
    site.setSightings([{ source: 'ssdp', serial: SERIAL_A, host: '10.0.0.77' }]);
    site.advance(60_000);
    await site.inventory.runDiscoveryRound();
    expect(site.inventory.urlOf(SERIAL_A)).toBe('http://10.0.0.77/');
    expect(site.events().at(-1)).toMatchObject({
      event: 'address-changed',
      url: 'http://10.0.0.77/',
      previousUrl: 'http://10.0.0.5/',
    });
  });

  it('folds in what each method found as soon as it reports, before the round ends', async () => {
    let finish = () => undefined as void;
    const inventory = createInventory({
      discover: (_signal, found) => {
        found([{ source: 'scan', serial: SERIAL_A, host: '10.0.0.5', verified: true }]);
        return new Promise<void>((resolve) => {
          finish = resolve;
        });
      },
      probe: (url) => Promise.resolve(report(url, SERIAL_A)),
      emit: () => Promise.resolve(),
    });
    const round = inventory.runDiscoveryRound();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(inventory.urlOf(SERIAL_A)).toBe('http://10.0.0.5/');
    expect(inventory.discovered).toBe(false);
    finish();
    await round;
    expect(inventory.discovered).toBe(true);
  });

  it('runs at most one requested discovery round per gap, joining one in progress', async () => {
    let rounds = 0;
    let clock = START;
    const inventory = createInventory({
      now: () => new Date(clock),
      minDiscoveryGapMs: 20_000,
      discover: async () => {
        rounds += 1;
        await new Promise((resolve) => setTimeout(resolve, 5));
      },
      probe: (url) => Promise.resolve(report(url, SERIAL_A)),
      emit: () => Promise.resolve(),
    });
    await Promise.all([inventory.discoverNow(), inventory.discoverNow()]);
    expect(rounds).toBe(1);
    clock += 5_000;
    await inventory.discoverNow();
    expect(rounds).toBe(1);
    clock += 20_000;
    await inventory.discoverNow();
    expect(rounds).toBe(2);
  });

  it('keeps probing the other cameras while one probe hangs', async () => {
    const cameras = Array.from({ length: 6 }, (_, index) => ({
      source: 'scan' as const,
      serial: `ACCC8E0000${(index + 1).toString(16).toUpperCase().padStart(2, '0')}`,
      host: `10.0.0.${index + 1}`,
      verified: true,
    }));
    const bySerial = new Map(cameras.map((camera) => [`http://${camera.host}/`, camera.serial]));
    const site = setup({
      sightings: cameras,
      concurrency: 2,
      answer: (url) =>
        url === 'http://10.0.0.1/'
          ? new Promise<ProbeReport>(() => undefined)
          : report(url, bySerial.get(url) ?? SERIAL_A),
    });
    await site.inventory.runDiscoveryRound();
    void site.inventory.tick();
    await vi.waitFor(() => expect(site.probed).toHaveLength(6), { timeout: 1_000 });
    expect(site.maxActive).toBeLessThanOrEqual(2);
  });

  it('says when its first discovery round is complete, once', async () => {
    const calls: number[] = [];
    const inventory = createInventory({
      discover: () => Promise.resolve(),
      probe: (url) => Promise.resolve(report(url, SERIAL_A)),
      emit: () => Promise.resolve(),
      onFirstRound: () => calls.push(1),
    });
    expect(inventory.discovered).toBe(false);
    await inventory.runDiscoveryRound();
    await inventory.runDiscoveryRound();
    expect(inventory.discovered).toBe(true);
    expect(calls).toEqual([1]);
  });

  it('leaves cameras it reported lost out of the snapshot', async () => {
    const site = setup({
      sightings: [
        { source: 'scan', serial: SERIAL_A, host: '10.0.0.5', verified: true },
        { source: 'scan', serial: SERIAL_B, host: '10.0.0.6', verified: true },
      ],
      answer: (url) => ({ url, accessState: 'unreachable', identity: null, capabilities: [] }),
    });
    await site.inventory.runDiscoveryRound();
    site.setSightings([{ source: 'scan', serial: SERIAL_B, host: '10.0.0.6', verified: true }]);
    site.advance(1_800_000);
    await site.inventory.runDiscoveryRound();
    await site.inventory.tick();
    expect(site.inventory.snapshotParts()).toEqual([
      [expect.objectContaining({ serial: SERIAL_B })],
    ]);
  });

  it('remembers what it knew before a restart: a known camera does not appear again', async () => {
    const first = setup({
      sightings: [{ source: 'scan', serial: SERIAL_A, host: '10.0.0.5', verified: true }],
    });
    await first.inventory.runDiscoveryRound();
    await first.inventory.flush();
    const remembered = first.inventory.persisted();

    const second = setup({
      sightings: [{ source: 'scan', serial: SERIAL_A, host: '10.0.0.5', verified: true }],
      restored: remembered,
    });
    expect(second.inventory.urlOf(SERIAL_A)).toBe('http://10.0.0.5/');
    await second.inventory.runDiscoveryRound();
    await second.inventory.flush();
    expect(second.events()).toEqual([]);
    // Still only sent in the snapshot, which goes out after the first round anyway.
    expect(second.deltas()).toEqual([]);
  });

  it('saves what it knows at most once per interval, only when it changed, and when it stops', async () => {
    vi.useFakeTimers();
    try {
      const saves: PersistedCamera[][] = [];
      let found: Sighting[] = [
        { source: 'scan', serial: SERIAL_A, host: '10.0.0.5', verified: true },
      ];
      const inventory = createInventory({
        discover: (_signal, hand) => {
          hand(found);
          return Promise.resolve();
        },
        probe: (url) => Promise.resolve(report(url, SERIAL_A)),
        emit: () => Promise.resolve(),
        persist: (cameras) => {
          saves.push(cameras);
          return Promise.resolve();
        },
        persistIntervalMs: 30_000,
        discoveryIntervalMs: 3_600_000,
        refreshIntervalMs: 3_600_000,
      });
      inventory.start();
      await vi.advanceTimersByTimeAsync(10_000);
      expect(saves).toEqual([]);
      await vi.advanceTimersByTimeAsync(25_000);
      expect(saves.map((cameras) => cameras.map((camera) => camera.sighting.serial))).toEqual([
        [SERIAL_A],
      ]);
      await vi.advanceTimersByTimeAsync(200_000);
      expect(saves).toHaveLength(1);
      found = [...found, { source: 'scan', serial: SERIAL_B, host: '10.0.0.6', verified: true }];
      await inventory.runDiscoveryRound();
      await inventory.stop();
      expect(saves.map((cameras) => cameras.length)).toEqual([1, 2]);
    } finally {
      vi.useRealTimers();
    }
  });
});
