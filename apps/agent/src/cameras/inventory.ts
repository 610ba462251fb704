import type { AccessState, AddressSource, CameraSighting } from '@custody/core';
import { MAX_CAMERAS_PER_FRAME } from '@custody/core';
import { endpointUrl } from '../discovery/range-scan.ts';
import { serialFrom, type Sighting } from '../discovery/discovered-camera.ts';
import type { CameraDirectory } from './camera-directory.ts';
import type { ProbeReport } from './probe-camera.ts';

/** What the inventory hands to the link; each becomes one durable agent message. */
export type InventoryOutput =
  | { type: 'inventory-delta'; upserts: CameraSighting[]; lost: string[] }
  | {
      type: 'discovery-event';
      event: 'appeared' | 'address-changed' | 'lost';
      serial: string;
      url: string;
      previousUrl: string | null;
      via: AddressSource;
    };

export interface InventoryLog {
  warn(message: string): void;
}

export interface InventoryOptions {
  /** One discovery round over the configured methods (SSDP, mDNS, CIDR scan). */
  discover: (signal: AbortSignal) => Promise<Sighting[]>;
  /** An anonymous probe of one camera: read-only, spends no credential attempt. */
  probe: (url: string, signal: AbortSignal) => Promise<ProbeReport>;
  /** Hands a message body to the durable outbox. */
  emit: (output: InventoryOutput) => Promise<void>;
  now?: () => Date;
  discoveryIntervalMs?: number;
  /** Every known camera is probed once per interval, at its own phase within it. */
  refreshIntervalMs?: number;
  /** Probes in flight at once across the site. */
  concurrency?: number;
  /** How often pending changes are sent as one delta. */
  flushIntervalMs?: number;
  /** A camera unseen this long is reported lost (kept, not forgotten). */
  lostAfterMs?: number;
  /** An unchanged camera is re-sent this often, so the server's "last seen" stays fresh. */
  keepAliveMs?: number;
  log?: InventoryLog;
}

export interface Inventory extends CameraDirectory {
  start(): void;
  stop(): Promise<void>;
  /** Runs one discovery round now and folds its sightings in. */
  discoverNow(): Promise<void>;
  /** Starts every probe that is due, within the concurrency limit; resolves when they finish. */
  tick(): Promise<void>;
  /** Sends pending changes now. */
  flush(): Promise<void>;
  /** Every known camera, for the snapshot sent after each (re)connect. */
  cameras(): CameraSighting[];
  /** The snapshot split into frames of at most MAX_CAMERAS_PER_FRAME cameras. */
  snapshotParts(): CameraSighting[][];
  readonly size: number;
}

interface Entry {
  sighting: CameraSighting;
  /** The camera's fixed offset within the refresh interval, so probes spread evenly. */
  phaseMs: number;
  dueAt: number;
  lastSeenAt: number;
  probing: boolean;
  lost: boolean;
  sentKey: string | null;
  sentAt: number;
}

/** FNV-1a: a cheap stable hash to give each serial its phase. */
function phaseOf(serial: string, intervalMs: number): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < serial.length; index += 1) {
    hash ^= serial.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % intervalMs;
}

/** Where an address came from; the factory-default addresses matter while a camera comes back. */
export function addressSource(host: string, via: AddressSource): AddressSource {
  if (host === '192.168.0.90') return 'default-ip';
  if (/^169\.254\./.test(host)) return 'link-local';
  return via;
}

function hostOf(url: string): string {
  const { hostname } = new URL(url);
  return hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
}

function contentKey(sighting: CameraSighting): string {
  const { seenAt: _seenAt, ...content } = sighting;
  return JSON.stringify(content);
}

/** An anonymous probe cannot test credentials: "login-failed" there only means "not tried". */
function anonymousAccessState(report: ProbeReport): AccessState | null {
  if (report.error?.code === 'VAPIX_AUTH_REQUIRED') return null;
  return report.accessState;
}

/**
 * The site's camera inventory, keyed by serial. Discovery rounds find cameras and notice address
 * changes; a scheduler re-probes each known camera once per refresh interval at a phase derived
 * from its serial, so a thousand cameras cost a steady trickle of probes rather than a burst; only
 * what changed since it was last sent goes to the server, batched into deltas.
 */
