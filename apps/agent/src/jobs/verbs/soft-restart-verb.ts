import {
  VapixTransportError,
  restartWithFallback,
  waitForRestart,
  type RestartState,
} from '@custody/vapix';
import type { Verb } from '../job-context.ts';
import { failed, succeeded } from '../verb-outcome.ts';
import { watchForSerial } from '../watch-for-serial.ts';
import { locateCamera } from './locate-camera.ts';

const STATE_TEXT: Record<RestartState, string> = {
  'waiting-to-go-down': 'waiting for the camera to go down',
  'waiting-to-come-back': 'the camera is down; waiting for it to come back',
  'waiting-to-be-ready': 'the camera answers again; waiting for it to be ready',
  ready: 'the camera is ready',
};

/**
 * Reboots the camera (firmwaremanagement.cgi, restart.cgi on older firmware), then waits until it
 * has restarted and reports systemready (reference §5.3). Firmware without systemready (5.x) is
 * watched going away and coming back instead.
 */
export const runSoftRestart: Verb<'soft-restart'> = async (context) => {
  const admin = context.secret(context.params.credential);
  const located = await locateCamera(context);
  if (!located.ok) return located.failure;
  const { url, observation } = located;
  const { timing } = context;

  await context.progress('restart', `Asking camera ${context.serial} to restart.`, 0.05);
  const { via } = await restartWithFallback(context.cameras.client(url, admin), {
    signal: context.signal,
  });
  const started = performance.now();

  if (observation.systemReady === undefined) {
    const watched = await watchForSerial(context, {
      candidateUrls: [url],
      useDirectory: false,
      timeoutMs: timing.restartTimeoutMs,
      requireFactoryDefault: false,
      requireRestart: true,
      cause: 'restart',
      step: 'waiting',
    });
    if (!watched.found) {
      return failed(watched.diagnosis, `The restart was requested, but: ${watched.message}`, {
        url,
        via,
      });
    }
    return succeeded({ url, via, evidence: 'went-down', downtimeMs: watched.elapsedMs });
  }

  try {
    const restarted = await waitForRestart(
      context.cameras.client(url, null),
      { bootId: observation.bootId, uptimeSeconds: observation.uptimeSeconds },
      {
        intervalMs: timing.pollIntervalMs,
        timeoutMs: timing.restartTimeoutMs,
        signal: context.signal,
        onStateChange: (state) => {
          const fraction = Math.min(0.95, (performance.now() - started) / timing.restartTimeoutMs);
          void context.progress('waiting', `Restart: ${STATE_TEXT[state]}.`, fraction);
        },
      },
    );
    const after = await context.cameras.observe(url);
    if (after.serial !== undefined && after.serial !== context.serial) {
      return failed(
        'wrong-device',
        `After the restart, the device at ${url} reports serial ${after.serial}, not ${context.serial}.`,
        { url, via },
      );
    }
    return succeeded({
      url,
      via,
      evidence: restarted.evidence,
      downtimeMs: Math.round(performance.now() - started),
    });
  } catch (error) {
    if (error instanceof VapixTransportError && error.code === 'VAPIX_TIMEOUT') {
      return failed(
        'restart-timeout',
        `The restart was requested, but ${error.message}. Check the camera's power and link.`,
        { url, via },
      );
    }
    throw error;
  }
};
