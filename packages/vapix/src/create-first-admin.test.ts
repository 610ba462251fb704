import { afterEach, describe, expect, it } from 'vitest';

import { createAttemptBudget } from './attempt-budget.ts';
import { GET_ALL_UNRESTRICTED_PROPERTIES_P3265V } from './fixtures/basic-device-info.ts';
import { NOT_A_VALID_INITIAL_ADMIN, pwdgrpPage } from './fixtures/pwdgrp.ts';
import { SYSTEM_READY_12, SYSTEM_READY_FACTORY_DEFAULT } from './fixtures/system-ready.ts';
import { createFirstAdmin } from './create-first-admin.ts';
import { createRequestLimiter } from './request-limiter.ts';
import {
  json,
  startFakeCamera,
  text,
  type FakeCamera,
  type FakeRequest,
} from './test-support/fake-camera.ts';
import { createVapixClient } from './vapix-client.ts';
import { VapixPreconditionError, VapixUnsupportedError } from './vapix-error.ts';

const PASSWORD = 'First-Admin-Pass!';
const cameras: FakeCamera[] = [];
afterEach(async () => {
  await Promise.all(cameras.splice(0).map((camera) => camera.close()));
});

/**
 * A factory-defaulted camera: no users, pwdgrp open anonymously until the first account
 * exists (reference §4.3). `rootFirst` models firmware before 11.5.
 */
async function factoryDefaultCamera(options: { rootFirst?: boolean; configured?: boolean } = {}) {
  const users: Record<string, string> = options.configured === true ? { root: 'existing' } : {};
  const adds: Array<Record<string, string>> = [];
  const camera = await startFakeCamera({
    users,
    anonymousPaths: ['/axis-cgi/systemready.cgi', '/axis-cgi/basicdeviceinfo.cgi'],
    isAnonymous: (request: FakeRequest) =>
      request.path === '/axis-cgi/pwdgrp.cgi' && Object.keys(users).length === 0,
    routes: {
      'POST /axis-cgi/systemready.cgi': () =>
        json(Object.keys(users).length === 0 ? SYSTEM_READY_FACTORY_DEFAULT : SYSTEM_READY_12),
      'POST /axis-cgi/basicdeviceinfo.cgi': () => json(GET_ALL_UNRESTRICTED_PROPERTIES_P3265V),
      'POST /axis-cgi/pwdgrp.cgi': (request) => {
        const form = Object.fromEntries(new URLSearchParams(request.body));
        adds.push({ ...form, by: request.user ?? 'anonymous' });
        const user = form.user ?? '';
        if (options.rootFirst === true && Object.keys(users).length === 0 && user !== 'root') {
          return text(NOT_A_VALID_INITIAL_ADMIN, 'text/html');
        }
        users[user] = form.pwd ?? '';
        return text(pwdgrpPage(`Created account ${user}.`), 'text/html');
      },
    },
  });
  cameras.push(camera);
  return { camera, users, adds };
}

function clientFor(camera: FakeCamera) {
  return createVapixClient({
    url: camera.url,
    budget: createAttemptBudget(),
    limiter: createRequestLimiter(),
  });
}

describe('createFirstAdmin (reference §4.3)', () => {
  it('creates the admin anonymously with grp=root and every role after re-reading needsetup', async () => {
    const { camera, users, adds } = await factoryDefaultCamera();
    const result = await createFirstAdmin(
      clientFor(camera),
      { username: 'root', password: PASSWORD },
      { expectedSerial: 'b8a44f631339' },
    );
    expect(result).toEqual({ username: 'root', createdRoot: true });
    expect(users.root).toBe(PASSWORD);
    expect(adds).toEqual([
      {
        action: 'add',
        user: 'root',
        pwd: PASSWORD,
        grp: 'root',
        sgrp: 'admin:operator:viewer:ptz',
        by: 'anonymous',
      },
    ]);
    const paths = camera.requests.map((request) => request.path);
    expect(paths.indexOf('/axis-cgi/systemready.cgi')).toBeLessThan(
      paths.indexOf('/axis-cgi/pwdgrp.cgi'),
    );
    expect(camera.requests.every((request) => request.authorization === undefined)).toBe(true);
  });

  it('creates root first, then the requested admin as root, when the firmware insists on root', async () => {
    const { camera, users, adds } = await factoryDefaultCamera({ rootFirst: true });
    const result = await createFirstAdmin(clientFor(camera), {
      username: 'custody',
      password: PASSWORD,
    });
    expect(result).toEqual({ username: 'custody', createdRoot: true });
    expect(users).toEqual({ root: PASSWORD, custody: PASSWORD });
    expect(adds.map((add) => [add.user, add.grp, add.by])).toEqual([
      ['custody', 'root', 'anonymous'],
      ['root', 'root', 'anonymous'],
      ['custody', 'users', 'root'],
    ]);
  });

  it('refuses a camera that no longer needs setup and writes nothing', async () => {
    const { camera, adds } = await factoryDefaultCamera({ configured: true });
    const error: unknown = await createFirstAdmin(clientFor(camera), {
      username: 'root',
      password: PASSWORD,
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(VapixPreconditionError);
    expect(adds).toHaveLength(0);
  });

  it('refuses firmware without systemready, saying why and what to do, and writes nothing', async () => {
    const adds: string[] = [];
    // 5.x: systemready.cgi is absent (404), and pwdgrp would take an anonymous first account.
    const camera = await startFakeCamera({
      users: {},
      anonymousPaths: ['/axis-cgi/systemready.cgi'],
      isAnonymous: (request: FakeRequest) => request.path === '/axis-cgi/pwdgrp.cgi',
      routes: {
        'POST /axis-cgi/pwdgrp.cgi': (request) => {
          adds.push(request.body);
          return text(pwdgrpPage('Created account root.'), 'text/html');
        },
      },
    });
    cameras.push(camera);
    const error: unknown = await createFirstAdmin(clientFor(camera), {
      username: 'root',
      password: PASSWORD,
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(VapixUnsupportedError);
    expect(error).toMatchObject({ code: 'VAPIX_UNSUPPORTED', path: '/axis-cgi/systemready.cgi' });
    const message = (error as Error).message;
    expect(message).toMatch(/no systemready\.cgi .*cannot confirm .*factory-default state/);
    expect(message).toMatch(/web interface/);
    expect(message).not.toContain(PASSWORD);
    expect(adds).toHaveLength(0);
  });

  it('refuses a camera whose serial is not the expected one', async () => {
    const { camera, adds } = await factoryDefaultCamera();
    await expect(
      createFirstAdmin(
        clientFor(camera),
        { username: 'root', password: PASSWORD },
        { expectedSerial: 'ACCC12345678' },
      ),
    ).rejects.toMatchObject({ code: 'VAPIX_PRECONDITION_FAILED' });
    expect(adds).toHaveLength(0);
  });
});
