import { setTimeout as sleep } from 'node:timers/promises';
import { baseUrlOf, unreachableObservation, type Observation } from './camera-access.ts';
import type { JobContext } from './job-context.ts';

/**
 * Why a camera was not found in the state wanted (PRODUCT: "won't reset" is diagnosed):
 * - never-came-back: not seen again (power budget, cable, bricked);
 * - never-ready: something answers where it was, but never finishes starting (power budget);
 * - came-back-configured: it went away and returned with its configuration (button released too
 *   early, faulty button);
 * - still-configured: it never went away (no reset happened);
 * - factory-default-unconfirmed: it returned, but its firmware cannot say whether it needs setup.
 */
export type WatchDiagnosis =
  | 'never-came-back'
  | 'never-ready'
  | 'came-back-configured'
  | 'still-configured'
  | 'factory-default-unconfirmed';

export interface WatchOptions {
  /** Addresses to look at besides what discovery reports. */
  candidateUrls: readonly (string | undefined)[];
  timeoutMs: number;
  /** Accept the camera only in factory-default state (systemready `needsetup=yes`). */
  requireFactoryDefault: boolean;
  /** Accept it only after it was seen gone or rebooted (a restart, not merely "still up"). */
  requireRestart: boolean;
  /** Also follow the serial through discovery (off when only one address counts). */
  useDirectory: boolean;
  /** What should have happened to the camera, for the diagnosis text. */
  cause: 'button-reset' | 'software-reset' | 'restart' | 'address-change';
  /** The progress step name. */
  step: string;
}

export type WatchResult =
  | {
      found: true;
      url: string;
      observation: Observation;
      /** How the address was learned: discovery or one of the candidates. */
      via: 'directory' | 'address';
      elapsedMs: number;
    }
  | {
      found: false;
      diagnosis: WatchDiagnosis;
      message: string;
      /** The last address the camera answered at, if it ever did. */
      lastSeenUrl: string | null;
      elapsedMs: number;
    };

/** Candidate addresses polled at once; discovery can add some, a hostile network must not add thousands. */
const MAX_CANDIDATES = 32;

function safeBaseUrl(url: string): string | undefined {
  try {
    return baseUrlOf(url);
  } catch {
    return undefined;
  }
}

/**
 * Watches for the command's serial at every candidate address and wherever discovery sees it,
 * each address polled on its own loop so a dead address cannot slow the others. Returns as soon
 * as the camera is there in the wanted state, or after the timeout with a diagnosis.
 */
