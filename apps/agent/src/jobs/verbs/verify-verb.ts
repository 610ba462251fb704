import { createHash } from 'node:crypto';
import type { VerifyCheck } from '@custody/core';
import {
  VapixError,
  listParams,
  snapshot,
  type Credentials,
  type VapixClient,
} from '@custody/vapix';
import { baseUrlOf, describeLogin, type Observation } from '../camera-access.ts';
import type { JobContext, Verb } from '../job-context.ts';
import { failed, jobCodeOf, succeeded, type JsonRecord } from '../verb-outcome.ts';
import { countRecordings } from './recording-list.ts';

type CheckOutcome = 'passed' | 'failed' | 'skipped';

type CheckReport = {
  check: VerifyCheck;
  outcome: CheckOutcome;
  /** Why, in a sentence an operator can act on; never a credential. */
  reason: string;
  evidence: JsonRecord;
};

type CheckEnd = Omit<CheckReport, 'check'>;

const passed = (reason: string, evidence: JsonRecord = {}): CheckEnd => ({
  outcome: 'passed',
  reason,
  evidence,
});
const failedCheck = (reason: string, evidence: JsonRecord = {}): CheckEnd => ({
  outcome: 'failed',
  reason,
  evidence,
});

/**
 * The old credential is tried last: its expected rejection counts against the attempt budget and
 * makes the client read a later 403 as a block, so nothing else should follow it.
 */
const ORDER: readonly VerifyCheck[] = [
  'serial-at-address',
  'new-credential-works',
  'snapshot-jpeg',
  'rtsp-describe',
  'recordings',
  'old-credential-fails',
];

interface Subject {
  url: string;
  credential: { ref: string; credentials: Credentials };
  old: { ref: string; credentials: Credentials } | undefined;
  vms: { ref: string; credentials: Credentials };
}

async function runCheck(
  context: JobContext<'verify'>,
  check: VerifyCheck,
  subject: Subject,
  observation: Observation,
): Promise<CheckEnd> {
  const { url, credential, old, vms } = subject;
  switch (check) {
    case 'serial-at-address':
      return passed(`The device at ${url} reports serial ${context.serial}.`, {
        url,
        serial: observation.serial ?? null,
      });
    case 'new-credential-works': {
      const login = await context.cameras.checkLogin(url, credential.credentials);
      const evidence = {
        credential: credential.ref,
        username: credential.credentials.username,
        isAdmin: login.outcome === 'works' ? login.isAdmin : null,
      };
      const text = `The credential "${credential.ref}" (user ${credential.credentials.username}) ${describeLogin(login)}.`;
      return login.outcome === 'works' ? passed(text, evidence) : failedCheck(text, evidence);
    }
    case 'old-credential-fails': {
      if (old === undefined) {
        return {
          outcome: 'skipped',
          reason: 'No old credential was given to check.',
          evidence: {},
        };
      }
      const login = await context.cameras.checkLogin(url, old.credentials);
      const evidence = { credential: old.ref, username: old.credentials.username };
      const text = `The old credential "${old.ref}" (user ${old.credentials.username}) ${describeLogin(login)}.`;
      return login.outcome === 'rejected' ? passed(text, evidence) : failedCheck(text, evidence);
    }
    case 'snapshot-jpeg': {
      const client = context.cameras.client(url, credential.credentials);
      const image = await client.send(snapshot(), { signal: context.signal });
      const sha256 = createHash('sha256').update(image.jpeg).digest('hex');
      const evidence: JsonRecord = {
        contentType: image.contentType,
        bytes: image.jpeg.length,
        sha256,
      };
      if (context.params.thumbnail === true) {
        evidence.thumbnail = await thumbnailOf(context, client);
      }
      return passed(`The snapshot is a JPEG of ${image.jpeg.length} bytes.`, evidence);
    }
    case 'rtsp-describe': {
      const { params } = await context.cameras
        .client(url, vms.credentials)
        .send(listParams('root.Network.RTSP'), { signal: context.signal });
      if (params['Network.RTSP.Enabled']?.toLowerCase() === 'no') {
        return failedCheck('RTSP is disabled on the camera (Network.RTSP.Enabled=no).', {});
      }
      const port = params['Network.RTSP.Port'] ?? '554';
      const rtspUrl = `rtsp://${new URL(url).hostname}:${port}/axis-media/media.amp`;
      const described = await context.cameras.rtspDescribe(rtspUrl, vms.credentials);
      const media = described.sdp.media.map((section) => ({
        type: section.type,
        encodings: section.rtpmap.map((map) => `${map.encoding}/${map.clockRate}`),
      }));
      const video = media.find((section) => section.type === 'video');
      const evidence = { url: rtspUrl, credential: vms.ref, media };
      return video === undefined
        ? failedCheck('RTSP DESCRIBE succeeded but the stream has no video.', evidence)
        : passed(
            `RTSP DESCRIBE with "${vms.ref}" (user ${vms.credentials.username}) returned ${video.encodings.join(', ') || 'video'}.`,
            evidence,
          );
    }
    case 'recordings': {
      const { total } = await context.cameras
        .client(url, credential.credentials)
        .send(countRecordings(), { signal: context.signal });
      const evidence = { total };
      return total > 0
        ? passed(`The camera's edge storage holds ${total} recording(s).`, evidence)
        : failedCheck('The camera holds no recordings on its edge storage.', evidence);
    }
  }
}

