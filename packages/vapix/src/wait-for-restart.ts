import { systemReady, type SystemReady } from './apis/system-ready.ts';
import type { VapixClient } from './vapix-client.ts';
import { VapixHttpError, VapixMalformedResponseError, VapixTransportError } from './vapix-error.ts';

/** What systemready said before the restart or reset was requested. */
export interface RestartBaseline {
  bootId?: string | undefined;
  uptimeSeconds?: number | undefined;
}

export type RestartState =
  'waiting-to-go-down' | 'waiting-to-come-back' | 'waiting-to-be-ready' | 'ready';

/** How the restart was recognised; 10.12 has no bootid/uptime, so only `went-down` works there. */
export type RestartEvidence = 'bootid-changed' | 'uptime-decreased' | 'went-down';

export interface WaitForRestartOptions {
  /** Pause between polls (reference §5.3 polls every 1 s). */
  intervalMs?: number;
  /** Give up after this long (factory default can take 2 minutes, §5.3). */
  timeoutMs?: number;
  signal?: AbortSignal;
  onStateChange?: (state: RestartState) => void;
  /** Injected for tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
}

export interface RestartResult {
  evidence: RestartEvidence;
  ready: SystemReady;
  polls: number;
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(
        new VapixTransportError('VAPIX_ABORTED', 'waiting for the restart was aborted', {
          cause: signal.reason,
        }),
      );
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(
        new VapixTransportError('VAPIX_ABORTED', 'waiting for the restart was aborted', {
          cause: signal?.reason,
        }),
      );
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function restartEvidence(baseline: RestartBaseline, now: SystemReady): RestartEvidence | undefined {
  if (baseline.bootId !== undefined && now.bootId !== undefined && now.bootId !== baseline.bootId) {
    return 'bootid-changed';
  }
  if (
    baseline.uptimeSeconds !== undefined &&
    now.uptimeSeconds !== undefined &&
    now.uptimeSeconds < baseline.uptimeSeconds
  ) {
    return 'uptime-decreased';
  }
  return undefined;
}

/** A poll that failed because the device is (still) restarting, not because of us. */
function isDown(error: unknown): boolean {
  if (error instanceof VapixTransportError)
    return error.code !== 'VAPIX_ABORTED' && !error.code.startsWith('VAPIX_TLS');
  return error instanceof VapixHttpError || error instanceof VapixMalformedResponseError;
}

/**
 * Polls systemready until the device has restarted and is ready again, following the state
 * machine of reference §5.3: waiting to go down → (request fails) waiting to come back →
 * (answers) waiting to be ready → (systemready "yes") ready. A changed bootid or a smaller
 * uptime proves the restart without seeing the device down.
 */
export async function waitForRestart(
  client: VapixClient,
  baseline: RestartBaseline,
  options: WaitForRestartOptions = {},
): Promise<RestartResult> {
  const intervalMs = options.intervalMs ?? 1_000;
  const timeoutMs = options.timeoutMs ?? 180_000;
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;
  const started = now();
  // Widened on purpose: `enter` changes it from a closure, which TS narrowing cannot see.
  let state = 'waiting-to-go-down' as RestartState;
  let evidence: RestartEvidence | undefined;
  let polls = 0;

  const enter = (next: RestartState): void => {
    if (next === state) return;
    state = next;
    options.onStateChange?.(next);
  };

  for (;;) {
    if (options.signal?.aborted) {
      throw new VapixTransportError('VAPIX_ABORTED', 'waiting for the restart was aborted', {
        cause: options.signal.reason,
      });
    }
    polls += 1;
    let snapshot: SystemReady | undefined;
    try {
      snapshot = await client.send(systemReady(), { credentials: null, signal: options.signal });
    } catch (error) {
      // A 404 comes from a running web server without systemready (pre-9.50): this detector
      // cannot work on it, whether that answer came before or after the downtime; say so at once.
      if (!isDown(error)) throw error;
    }

    if (snapshot === undefined) {
      if (state === 'waiting-to-go-down') enter('waiting-to-come-back');
    } else {
      if (state === 'waiting-to-go-down') {
        evidence = restartEvidence(baseline, snapshot);
        if (evidence !== undefined) enter('waiting-to-be-ready');
      } else if (state === 'waiting-to-come-back') {
        evidence = 'went-down';
        enter('waiting-to-be-ready');
      }
      if (
        state === 'waiting-to-be-ready' &&
        evidence !== undefined &&
        snapshot.systemReady === true
      ) {
        enter('ready');
        return { evidence, ready: snapshot, polls };
      }
    }

    if (now() - started >= timeoutMs) {
      throw new VapixTransportError(
        'VAPIX_TIMEOUT',
        `the device was not back and ready within ${Math.round(timeoutMs / 1000)} s (last state: ${state})`,
        { method: 'POST', path: '/axis-cgi/systemready.cgi' },
      );
    }
    await sleep(intervalMs, options.signal);
  }
}