export async function watchForSerial(
  context: JobContext,
  options: WatchOptions,
): Promise<WatchResult> {
  const { serial, cameras, directory, timing } = context;
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const seconds = Math.round(options.timeoutMs / 1000);
  const stop = new AbortController();
  const signal = AbortSignal.any([context.signal, stop.signal]);

  const sources = new Map<string, 'directory' | 'address'>();
  const latest = new Map<string, Observation>();
  const loops: Promise<void>[] = [];
  const boots = new Map<string, { bootId: string | undefined; uptime: number | undefined }>();
  let presence: 'present' | 'absent' | undefined;
  let wasAbsent = false;
  let everSeen = false;
  let returned: Observation | undefined;
  let startingAfterAbsence: Observation | undefined;
  let lastSeenUrl: string | null = null;
  const said = new Set<string>();
  let found: { url: string; observation: Observation } | undefined;
  let wake: (() => void) | undefined;

  const tell = (key: string, message: string): void => {
    if (said.has(key)) return;
    said.add(key);
    void context.progress(options.step, message, Math.min(1, elapsed() / options.timeoutMs));
  };

  const accepts = (observation: Observation): boolean =>
    observation.systemReady !== false &&
    (!options.requireFactoryDefault || observation.needsSetup === true) &&
    (!options.requireRestart || wasAbsent);

  const update = (observation: Observation): void => {
    const { url } = observation;
    latest.set(url, observation);
    const here = observation.serial === serial;
    if (here) {
      const previous = boots.get(url);
      const rebooted =
        previous !== undefined &&
        ((observation.bootId !== undefined && observation.bootId !== previous.bootId) ||
          (observation.uptimeSeconds !== undefined &&
            previous.uptime !== undefined &&
            observation.uptimeSeconds < previous.uptime));
      if (rebooted) wasAbsent = true;
      boots.set(url, { bootId: observation.bootId, uptime: observation.uptimeSeconds });
    }
    const observedAll = [...sources.keys()].every((candidate) => latest.has(candidate));
    const present = [...latest.values()].some((entry) => entry.serial === serial);
    if (present) {
      if (wasAbsent && here) returned = observation;
      presence = 'present';
    } else if (observedAll) {
      if (presence === 'present') {
        tell('went-away', `Camera ${serial} stopped answering; waiting for it to come back.`);
      }
      presence = 'absent';
      wasAbsent = true;
    }
    if (!here && observation.reachable && observation.systemReady === false && wasAbsent) {
      startingAfterAbsence = observation;
      tell('starting', `Something answers at ${url} and is starting up.`);
    }
    if (!here) return;
    everSeen = true;
    lastSeenUrl = url;
    if (accepts(observation)) {
      found = { url, observation };
      wake?.();
    } else if (wasAbsent && observation.needsSetup === false) {
      tell(
        'back-configured',
        `Camera ${serial} is back at ${url} but still configured; still waiting.`,
      );
    }
  };

  const poll = async (url: string): Promise<void> => {
    while (found === undefined && !signal.aborted) {
      let observation: Observation;
      try {
        observation = await cameras.observe(url, signal);
      } catch (error) {
        if (signal.aborted) return;
        observation = unreachableObservation(
          url,
          error instanceof Error ? error.message : 'the look failed',
        );
      }
      if (signal.aborted) return;
      update(observation);
      if (found !== undefined) return;
      try {
        await sleep(timing.pollIntervalMs, undefined, { signal });
      } catch {
        return;
      }
    }
  };

  const add = (url: string | undefined, via: 'directory' | 'address'): void => {
    const base = url === undefined ? undefined : safeBaseUrl(url);
    if (base === undefined || sources.has(base) || sources.size >= MAX_CANDIDATES) return;
    sources.set(base, via);
    loops.push(poll(base));
  };

  for (const url of options.candidateUrls) add(url, 'address');
  const followDirectory = (): void => {
    if (!options.useDirectory) return;
    add(directory.urlOf(serial), 'directory');
    // A camera that moved is only found by discovery; the directory rate-limits these requests.
    directory.discoverNow().catch(() => undefined);
  };
  const unsubscribe = options.useDirectory
    ? directory.onSighting((sighting) => {
        if (sighting.serial === serial) add(sighting.url, 'directory');
      })
    : () => undefined;
  followDirectory();

  const nap = (ms: number) =>
    new Promise<void>((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      };
      const timer = setTimeout(finish, Math.max(0, ms));
      wake = finish;
    });
  const onAbort = (): void => wake?.();
  context.signal.addEventListener('abort', onAbort, { once: true });

  try {
    let lastProgress = performance.now();
    while (found === undefined && elapsed() < options.timeoutMs && !context.signal.aborted) {
      await nap(Math.min(timing.pollIntervalMs, options.timeoutMs - elapsed()));
      followDirectory();
      if (found === undefined && performance.now() - lastProgress >= timing.progressEveryMs) {
        lastProgress = performance.now();
        await context.progress(
          options.step,
          `Waiting for camera ${serial} (${Math.round(elapsed() / 1000)} of ${seconds} s).`,
          Math.min(1, elapsed() / options.timeoutMs),
        );
      }
    }
  } finally {
    context.signal.removeEventListener('abort', onAbort);
    unsubscribe();
    stop.abort();
    await Promise.all(loops);
  }
  context.signal.throwIfAborted();

  if (found !== undefined) {
    return {
      found: true,
      url: found.url,
      observation: found.observation,
      via: sources.get(found.url) ?? 'address',
      elapsedMs: elapsed(),
    };
  }
  const where = [...sources.keys()].join(', ') || 'no known address';
  const diagnose = (diagnosis: WatchDiagnosis, message: string): WatchResult => ({
    found: false,
    diagnosis,
    message,
    lastSeenUrl,
    elapsedMs: elapsed(),
  });
  if (returned !== undefined && presence === 'present') {
    if (returned.needsSetup === false) {
      const advice =
        options.cause === 'button-reset'
          ? 'The control button was probably released too early (hold it from power-on for 15–30 s, until the status LED flashes amber) or the button is faulty.'
          : 'The device restarted without resetting.';
      return diagnose(
        'came-back-configured',
        `Camera ${serial} went away and came back at ${returned.url} still configured, so the reset did not take. ${advice}`,
      );
    }
    if (returned.needsSetup === undefined && options.requireFactoryDefault) {
      return diagnose(
        'factory-default-unconfirmed',
        `Camera ${serial} came back at ${returned.url}, but its firmware has no systemready, so whether it is in factory-default state cannot be read.`,
      );
    }
  }
  if (everSeen && !wasAbsent && presence === 'present') {
    return diagnose(
      'still-configured',
      `Camera ${serial} stayed reachable at ${lastSeenUrl ?? where} and configured for ${seconds} s: it was ${options.cause === 'restart' ? 'not restarted' : 'not reset'}.`,
    );
  }
  if (startingAfterAbsence !== undefined) {
    return diagnose(
      'never-ready',
      `Something answers at ${startingAfterAbsence.url} but never finished starting within ${seconds} s: check the power budget (PoE class) and the supply.`,
    );
  }
  return diagnose(
    'never-came-back',
    `Camera ${serial} was not seen ${everSeen ? 'again after it went away' : 'at all'} within ${seconds} s (looked at ${where}${options.useDirectory ? ' and discovery' : ''}). Check its power (PoE budget), cabling and link lights; a camera that never returns after a reset may be bricked.`,
  );
}