const MAX_THUMBNAIL_BYTES = 128 * 1024;

function areaOf(resolution: string): number {
  const [width, height] = resolution.split('x').map(Number);
  return width !== undefined && height !== undefined && width > 0 && height > 0
    ? width * height
    : Number.POSITIVE_INFINITY;
}

/**
 * A small JPEG for the case's record: the camera's smallest listed resolution. Best effort: a
 * camera that cannot give one is noted in the evidence, and the check still stands on the
 * full-size snapshot.
 */
async function thumbnailOf(context: JobContext, client: VapixClient): Promise<JsonRecord> {
  try {
    const { params } = await client.send(listParams('root.Properties.Image.Resolution'), {
      signal: context.signal,
    });
    const listed = (params['Properties.Image.Resolution'] ?? '')
      .split(',')
      .map((value) => value.trim())
      .filter((value) => /^\d+x\d+$/.test(value));
    const smallest = [...listed].sort((a, b) => areaOf(a) - areaOf(b))[0];
    const image = await client.send(
      snapshot(smallest === undefined ? {} : { resolution: smallest }),
      { signal: context.signal },
    );
    if (image.jpeg.length > MAX_THUMBNAIL_BYTES) {
      return { skipped: `the smallest snapshot is ${image.jpeg.length} bytes` };
    }
    return {
      contentType: 'image/jpeg',
      resolution: smallest ?? null,
      bytes: image.jpeg.length,
      base64: image.jpeg.toString('base64'),
    };
  } catch (error) {
    if (!(error instanceof VapixError) || error.code === 'VAPIX_ABORTED') throw error;
    return { skipped: `${error.message}` };
  }
}

/**
 * Proves the outcome with evidence (PRODUCT step 8): the serial at the planned address, the new
 * credential works and the old one fails, a real JPEG snapshot (size and SHA-256; the bytes only
 * as a small thumbnail when asked for one), RTSP DESCRIBE with the VMS account, and recordings on edge storage. Nothing is sent
 * with credentials until the serial at the address is confirmed. Any check that does not pass
 * makes the outcome failed, with each check's reason.
 */
export const runVerify: Verb<'verify'> = async (context) => {
  const { params } = context;
  const pick = (ref: string) => ({ ref, credentials: context.secret(ref) });
  const credential = pick(params.credential);
  const requested = ORDER.filter((check) => params.checks.includes(check));

  const candidates =
    params.expectedUrl === undefined
      ? [context.url, context.directory.urlOf(context.serial)]
      : [params.expectedUrl];
  const located = await context.cameras.locate(candidates);
  const checks: CheckReport[] = [];
  if (!located.ok) {
    const reason =
      located.failure.outcome === 'failed'
        ? located.failure.error.message
        : 'The camera was not found.';
    for (const check of requested) {
      checks.push(
        check === 'serial-at-address'
          ? {
              check,
              outcome: 'failed',
              reason,
              evidence: {
                url: params.expectedUrl === undefined ? null : baseUrlOf(params.expectedUrl),
              },
            }
          : { check, outcome: 'skipped', reason: `Not run: ${reason}`, evidence: {} },
      );
    }
  } else {
    const subject: Subject = {
      url: located.url,
      credential,
      old: params.oldCredential === undefined ? undefined : pick(params.oldCredential),
      vms: params.vmsCredential === undefined ? credential : pick(params.vmsCredential),
    };
    for (const [index, check] of requested.entries()) {
      await context.progress(
        'verify',
        `Check ${index + 1} of ${requested.length}: ${check}.`,
        index / requested.length,
      );
      let end: CheckEnd;
      try {
        end = await runCheck(context, check, subject, located.observation);
      } catch (error) {
        if (!(error instanceof VapixError) || error.code === 'VAPIX_ABORTED') throw error;
        end = failedCheck(`${error.message}.`, { code: jobCodeOf(error) });
      }
      checks.push({ check, ...end });
    }
  }

  const url = located.ok ? located.url : null;
  const result: JsonRecord = { url, checks: checks.map((check) => ({ ...check })) };
  const notPassed = checks.filter((check) => check.outcome !== 'passed');
  if (notPassed.length > 0) {
    return failed(
      'verification-failed',
      `${notPassed.length} of ${checks.length} check(s) did not pass: ${notPassed.map((check) => `${check.check}: ${check.reason}`).join(' ')}`,
      result,
    );
  }
  return succeeded(result);
};
