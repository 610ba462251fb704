import type { Verb } from '../job-context.ts';
import { failed, succeeded } from '../verb-outcome.ts';
import { watchForSerial } from '../watch-for-serial.ts';

/**
 * Waits for the camera to reappear while a technician performs the control-button reset: through
 * discovery, the candidate addresses the server names (planned DHCP lease, 192.168.0.90, …) and
 * the last known one. When it does not come back as wanted, the result says why.
 */
export const runWatchForDevice: Verb<'watch-for-device'> = async (context) => {
  const { timeoutMs, candidateUrls, requireFactoryDefault } = context.params;
  await context.progress(
    'watching',
    `Watching for camera ${context.serial}${requireFactoryDefault ? ' in factory-default state' : ''} for up to ${Math.round(timeoutMs / 1000)} s.`,
    0,
  );
  const watched = await watchForSerial(context, {
    candidateUrls: [
      ...candidateUrls,
      context.url,
      ...(requireFactoryDefault ? context.factoryDefaultUrls : []),
    ],
    useDirectory: true,
    timeoutMs,
    requireFactoryDefault,
    requireRestart: false,
    cause: 'button-reset',
    step: 'watching',
  });
  if (!watched.found) {
    return failed(watched.diagnosis, watched.message, {
      diagnosis: watched.diagnosis,
      lastSeenUrl: watched.lastSeenUrl,
      elapsedMs: watched.elapsedMs,
    });
  }
  // Seen in factory-default state after a reset: its new certificate may be pinned afresh.
  if (watched.observation.needsSetup === true) context.cameras.allowRepin();
  return succeeded({
    url: watched.url,
    needsSetup: watched.observation.needsSetup ?? null,
    foundVia: watched.via,
    elapsedMs: watched.elapsedMs,
  });
};