export function createInventory(options: InventoryOptions): Inventory {
  const now = () => (options.now ?? (() => new Date()))().getTime();
  const discoveryIntervalMs = options.discoveryIntervalMs ?? 300_000;
  const refreshIntervalMs = options.refreshIntervalMs ?? 900_000;
  const concurrency = options.concurrency ?? 4;
  const flushIntervalMs = options.flushIntervalMs ?? 2_000;
  const lostAfterMs = options.lostAfterMs ?? 3 * refreshIntervalMs;
  const keepAliveMs = options.keepAliveMs ?? refreshIntervalMs;
  const entries = new Map<string, Entry>();
  const pending = new Set<string>();
  const lostPending = new Set<string>();
  const listeners = new Set<(sighting: CameraSighting) => void>();
  const inFlight = new Set<Promise<void>>();
  const controller = new AbortController();
  const timers: NodeJS.Timeout[] = [];
  let running = 0;
  let emitting: Promise<void> = Promise.resolve();

  const emit = (output: InventoryOutput) => {
    // Serialised so deltas and events reach the outbox in the order they were decided.
    emitting = emitting.then(() => options.emit(output));
    return emitting;
  };

  const notify = (sighting: CameraSighting) => {
    for (const listener of listeners) {
      try {
        listener(sighting);
      } catch (error) {
        options.log?.warn(`a sighting listener failed: ${(error as Error).message}`);
      }
    }
  };

  const markChanged = (entry: Entry) => {
    const at = now();
    if (contentKey(entry.sighting) !== entry.sentKey || at - entry.sentAt >= keepAliveMs) {
      pending.add(entry.sighting.serial);
    }
  };

  /** Folds one sighting in; returns the events it implies. */
  const observe = (next: CameraSighting, via: AddressSource): void => {
    const existing = entries.get(next.serial);
    const seenAt = Date.parse(next.seenAt);
    if (existing === undefined) {
      const phaseMs = phaseOf(next.serial, refreshIntervalMs);
      const entry: Entry = {
        sighting: next,
        phaseMs,
        dueAt: seenAt,
        lastSeenAt: seenAt,
        probing: false,
        lost: false,
        sentKey: null,
        sentAt: 0,
      };
      entries.set(next.serial, entry);
      void emit({
        type: 'discovery-event',
        event: 'appeared',
        serial: next.serial,
        url: next.url,
        previousUrl: null,
        via,
      });
      pending.add(next.serial);
      notify(next);
      return;
    }
    const previousUrl = existing.sighting.url;
    existing.sighting = {
      ...next,
      // Discovery answers carry less than a probe: keep what a probe learned.
      model: next.model ?? existing.sighting.model,
      productName: next.productName ?? existing.sighting.productName,
      firmware: next.firmware ?? existing.sighting.firmware,
      hardwareId: next.hardwareId ?? existing.sighting.hardwareId,
      mac: next.mac ?? existing.sighting.mac,
      accessState: next.accessState ?? existing.sighting.accessState,
    };
    existing.lastSeenAt = Math.max(existing.lastSeenAt, seenAt);
    if (existing.lost) {
      existing.lost = false;
      lostPending.delete(next.serial);
      void emit({
        type: 'discovery-event',
        event: 'appeared',
        serial: next.serial,
        url: next.url,
        previousUrl: previousUrl === next.url ? null : previousUrl,
        via,
      });
    } else if (previousUrl !== next.url) {
      void emit({
        type: 'discovery-event',
        event: 'address-changed',
        serial: next.serial,
        url: next.url,
        previousUrl,
        via,
      });
      // A camera that moved is probed at its new address soon, not at its next phase.
      existing.dueAt = Math.min(existing.dueAt, now());
    }
    markChanged(existing);
    notify(existing.sighting);
  };

  const fromDiscovery = (sighting: Sighting, at: string): CameraSighting | undefined => {
    const serial = serialFrom(sighting.serial);
    if (serial === undefined) return undefined;
    const scheme = sighting.scheme ?? (sighting.port === 443 ? 'https' : 'http');
    const port = sighting.port ?? (scheme === 'https' ? 443 : 80);
    const url = endpointUrl(sighting.host, port).replace(/^https?:/, `${scheme}:`);
    return {
      serial,
      url,
      address: sighting.host,
      source: addressSource(sighting.host, sighting.source),
      model: sighting.model ?? null,
      productName: sighting.productName ?? null,
      firmware: sighting.firmware ?? null,
      hardwareId: null,
      mac: null,
      accessState: null,
      seenAt: at,
    };
  };

  const checkLost = () => {
    const at = now();
    for (const entry of entries.values()) {
      if (!entry.lost && at - entry.lastSeenAt >= lostAfterMs) {
        entry.lost = true;
        lostPending.add(entry.sighting.serial);
        pending.delete(entry.sighting.serial);
        void emit({
          type: 'discovery-event',
          event: 'lost',
          serial: entry.sighting.serial,
          url: entry.sighting.url,
          previousUrl: null,
          via: entry.sighting.source,
        });
      }
    }
  };

  const probeEntry = async (entry: Entry): Promise<void> => {
    const url = entry.sighting.url;
    let report: ProbeReport;
    try {
      report = await options.probe(url, controller.signal);
    } catch (error) {
      if (controller.signal.aborted) return;
      options.log?.warn(`probe of ${url} failed: ${(error as Error).message}`);
      return;
    }
    const at = new Date(now()).toISOString();
    const serial = report.identity?.serial;
    if (report.accessState === 'unreachable' || serial === undefined) {
      if (entry.sighting.accessState !== 'unreachable' && report.accessState === 'unreachable') {
        entry.sighting = { ...entry.sighting, accessState: 'unreachable' };
        markChanged(entry);
      }
      return;
    }
    const sighting: CameraSighting = {
      serial,
      url,
      address: hostOf(url),
      source: entry.sighting.source,
      model: report.identity?.model ?? null,
      productName: report.identity?.productName ?? null,
      firmware: report.identity?.firmware ?? null,
      hardwareId: report.identity?.hardwareId ?? null,
      mac: report.identity?.mac ?? null,
      accessState: anonymousAccessState(report),
      seenAt: at,
    };
    if (serial !== entry.sighting.serial) {
      // Another camera answers at this address now (DHCP handed it over); this one is not here.
      options.log?.warn(`${url} now answers as ${serial}, not ${entry.sighting.serial}`);
    }
    observe(sighting, entry.sighting.source);
  };

  const tick = async (): Promise<void> => {
    checkLost();
    const at = now();
    const due = [...entries.values()]
      .filter((entry) => !entry.probing && entry.dueAt <= at)
      .sort((a, b) => a.dueAt - b.dueAt);
    const started: Promise<void>[] = [];
    for (const entry of due) {
      if (running >= concurrency || controller.signal.aborted) break;
      running += 1;
      entry.probing = true;
      // The next probe lands on the camera's own phase in a later interval.
      const cycleStart =
        at - ((((at - entry.phaseMs) % refreshIntervalMs) + refreshIntervalMs) % refreshIntervalMs);
      entry.dueAt = cycleStart + refreshIntervalMs;
      const job = probeEntry(entry).finally(() => {
        running -= 1;
        entry.probing = false;
        inFlight.delete(job);
      });
      inFlight.add(job);
      started.push(job);
    }
    await Promise.all(started);
  };

  const flush = async (): Promise<void> => {
    const at = now();
    const upserts: CameraSighting[] = [];
    for (const serial of pending) {
      const entry = entries.get(serial);
      if (entry === undefined || entry.lost) continue;
      upserts.push(entry.sighting);
      entry.sentKey = contentKey(entry.sighting);
      entry.sentAt = at;
    }
    pending.clear();
    const lost = [...lostPending];
    lostPending.clear();
    for (
      let offset = 0;
      offset < Math.max(upserts.length, lost.length);
      offset += MAX_CAMERAS_PER_FRAME
    ) {
      await emit({
        type: 'inventory-delta',
        upserts: upserts.slice(offset, offset + MAX_CAMERAS_PER_FRAME),
        lost: lost.slice(offset, offset + MAX_CAMERAS_PER_FRAME),
      });
    }
    await emitting;
  };

  const discoverNow = async (): Promise<void> => {
    let sightings: Sighting[];
    try {
      sightings = await options.discover(controller.signal);
    } catch (error) {
      if (!controller.signal.aborted) {
        options.log?.warn(`discovery failed: ${(error as Error).message}`);
      }
      return;
    }
    const at = new Date(now()).toISOString();
    for (const found of sightings) {
      const sighting = fromDiscovery(found, at);
      if (sighting !== undefined) observe(sighting, sighting.source);
    }
  };

  const every = (ms: number, run: () => Promise<void>) => {
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      run()
        .catch((error: unknown) => options.log?.warn(`inventory: ${(error as Error).message}`))
        .finally(() => {
          busy = false;
        });
    }, ms);
    timer.unref();
    timers.push(timer);
  };

  return {
    get size() {
      return entries.size;
    },
    urlOf: (serial) => entries.get(serial)?.sighting.url,
    onSighting(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    start() {
      void discoverNow();
      every(discoveryIntervalMs, discoverNow);
      // Ticking a hundred times per interval keeps each probe within 1 % of its phase.
      every(Math.max(250, Math.min(5_000, Math.floor(refreshIntervalMs / 100))), tick);
      every(flushIntervalMs, flush);
    },
    async stop() {
      for (const timer of timers) clearInterval(timer);
      controller.abort();
      await Promise.allSettled([...inFlight]);
      await flush();
    },
    discoverNow,
    tick,
    flush,
    cameras: () => [...entries.values()].map((entry) => entry.sighting),
    snapshotParts() {
      const all = [...entries.values()].map((entry) => entry.sighting);
      const parts: CameraSighting[][] = [];
      for (let offset = 0; offset < all.length; offset += MAX_CAMERAS_PER_FRAME) {
        parts.push(all.slice(offset, offset + MAX_CAMERAS_PER_FRAME));
      }
      return parts.length === 0 ? [[]] : parts;
    },
  };
}
