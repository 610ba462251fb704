import { toProbeReport } from '../../cameras/probe-camera.ts';
import type { Verb } from '../job-context.ts';
import { succeeded, toJsonRecord } from '../verb-outcome.ts';
import { locateCamera } from './locate-camera.ts';

/**
 * Reads the camera's access state, identity and capabilities, with the given credential if any.
 * A rejected credential is an access state here, not a failure: the probe itself succeeded.
 */
export const runProbe: Verb<'probe'> = async (context) => {
  const located = await locateCamera(context);
  if (!located.ok) return located.failure;
  const { credential } = context.params;
  const credentials = credential === undefined ? null : context.secret(credential);
  const report = toProbeReport(await context.cameras.probe(located.url, credentials));
  return succeeded({ ...toJsonRecord(report), credential: credential ?? null });
};
