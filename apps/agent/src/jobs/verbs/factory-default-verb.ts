import { factoryDefaultWithFallback, type FactoryDefaultMode } from '@custody/vapix';
import type { Verb } from '../job-context.ts';
import { failed, succeeded } from '../verb-outcome.ts';
import { watchForSerial } from '../watch-for-serial.ts';
import { locateCamera } from './locate-camera.ts';

/**
 * A software factory default (reference §5.1, §5.2): destructive, so the executor runs it only
 * after the signature, the owner's approval binding and the nonce have been checked, and this verb
 * only after the serial at the address and the admin credential are confirmed. A soft default
 * keeps the address; a hard one resets it too, so the camera is followed by serial through
 * discovery and the factory-default addresses until it is back in factory-default state.
 */
export function createFactoryDefaultVerb(
  mode: FactoryDefaultMode,
): Verb<'factory-default-soft' | 'factory-default-hard'> {
  return async (context) => {
    const ref = context.params.credential;
    const admin = context.secret(ref);
    const located = await locateCamera(context);
    if (!located.ok) return located.failure;
    const { url, observation } = located;
    if (observation.needsSetup === true) {
      return succeeded({
        url,
        mode,
        alreadyFactoryDefault: true,
        summary: `Camera ${context.serial} is already in factory-default state; no reset was sent.`,
      });
    }

    const login = await context.cameras.checkLogin(url, admin);
    if (login.outcome !== 'works') {
      const why =
        login.outcome === 'rejected'
          ? 'was rejected'
          : login.outcome === 'budget-spent'
            ? 'could not be tried (attempt budget spent)'
            : 'could not be tried (the camera is blocking this agent)';
      return failed(
        login.outcome === 'rejected' ? 'login-failed' : login.outcome,
        `The admin credential "${ref}" (user ${admin.username}) ${why}; the camera was not reset.`,
        { url, mode },
      );
    }
    if (login.isAdmin === false) {
      return failed(
        'not-admin',
        `The credential "${ref}" (user ${admin.username}) is not an administrator; the camera was not reset.`,
        { url, mode },
      );
    }

    await context.progress(
      'reset',
      `Requesting a ${mode} factory default of camera ${context.serial}.`,
      0.05,
    );
    const { via } = await factoryDefaultWithFallback(context.cameras.client(url, admin), mode, {
      signal: context.signal,
    });
    // The reset regenerates the camera's certificate: the camera this command verified (serial
    // at the address, working admin login) may be pinned afresh when it comes back.
    context.cameras.allowRepin();
    await context.progress(
      'waiting',
      mode === 'hard'
        ? `Camera ${context.serial} accepted the hard factory default; its address will change, following it by serial.`
        : `Camera ${context.serial} accepted the soft factory default; waiting for it to come back at ${url}.`,
      0.1,
    );
    const watched = await watchForSerial(context, {
      candidateUrls: mode === 'hard' ? [url, ...context.factoryDefaultUrls] : [url],
      useDirectory: mode === 'hard',
      timeoutMs: context.timing.resetTimeoutMs,
      requireFactoryDefault: true,
      requireRestart: false,
      cause: 'software-reset',
      step: 'waiting',
    });
    if (!watched.found) {
      return failed(
        watched.diagnosis,
        `The ${mode} factory default was accepted, but: ${watched.message}`,
        {
          mode,
          via,
          previousUrl: url,
          lastSeenUrl: watched.lastSeenUrl,
          diagnosis: watched.diagnosis,
        },
      );
    }
    return succeeded({
      mode,
      via,
      url: watched.url,
      previousUrl: url,
      addressChanged: watched.url !== url,
      foundVia: watched.via,
      needsSetup: true,
      elapsedMs: watched.elapsedMs,
    });
  };
}
