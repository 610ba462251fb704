import type { AccessState, AddressSource, CameraSighting } from '@custody/core';
import { CameraSightingSchema, MAX_CAMERAS_PER_FRAME } from '@custody/core';
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

/** One camera as the inventory remembers it across restarts (see persist). */
export interface PersistedCamera {
  sighting: CameraSighting;
  lastSeenAt: number;
  lost: boolean;
  /** What was last sent for it, so an unchanged camera is not sent again after a restart. */
  sentKey: string | null;
  sentAt: number;
}

export interface InventoryOptions {
  /**
   * One discovery round over the configured methods (SSDP, mDNS, CIDR scan), handing sightings to
   * `found` as each method reports them; resolves when the round is over.
   */
  discover: (signal: AbortSignal, found: (batch: Sighting[]) => void) => Promise<void>;
  /**
   * An anonymous probe of one address: read-only, spends no credential attempt. `serial` is the
   * camera expected there, whose certificate pin applies; undefined for an address not yet known.
   */
  probe: (url: string, signal: AbortSignal, serial: string | undefined) => Promise<ProbeReport>;
  /** Hands a message body to the durable outbox. */
  emit: (output: InventoryOutput) => Promise<void>;
  /**
   * Whether an address may be a camera's (the site's ranges, link-local, 192.168.0.90): a discovery
   * answer naming any other is ignored. Default: every address.
   */
  isAllowedHost?: (host: string) => boolean;
  /** Cameras known before a restart, so they are not reported as appeared again. */
  restored?: readonly PersistedCamera[];
  /** Saves what the inventory knows; called at most once per persistIntervalMs, and on stop. */
  persist?: (cameras: PersistedCamera[]) => Promise<void>;
  persistIntervalMs?: number;
  /** Called once, when the first discovery round has completed. */
  onFirstRound?: () => void;
  now?: () => Date;
  discoveryIntervalMs?: number;
  /** discoverNow() starts no round sooner than this after the previous one started. */
  minDiscoveryGapMs?: number;
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
  /** Runs one discovery round now (or joins the one running) and folds its sightings in. */
  runDiscoveryRound(): Promise<void>;
  /** Starts every due probe the pool has room for; resolves once the pool is idle. */
  tick(): Promise<void>;
  /** Sends pending changes now; rejects when the outbox refused them (they are kept for later). */
  flush(): Promise<void>;
  /** Every known camera, lost ones included. */
  cameras(): CameraSighting[];
  /** The snapshot sent after each welcome: cameras not lost, in frames of at most 1,000. */
  snapshotParts(): CameraSighting[][];
  /** What `persist` is given: everything needed to pick up after a restart. */
  persisted(): PersistedCamera[];
  /** Whether a discovery round has completed since the start: until then a snapshot would lie. */
  readonly discovered: boolean;
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

/** A sighting from discovery, checked and in the protocol's shape. */
interface Candidate {
  sighting: CameraSighting;
  via: AddressSource;
  /** Read over plain HTTP from that very address (a scan): no further probe needed. */
  verified: boolean;
}

const TEXT_LIMITS = {
  model: 200,
  productName: 200,
  firmware: 200,
  hardwareId: 200,
  mac: 32,
} as const;

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

function clipText(text: string | null, max: number): string | null {
  return text === null || text.length <= max ? text : text.slice(0, max);
}

/**
 * The site's camera inventory, keyed by serial. Discovery rounds find cameras and notice address
 * changes; a pool of workers re-probes each known camera once per refresh interval at a phase
 * derived from its serial, so a thousand cameras cost a steady trickle of probes rather than a
 * burst, and one slow camera holds up only its own worker; only what changed since it was last
 * sent goes to the server, batched into deltas.
 *
 * A discovery answer is a claim. An address is adopted as a camera's only when it is on the site
 * (isAllowedHost) and a probe there read that serial (a range scan is such a probe); a camera that
 * still answers at its known address keeps it even when a second device claims its serial.
 */
export function createInventory(options: InventoryOptions): Inventory {
  const now = () => (options.now ?? (() => new Date()))().getTime();
  const discoveryIntervalMs = options.discoveryIntervalMs ?? 300_000;
  const minDiscoveryGapMs = options.minDiscoveryGapMs ?? 20_000;
  const refreshIntervalMs = options.refreshIntervalMs ?? 900_000;
  const concurrency = options.concurrency ?? 4;
  const flushIntervalMs = options.flushIntervalMs ?? 2_000;
  const persistIntervalMs = options.persistIntervalMs ?? 30_000;
  const lostAfterMs = options.lostAfterMs ?? 3 * refreshIntervalMs;
  const keepAliveMs = options.keepAliveMs ?? refreshIntervalMs;
  const isAllowedHost = options.isAllowedHost ?? (() => true);
  const warn = (message: string) => options.log?.warn(message);
  const entries = new Map<string, Entry>();
  const pending = new Set<string>();
  const lostPending = new Set<string>();
  const listeners = new Set<(sighting: CameraSighting) => void>();
  const inFlight = new Set<Promise<void>>();
  const idleWaiters: (() => void)[] = [];
  /** Serial and address pairs already warned about, so a persistent conflict is said once. */
  const warned = new Set<string>();
  const controller = new AbortController();
  const timers: NodeJS.Timeout[] = [];
  let active = 0;
  let emitting: Promise<void> = Promise.resolve();
  let round: Promise<void> | undefined;
  let lastRoundStartedAt: number | undefined;
  let discovered = false;
  let dirty = false;
  let saving: Promise<void> = Promise.resolve();

  const warnOnce = (key: string, message: string) => {
    if (warned.has(key)) return;
    warned.add(key);
    warn(message);
  };

  /**
   * Serialised so deltas and events reach the outbox in the order they were decided. The chain
   * itself never rejects (a failure is logged and the next message still goes); the promise
   * returned is this message's own outcome.
   */
  const emit = (output: InventoryOutput): Promise<void> => {
    const sent = emitting.then(() => options.emit(output));
    emitting = sent.catch((error: unknown) =>
      warn(`could not queue ${output.type}: ${(error as Error).message}`),
    );
    return sent;
  };
  /** For events nobody waits on: the chain has logged a failure already. */
  const post = (output: InventoryOutput): void => {
    emit(output).catch(() => undefined);
  };

  const notify = (sighting: CameraSighting) => {
    for (const listener of listeners) {
      try {
        listener(sighting);
      } catch (error) {
        warn(`a sighting listener failed: ${(error as Error).message}`);
      }
    }
  };

  /** The sighting as the protocol takes it: over-long text clipped, anything else invalid dropped. */
  const validated = (sighting: CameraSighting): CameraSighting | undefined => {
    const clipped: CameraSighting = { ...sighting };
    for (const [field, max] of Object.entries(TEXT_LIMITS) as [
      keyof typeof TEXT_LIMITS,
      number,
    ][]) {
      clipped[field] = clipText(clipped[field], max);
    }
    const parsed = CameraSightingSchema.safeParse(clipped);
    if (parsed.success) return parsed.data;
    const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.')))];
    warnOnce(
      `invalid ${sighting.serial} ${sighting.url}`,
      `ignoring a sighting of ${sighting.serial} at ${sighting.address.slice(0, 100)}: not a valid camera (${fields.join(', ')})`,
    );
    return undefined;
  };

  const markChanged = (entry: Entry) => {
    dirty = true;
    const at = now();
    if (contentKey(entry.sighting) !== entry.sentKey || at - entry.sentAt >= keepAliveMs) {
      pending.add(entry.sighting.serial);
    }
  };

  /** Folds one confirmed sighting in, with the events it implies. */
  const observe = (next: CameraSighting, via: AddressSource): void => {
    const existing = entries.get(next.serial);
    const seenAt = Date.parse(next.seenAt);
    dirty = true;
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
      post({
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
      post({
        type: 'discovery-event',
        event: 'appeared',
        serial: next.serial,
        url: next.url,
        previousUrl: previousUrl === next.url ? null : previousUrl,
        via,
      });
    } else if (previousUrl !== next.url) {
      post({
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

  const fromProbe = (
    url: string,
    report: ProbeReport,
    source: AddressSource,
  ): CameraSighting | undefined => {
    const serial = report.identity?.serial;
    if (serial === undefined) return undefined;
    return validated({
      serial,
      url,
      address: hostOf(url),
      source,
      model: report.identity?.model ?? null,
      productName: report.identity?.productName ?? null,
      firmware: report.identity?.firmware ?? null,
      hardwareId: report.identity?.hardwareId ?? null,
      mac: report.identity?.mac ?? null,
      accessState: anonymousAccessState(report),
      seenAt: new Date(now()).toISOString(),
    });
  };

  const candidateOf = (found: Sighting, at: string): Candidate | undefined => {
    const serial = serialFrom(found.serial);
    if (serial === undefined) return undefined;
    const scheme = found.scheme ?? (found.port === 443 ? 'https' : 'http');
    const port = found.port ?? (scheme === 'https' ? 443 : 80);
    const url = endpointUrl(found.host, port).replace(/^https?:/, `${scheme}:`);
    const source = addressSource(found.host, found.source);
    const sighting = validated({
      serial,
      url,
      address: found.host,
      source,
      model: found.model ?? null,
      productName: found.productName ?? null,
      firmware: found.firmware ?? null,
      hardwareId: null,
      mac: null,
      accessState: null,
      seenAt: at,
    });
    if (sighting === undefined) return undefined;
    // Over https the scan accepted any certificate; the probe checks it against the pin.
    return { sighting, via: source, verified: found.verified === true && scheme === 'http' };
  };

  /** The camera as a probe at its known address reads it, when it still answers there. */
  const stillAt = async (entry: Entry): Promise<CameraSighting | undefined> => {
    const { url, serial, source } = entry.sighting;
    try {
      const report = await options.probe(url, controller.signal, serial);
      return report.identity?.serial === serial ? fromProbe(url, report, source) : undefined;
    } catch {
      return undefined;
    }
  };

  /** The candidate confirmed by a probe at its address, with what the probe read. */
  const confirm = async (candidate: Candidate): Promise<CameraSighting | undefined> => {
    if (candidate.verified) return candidate.sighting;
    const { url, serial } = candidate.sighting;
    let report: ProbeReport;
    try {
      report = await options.probe(url, controller.signal, serial);
    } catch (error) {
      if (!controller.signal.aborted) warn(`probe of ${url} failed: ${(error as Error).message}`);
      return undefined;
    }
    const answered = report.identity?.serial;
    if (answered !== serial) {
      if (answered !== undefined) {
        warnOnce(
          `claim ${serial} ${url}`,
          `a discovery answer placed ${serial} at ${url}, but the device there is ${answered}; ignored`,
        );
      }
      return undefined;
    }
    return fromProbe(url, report, candidate.via);
  };

  /** Decides where one serial is, from what one method of a round saw of it. */
  const foldSerial = async (serial: string, candidates: Candidate[]): Promise<void> => {
    const entry = entries.get(serial);
    const home = entry?.sighting.url;
    const atHome = candidates.find((candidate) => candidate.sighting.url === home);
    if (entry !== undefined && atHome !== undefined) {
      observe(atHome.sighting, atHome.via);
      for (const other of candidates) {
        if (other !== atHome && other.verified) {
          warnOnce(
            `conflict ${serial} ${other.sighting.url}`,
            `two devices claim serial ${serial}: ${home} (kept) and ${other.sighting.url}`,
          );
        }
      }
      return;
    }
    for (const candidate of candidates) {
      const { address, url } = candidate.sighting;
      if (!isAllowedHost(address)) {
        warnOnce(
          `outside ${serial} ${url}`,
          `ignoring a sighting of ${serial} at ${url}: the address is outside the site's ranges`,
        );
        continue;
      }
      const confirmed = await confirm(candidate);
      if (confirmed === undefined || controller.signal.aborted) continue;
      const known = entries.get(serial);
      // Moving a camera that still answers at home would flap between two devices claiming one
      // serial (a clone, a spoofer, or one camera with two addresses): it stays, and it is said.
      if (known !== undefined && !known.lost && known.sighting.url !== url) {
        const home = await stillAt(known);
        if (home !== undefined) {
          warnOnce(
            `conflict ${serial} ${url}`,
            `two devices claim serial ${serial}: ${known.sighting.url} (kept, it still answers) and ${url}`,
          );
          observe(home, home.source);
          return;
        }
      }
      observe(confirmed, candidate.via);
      return;
    }
  };

  /** Folds one method's sightings in, a serial at a time per worker. */
  const foldBatch = async (batch: Sighting[]): Promise<void> => {
    const at = new Date(now()).toISOString();
    const bySerial = new Map<string, Candidate[]>();
    for (const found of batch) {
      const candidate = candidateOf(found, at);
      if (candidate === undefined) continue;
      const list = bySerial.get(candidate.sighting.serial) ?? [];
      if (!list.some((other) => other.sighting.url === candidate.sighting.url))
        list.push(candidate);
      bySerial.set(candidate.sighting.serial, list);
    }
    const work = [...bySerial];
    const worker = async () => {
      for (let next = work.shift(); next !== undefined; next = work.shift()) {
        if (controller.signal.aborted) return;
        // Probe-confirmed sightings first: they need no further probe.
        const [serial, candidates] = next;
        await foldSerial(
          serial,
          candidates.sort((a, b) => Number(b.verified) - Number(a.verified)),
        );
      }
    };
    await Promise.all(
      Array.from({ length: Math.max(1, Math.min(concurrency, work.length)) }, worker),
    );
  };

  const checkLost = () => {
    const at = now();
    for (const entry of entries.values()) {
      if (!entry.lost && at - entry.lastSeenAt >= lostAfterMs) {
        entry.lost = true;
        dirty = true;
        lostPending.add(entry.sighting.serial);
        pending.delete(entry.sighting.serial);
        post({
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
    const { url, serial: expected } = entry.sighting;
    let report: ProbeReport;
    try {
      report = await options.probe(url, controller.signal, expected);
    } catch (error) {
      if (controller.signal.aborted) return;
      warn(`probe of ${url} failed: ${(error as Error).message}`);
      return;
    }
    const serial = report.identity?.serial;
    if (report.accessState === 'unreachable' || serial === undefined) {
      if (entry.sighting.accessState !== 'unreachable' && report.accessState === 'unreachable') {
        entry.sighting = { ...entry.sighting, accessState: 'unreachable' };
        markChanged(entry);
      }
      return;
    }
    const sighting = fromProbe(url, report, entry.sighting.source);
    if (sighting === undefined) return;
    if (serial !== expected) {
      // Another camera answers at this address now (DHCP handed it over); this one is not here.
      warn(`${url} now answers as ${serial}, not ${expected}`);
      const other = entries.get(serial);
      if (other !== undefined && !other.lost && other.sighting.url !== url) {
        // The other camera is known elsewhere: the next discovery round sorts out which is which.
        return;
      }
    }
    observe(sighting, entry.sighting.source);
  };

  /** The next camera due for a probe, the most overdue first. */
  const nextDue = (at: number): Entry | undefined => {
    let best: Entry | undefined;
    for (const entry of entries.values()) {
      if (entry.probing || entry.dueAt > at) continue;
      if (best === undefined || entry.dueAt < best.dueAt) best = entry;
    }
    return best;
  };

  /** Fills the worker pool with due probes; each finished probe pulls the next one. */
  const pump = (): void => {
    const at = now();
    while (active < concurrency && !controller.signal.aborted) {
      const entry = nextDue(at);
      if (entry === undefined) break;
      active += 1;
      entry.probing = true;
      // The next probe lands on the camera's own phase in a later interval.
      const cycleStart =
        at - ((((at - entry.phaseMs) % refreshIntervalMs) + refreshIntervalMs) % refreshIntervalMs);
      entry.dueAt = cycleStart + refreshIntervalMs;
      const job: Promise<void> = probeEntry(entry).finally(() => {
        active -= 1;
        entry.probing = false;
        inFlight.delete(job);
        pump();
      });
      inFlight.add(job);
    }
    if (active === 0) for (const resolve of idleWaiters.splice(0)) resolve();
  };

  const tick = (): Promise<void> => {
    checkLost();
    const idle = new Promise<void>((resolve) => idleWaiters.push(resolve));
    pump();
    return idle;
  };

  const flush = async (): Promise<void> => {
    const at = now();
    const upserts: CameraSighting[] = [];
    for (const serial of pending) {
      const entry = entries.get(serial);
      if (entry === undefined || entry.lost) continue;
      upserts.push(entry.sighting);
    }
    const sending = new Set(pending);
    pending.clear();
    const lost = [...lostPending];
    lostPending.clear();
    for (
      let offset = 0;
      offset < Math.max(upserts.length, lost.length);
      offset += MAX_CAMERAS_PER_FRAME
    ) {
      const part = upserts.slice(offset, offset + MAX_CAMERAS_PER_FRAME);
      const partLost = lost.slice(offset, offset + MAX_CAMERAS_PER_FRAME);
      try {
        await emit({ type: 'inventory-delta', upserts: part, lost: partLost });
      } catch (error) {
        // Kept for the next flush: what was not sent is still to be sent.
        for (const serial of sending) pending.add(serial);
        for (const serial of lost.slice(offset)) lostPending.add(serial);
        throw error;
      }
      for (const camera of part) {
        const entry = entries.get(camera.serial);
        if (entry === undefined) continue;
        entry.sentKey = contentKey(camera);
        entry.sentAt = at;
        sending.delete(camera.serial);
        dirty = true;
      }
    }
    await emitting;
  };

  const runDiscoveryRound = (): Promise<void> => {
    if (round !== undefined) return round;
    lastRoundStartedAt = now();
    const folds: Promise<void>[] = [];
    const current = (async () => {
      try {
        await options.discover(controller.signal, (batch) => {
          folds.push(foldBatch(batch));
        });
      } catch (error) {
        if (!controller.signal.aborted) warn(`discovery failed: ${(error as Error).message}`);
        await Promise.allSettled(folds);
        return;
      }
      await Promise.allSettled(folds);
      if (!discovered && !controller.signal.aborted) {
        discovered = true;
        try {
          options.onFirstRound?.();
        } catch (error) {
          warn(`the first-round listener failed: ${(error as Error).message}`);
        }
      }
    })().finally(() => {
      round = undefined;
    });
    round = current;
    return current;
  };

  const persisted = (): PersistedCamera[] =>
    [...entries.values()].map((entry) => ({
      sighting: entry.sighting,
      lastSeenAt: entry.lastSeenAt,
      lost: entry.lost,
      sentKey: entry.sentKey,
      sentAt: entry.sentAt,
    }));

  const save = (): Promise<void> => {
    if (options.persist === undefined || !dirty) return saving;
    dirty = false;
    const cameras = persisted();
    saving = saving
      .then(() => options.persist?.(cameras))
      .catch((error: unknown) => {
        dirty = true;
        warn(`could not save the inventory: ${(error as Error).message}`);
      });
    return saving;
  };

  for (const camera of options.restored ?? []) {
    const sighting = validated(camera.sighting);
    if (sighting === undefined) continue;
    const phaseMs = phaseOf(sighting.serial, refreshIntervalMs);
    const at = now();
    // Restored cameras are probed at their own phase, not all at once after a restart.
    const offset = (((phaseMs - at) % refreshIntervalMs) + refreshIntervalMs) % refreshIntervalMs;
    entries.set(sighting.serial, {
      sighting,
      phaseMs,
      dueAt: at + offset,
      lastSeenAt: camera.lastSeenAt,
      probing: false,
      lost: camera.lost,
      sentKey: camera.sentKey,
      sentAt: camera.sentAt,
    });
  }

  const every = (ms: number, run: () => unknown) => {
    const timer = setInterval(() => {
      try {
        const result = run();
        if (result instanceof Promise) {
          result.catch((error: unknown) => warn(`inventory: ${(error as Error).message}`));
        }
      } catch (error) {
        warn(`inventory: ${(error as Error).message}`);
      }
    }, ms);
    timer.unref();
    timers.push(timer);
  };

  return {
    get size() {
      return entries.size;
    },
    get discovered() {
      return discovered;
    },
    urlOf: (serial) => entries.get(serial)?.sighting.url,
    onSighting(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    discoverNow() {
      if (round !== undefined) return round;
      if (lastRoundStartedAt !== undefined && now() - lastRoundStartedAt < minDiscoveryGapMs) {
        return Promise.resolve();
      }
      return runDiscoveryRound();
    },
    start() {
      void runDiscoveryRound();
      every(discoveryIntervalMs, runDiscoveryRound);
      // Looking a hundred times per interval keeps each probe within 1 % of its phase.
      every(Math.max(250, Math.min(5_000, Math.floor(refreshIntervalMs / 100))), () => {
        checkLost();
        pump();
      });
      every(flushIntervalMs, flush);
      if (options.persist !== undefined) every(persistIntervalMs, save);
    },
    async stop() {
      for (const timer of timers) clearInterval(timer);
      controller.abort();
      await Promise.allSettled([...inFlight, ...(round === undefined ? [] : [round])]);
      try {
        await flush();
      } catch (error) {
        warn(`could not send the last inventory changes: ${(error as Error).message}`);
      }
      await save();
    },
    runDiscoveryRound,
    tick,
    flush,
    persisted,
    cameras: () => [...entries.values()].map((entry) => entry.sighting),
    snapshotParts() {
      const all = [...entries.values()]
        .filter((entry) => !entry.lost)
        .map((entry) => entry.sighting);
      const parts: CameraSighting[][] = [];
      for (let offset = 0; offset < all.length; offset += MAX_CAMERAS_PER_FRAME) {
        parts.push(all.slice(offset, offset + MAX_CAMERAS_PER_FRAME));
      }
      return parts.length === 0 ? [[]] : parts;
    },
  };
}
