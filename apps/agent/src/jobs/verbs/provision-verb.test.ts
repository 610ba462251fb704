import type { CommandParams } from '@custody/core';
import type { Credentials } from '@custody/vapix';
import { describe, expect, it } from 'vitest';
import type { CameraAccess, Observation } from '../camera-access.ts';
import { DEFAULT_JOB_TIMING, silentJobLogger, type JobContext } from '../job-context.ts';
import { runProvision } from './provision-verb.ts';

const SERIAL = 'ACCC8E000001';
const URL = 'http://10.0.0.5';

function contextFor(policy: string | undefined, secrets: Record<string, Credentials>) {
  const sent: string[] = [];
  const observation: Observation = {
    url: URL,
    reachable: true,
    serial: SERIAL,
    needsSetup: true,
    systemReady: true,
    bootId: undefined,
    uptimeSeconds: undefined,
    passphrasePolicy: policy,
    lockedOut: false,
    problem: undefined,
  };
  const cameras = {
    locate: () => Promise.resolve({ ok: true, url: URL, observation }),
    client: () => {
      sent.push('client');
      throw new Error('no camera calls expected');
    },
    checkLogin: () => {
      sent.push('login');
      throw new Error('no camera calls expected');
    },
  } as unknown as CameraAccess;
  const params: CommandParams<'provision'> = { admin: 'admin', serviceAccount: 'service' };
  const context = {
    commandId: 'c',
    verb: 'provision',
    serial: SERIAL,
    params,
    url: URL,
    cameras,
    directory: { urlOf: () => undefined, onSighting: () => () => undefined },
    factoryDefaultUrls: [],
    timing: DEFAULT_JOB_TIMING,
    signal: new AbortController().signal,
    log: silentJobLogger,
    secret: (ref: string) => secrets[ref],
    progress: () => Promise.resolve(),
    now: () => new Date(),
    sleep: () => Promise.resolve(),
  } as unknown as JobContext<'provision'>;
  return { context, sent };
}

describe('runProvision', () => {
  it('refuses passwords that break the camera passphrase policy before creating anything', async () => {
    const weak = 'Short-1';
    const { context, sent } = contextFor('complex', {
      admin: { username: 'custody', password: 'Long-Enough-Admin-42' },
      service: { username: 'custodysvc', password: weak },
    });
    const outcome = await runProvision(context);
    expect(sent).toEqual([]);
    expect(outcome).toMatchObject({
      outcome: 'failed',
      error: {
        code: 'password-policy',
        message: expect.stringContaining(
          '"service" does not meet the camera\'s "complex"',
        ) as string,
      },
    });
    expect(JSON.stringify(outcome)).not.toContain(weak);
  });

  it('checks the length policy too', async () => {
    const { context } = contextFor('length', {
      admin: { username: 'custody', password: 'Twelve-Chars' },
      service: { username: 'custodysvc', password: 'a-long-enough-passphrase' },
    });
    const outcome = await runProvision(context);
    expect(outcome).toMatchObject({
      outcome: 'failed',
      error: { code: 'password-policy', message: expect.stringContaining('at least 15') as string },
    });
  });
});
