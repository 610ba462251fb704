import type { CommandParams } from '@custody/core';
import {
  VapixAuthError,
  VapixTransportError,
  type Credentials,
  type VapixRequest,
} from '@custody/vapix';
import { describe, expect, it } from 'vitest';
import type { CameraAccess, Located, LoginCheck, Observation } from '../camera-access.ts';
import { DEFAULT_JOB_TIMING, silentJobLogger, type JobContext } from '../job-context.ts';
import { failed } from '../verb-outcome.ts';
import { runRotateCredential } from './rotate-credential-verb.ts';

const SERIAL = 'ACCC8E000001';
const URL = 'http://10.0.0.5';
const ADMIN: Credentials = { username: 'root', password: 'Admin-Today-Quokka-41' };
const VMS_OLD: Credentials = { username: 'vms', password: 'Vms-Today-Okapi-77' };
const VMS_NEW: Credentials = { username: 'vms', password: 'Vms-Next-Tapir-3319-x' };
const ROOT_NEW: Credentials = { username: 'root', password: 'Root-Next-Pelican-55-y' };

interface FakeCamera {
  passwords: Map<string, string>;
  calls: string[];
  /** Thrown by the account list (before any change). */
  listFails?: Error;
  /** Thrown by the update after the camera applied it (the answer was lost). */
  updateFailsAfterApply?: Error;
  located?: Located;
  policy?: string;
}

function observation(policy: string | undefined): Observation {
  return {
    url: URL,
    reachable: true,
    serial: SERIAL,
    needsSetup: false,
    systemReady: true,
    bootId: undefined,
    uptimeSeconds: undefined,
    passphrasePolicy: policy,
    lockedOut: false,
    problem: undefined,
  };
}

function fakeCamera(overrides: Partial<FakeCamera> = {}): FakeCamera {
  return {
    passwords: new Map([
      [ADMIN.username, ADMIN.password],
      [VMS_OLD.username, VMS_OLD.password],
    ]),
    calls: [],
    ...overrides,
  };
}

function contextFor(
  camera: FakeCamera,
  params: CommandParams<'rotate-credential'>,
  secrets: Record<string, Credentials>,
) {
  const cameras = {
    locate: () =>
      Promise.resolve(
        camera.located ?? { ok: true, url: URL, observation: observation(camera.policy) },
      ),
    client: (_url: string, credentials: Credentials) => ({
      send: (request: VapixRequest<unknown>) => {
        const form = (request.body as { value: Record<string, string> }).value;
        camera.calls.push(form.action ?? '?');
        if (camera.passwords.get(credentials.username) !== credentials.password) {
          return Promise.reject(
            new VapixAuthError('VAPIX_LOGIN_FAILED', 'credentials rejected', {
              method: 'POST',
              path: '/axis-cgi/pwdgrp.cgi',
            }),
          );
        }
        if (form.action === 'get') {
          if (camera.listFails !== undefined) return Promise.reject(camera.listFails);
          return Promise.resolve({
            accounts: [...camera.passwords.keys()].map((username) => ({ username })),
          });
        }
        if (form.action === 'update' && form.user !== undefined && form.pwd !== undefined) {
          camera.passwords.set(form.user, form.pwd);
          if (camera.updateFailsAfterApply !== undefined) {
            return Promise.reject(camera.updateFailsAfterApply);
          }
          return Promise.resolve(undefined);
        }
        return Promise.reject(new Error(`unexpected ${form.action}`));
      },
    }),
    checkLogin: (_url: string, credentials: Credentials): Promise<LoginCheck> => {
      camera.calls.push(`login ${credentials.username}`);
      return Promise.resolve(
        camera.passwords.get(credentials.username) === credentials.password
          ? { outcome: 'works', isAdmin: credentials.username === 'root' }
          : { outcome: 'rejected' },
      );
    },
  } as unknown as CameraAccess;
  return {
    commandId: 'c',
    verb: 'rotate-credential',
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
  } as unknown as JobContext<'rotate-credential'>;
}

const ALL_SECRETS = [ADMIN, VMS_OLD, VMS_NEW, ROOT_NEW].map((secret) => secret.password);

function expectNoSecret(value: unknown) {
  const text = JSON.stringify(value);
  for (const secret of ALL_SECRETS) expect(text).not.toContain(secret);
}

describe('runRotateCredential', () => {
  it('rotates another account with the admin and proves the previous password fails', async () => {
    const camera = fakeCamera();
    const outcome = await runRotateCredential(
      contextFor(
        camera,
        { credential: 'admin', next: 'vms-next', previous: 'vms' },
        { admin: ADMIN, 'vms-next': VMS_NEW, vms: VMS_OLD },
      ),
    );
    expect(outcome).toMatchObject({
      outcome: 'succeeded',
      result: {
        account: 'vms',
        passwordChanged: true,
        newCredentialWorks: true,
        oldCredentialFails: true,
        oldCredentialChecked: true,
        newCredentialCheck: 'works',
        oldCredentialCheck: 'rejected',
      },
    });
    expect(camera.passwords.get('vms')).toBe(VMS_NEW.password);
    expect(camera.calls).toEqual(['get', 'update', 'login vms', 'login vms']);
    expectNoSecret(outcome);
  });

  it('cannot prove the old password of another account fails without being given it', async () => {
    const camera = fakeCamera();
    const outcome = await runRotateCredential(
      contextFor(
        camera,
        { credential: 'admin', next: 'vms-next' },
        { admin: ADMIN, 'vms-next': VMS_NEW },
      ),
    );
    expect(outcome).toMatchObject({
      outcome: 'succeeded',
      result: { oldCredentialChecked: false, oldCredentialFails: null },
    });
  });

  it('rotates the admin’s own password and checks the old one without a previous reference', async () => {
    const camera = fakeCamera();
    const outcome = await runRotateCredential(
      contextFor(camera, { credential: 'admin', next: 'next' }, { admin: ADMIN, next: ROOT_NEW }),
    );
    expect(outcome).toMatchObject({
      outcome: 'succeeded',
      result: { account: 'root', oldCredentialFails: true, oldCredentialChecked: true },
    });
    expect(camera.passwords.get('root')).toBe(ROOT_NEW.password);
  });

  it('says nothing changed for every failure before the change is sent', async () => {
    const cases: {
      name: string;
      camera: FakeCamera;
      secrets?: Record<string, Credentials>;
      code: string;
    }[] = [
      {
        name: 'admin rejected',
        camera: fakeCamera({
          passwords: new Map([
            ['root', 'Something-Else-1'],
            ['vms', VMS_OLD.password],
          ]),
        }),
        code: 'login-failed',
      },
      {
        name: 'unreachable while listing',
        camera: fakeCamera({
          listFails: new VapixTransportError('VAPIX_UNREACHABLE', 'connection refused'),
        }),
        code: 'unreachable',
      },
      {
        name: 'no such account',
        camera: fakeCamera({ passwords: new Map([['root', ADMIN.password]]) }),
        code: 'no-such-account',
      },
      {
        name: 'camera not located',
        camera: fakeCamera({
          located: {
            ok: false,
            failure: failed('unreachable', `Camera ${SERIAL} did not answer.`),
          },
        }),
        code: 'unreachable',
      },
      {
        name: 'password against the camera policy',
        camera: fakeCamera({ policy: 'complex' }),
        secrets: { admin: ADMIN, 'vms-next': { username: 'vms', password: 'alllowercaseonly' } },
        code: 'password-policy',
      },
      {
        name: 'previous for another user',
        camera: fakeCamera(),
        secrets: { admin: ADMIN, 'vms-next': VMS_NEW, vms: ADMIN },
        code: 'previous-mismatch',
      },
    ];
    for (const entry of cases) {
      const before = new Map(entry.camera.passwords);
      const outcome = await runRotateCredential(
        contextFor(
          entry.camera,
          { credential: 'admin', next: 'vms-next', previous: 'vms' },
          entry.secrets ?? { admin: ADMIN, 'vms-next': VMS_NEW, vms: VMS_OLD },
        ),
      );
      expect(outcome, entry.name).toMatchObject({
        outcome: 'failed',
        error: { code: entry.code },
        result: { passwordChanged: false },
      });
      expect(entry.camera.calls, entry.name).not.toContain('update');
      expect(entry.camera.passwords, entry.name).toEqual(before);
      expectNoSecret(outcome);
    }
  });

  it('lets a failure during the change escape, so the outcome stays unknown', async () => {
    const camera = fakeCamera({
      updateFailsAfterApply: new VapixTransportError('VAPIX_UNREACHABLE', 'socket hang up'),
    });
    await expect(
      runRotateCredential(
        contextFor(
          camera,
          { credential: 'admin', next: 'vms-next', previous: 'vms' },
          { admin: ADMIN, 'vms-next': VMS_NEW, vms: VMS_OLD },
        ),
      ),
    ).rejects.toThrow('socket hang up');
    // The camera took it: the server must test both passwords, not assume nothing changed.
    expect(camera.passwords.get('vms')).toBe(VMS_NEW.password);
  });
});
