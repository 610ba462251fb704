import { afterEach, describe, expect, it } from 'vitest';

import { createAttemptBudget, type AttemptBudget } from './attempt-budget.ts';
import { GET_API_LIST_12_9 } from './fixtures/api-discovery.ts';
import {
  GET_ALL_PROPERTIES_P3265V,
  GET_ALL_UNRESTRICTED_PROPERTIES_P3265V,
  UNRESTRICTED_2004_ERROR,
} from './fixtures/basic-device-info.ts';
import { BRAND_AND_PROPERTIES_5_51, PROPERTIES_9_80 } from './fixtures/param-cgi.ts';
import { SYSTEM_READY_12, SYSTEM_READY_FACTORY_DEFAULT } from './fixtures/system-ready.ts';
import { probe, type ProbeOptions } from './probe.ts';
import { createRequestLimiter } from './request-limiter.ts';
import {
  json,
  startFakeCamera,
  text,
  type FakeCamera,
  type FakeCameraOptions,
  type FakeRequest,
} from './test-support/fake-camera.ts';

const PASSWORD = 'Probe-Passw0rd';
const cameras: FakeCamera[] = [];
afterEach(async () => {
  await Promise.all(cameras.splice(0).map((camera) => camera.close()));
});

function isUnrestricted(request: FakeRequest): boolean {
  return (
    request.path === '/axis-cgi/basicdeviceinfo.cgi' &&
    request.body.includes('getAllUnrestrictedProperties')
  );
}

/** A 12.x P3265-V as the reference records it: systemready and unrestricted properties anonymous. */
async function modernCamera(
  options: { factoryDefault?: boolean } & FakeCameraOptions = {},
): Promise<FakeCamera> {
  const camera = await startFakeCamera({
    realm: 'AXIS_B8A44F631339',
    users: options.factoryDefault === true ? {} : { root: PASSWORD },
    anonymousPaths: ['/axis-cgi/systemready.cgi'],
    isAnonymous: isUnrestricted,
    routes: {
      'POST /axis-cgi/systemready.cgi': () =>
        json(options.factoryDefault === true ? SYSTEM_READY_FACTORY_DEFAULT : SYSTEM_READY_12),
      'POST /axis-cgi/basicdeviceinfo.cgi': (request) =>
        json(
          isUnrestricted(request)
            ? GET_ALL_UNRESTRICTED_PROPERTIES_P3265V
            : GET_ALL_PROPERTIES_P3265V,
        ),
      'POST /axis-cgi/apidiscovery.cgi': () => json(GET_API_LIST_12_9),
      'GET /axis-cgi/param.cgi': () => text(PROPERTIES_9_80),
    },
    ...options,
  });
  cameras.push(camera);
  return camera;
}

/** A 5.51 P5512: no systemready, basicdeviceinfo or apidiscovery (reference §7.1). */
async function legacyCamera(options: FakeCameraOptions = {}): Promise<FakeCamera> {
  const camera = await startFakeCamera({
    realm: 'AXIS_00408CFB6888',
    users: { root: PASSWORD },
    routes: {
      'GET /axis-cgi/param.cgi': () =>
        text(BRAND_AND_PROPERTIES_5_51, 'text/plain; charset=ISO-8859-1'),
    },
    ...options,
  });
  cameras.push(camera);
  return camera;
}

function options(budget: AttemptBudget = createAttemptBudget()): ProbeOptions {
  return { budget, limiter: createRequestLimiter() };
}

function credentialed(camera: FakeCamera): FakeRequest[] {
  return camera.requests.filter((request) => request.authorization !== undefined);
}

describe('probe (reference §3.1 unauthenticated probe pattern, §4.3)', () => {
  it('reports a factory-defaulted camera as needs-setup with its identity, sending no credentials', async () => {
    const camera = await modernCamera({ factoryDefault: true });
    const result = await probe(camera.url, { username: 'root', password: PASSWORD }, options());
    expect(result).toMatchObject({
      accessState: 'needs-setup',
      identity: {
        serial: 'B8A44F631339',
        mac: 'B8:A4:4F:63:13:39',
        model: 'P3265-V',
        firmware: '12.11.77',
      },
      capabilities: ['basic-device-info', 'systemready'],
    });
    expect(result.error).toBeUndefined();
    expect(credentialed(camera)).toHaveLength(0);
  });

  it('authenticates, reads the full identity and the capabilities', async () => {
    const camera = await modernCamera();
    const result = await probe(camera.url, { username: 'root', password: PASSWORD }, options());
    expect(result.accessState).toBe('authenticated');
    expect(result.identity).toEqual({
      serial: 'B8A44F631339',
      mac: 'B8:A4:4F:63:13:39',
      model: 'P3265-V',
      productName: 'AXIS P3265-V Dome Camera',
      firmware: '12.11.77',
      hardwareId: '931.11',
    });
    expect(result.realmSerial).toBe('B8A44F631339');
    expect(result.capabilities).toEqual(
      expect.arrayContaining([
        'api-discovery',
        'basic-device-info',
        'fwmgr',
        'https',
        'network-settings',
        'param-cgi',
        'systemready',
        'time-service',
        'user-management',
      ]),
    );
    expect(
      camera.requests.every(
        (request) => request.method !== 'POST' || !request.path.includes('pwdgrp'),
      ),
    ).toBe(true);
  });

  it('asks nothing twice: one param.cgi list checks the login and feeds the capabilities', async () => {
    const camera = await modernCamera();
    await probe(camera.url, { username: 'root', password: PASSWORD }, options());
    expect(
      camera.requests.map(
        (request) =>
          `${request.authorization === undefined ? 'anonymous' : 'signed'} ${request.target.split('&')[0]}${request.body.match(/"method":"(\w+)"/)?.[1] ?? ''}`,
      ),
    ).toEqual([
      'anonymous /axis-cgi/systemready.cgisystemready',
      'anonymous /axis-cgi/basicdeviceinfo.cgigetAllUnrestrictedProperties',
      'anonymous /axis-cgi/param.cgi?action=list',
      'signed /axis-cgi/param.cgi?action=list',
      'signed /axis-cgi/apidiscovery.cgigetApiList',
    ]);
    expect(camera.requests[3]?.target).toBe(
      '/axis-cgi/param.cgi?action=list&group=root.Properties',
    );
  });

  it('falls back to basicdeviceinfo when the account may not list parameters (403)', async () => {
    const camera = await modernCamera({
      routes: {
        'POST /axis-cgi/systemready.cgi': () => json(SYSTEM_READY_12),
        'POST /axis-cgi/basicdeviceinfo.cgi': (request) =>
          json(isUnrestricted(request) ? UNRESTRICTED_2004_ERROR : GET_ALL_PROPERTIES_P3265V),
        'POST /axis-cgi/apidiscovery.cgi': () => json(GET_API_LIST_12_9),
        'GET /axis-cgi/param.cgi': () => ({ status: 403, body: 'Forbidden' }),
      },
    });
    const budget = createAttemptBudget();
    const result = await probe(
      camera.url,
      { username: 'root', password: PASSWORD },
      options(budget),
    );
    expect(result.accessState).toBe('authenticated');
    expect(result.identity).toMatchObject({ serial: 'B8A44F631339', model: 'P3265-V' });
    expect(budget.failures(new URL(camera.url).host)).toBe(0);
  });

  it('reports login-failed after exactly one rejected credentialed attempt, with the realm serial', async () => {
    const camera = await modernCamera();
    const budget = createAttemptBudget();
    const result = await probe(
      camera.url,
      { username: 'root', password: 'not-the-password' },
      options(budget),
    );
    expect(result).toMatchObject({
      accessState: 'login-failed',
      realmSerial: 'B8A44F631339',
      error: { code: 'VAPIX_LOGIN_FAILED' },
    });
    expect(result.identity?.serial).toBe('B8A44F631339');
    expect(credentialed(camera)).toHaveLength(1);
    expect(budget.failures(new URL(camera.url).host)).toBe(1);
    expect(JSON.stringify(result)).not.toContain('not-the-password');
  });

  it('reports login-failed without credentials to test, never sending any', async () => {
    const camera = await modernCamera();
    const result = await probe(camera.url, undefined, options());
    expect(result).toMatchObject({
      accessState: 'login-failed',
      error: { code: 'VAPIX_AUTH_REQUIRED' },
    });
    expect(credentialed(camera)).toHaveLength(0);
  });

  it('reads the serial from the realm of an anonymous getAllProperties when the unrestricted method is missing', async () => {
    const camera = await modernCamera({
      routes: {
        'POST /axis-cgi/systemready.cgi': () => json(SYSTEM_READY_12),
        'POST /axis-cgi/basicdeviceinfo.cgi': (request) =>
          json(isUnrestricted(request) ? UNRESTRICTED_2004_ERROR : GET_ALL_PROPERTIES_P3265V),
      },
    });
    const result = await probe(camera.url, null, options());
    expect(result).toMatchObject({
      accessState: 'login-failed',
      identity: null,
      realmSerial: 'B8A44F631339',
    });
    expect(result.capabilities).toContain('basic-device-info');
    expect(camera.requests.map((request) => request.body.match(/"method":"(\w+)"/)?.[1])).toEqual([
      'systemready',
      'getAllUnrestrictedProperties',
      'getAllProperties',
    ]);
    expect(credentialed(camera)).toHaveLength(0);
  });

  it('reads the serial of a 5.x camera from the realm of an anonymous param.cgi list', async () => {
    const camera = await legacyCamera({
      anonymousPaths: ['/axis-cgi/systemready.cgi', '/axis-cgi/basicdeviceinfo.cgi'],
    });
    const budget = createAttemptBudget();
    const result = await probe(camera.url, null, options(budget));
    expect(result).toMatchObject({
      accessState: 'login-failed',
      identity: null,
      realmSerial: '00408CFB6888',
      error: { code: 'VAPIX_AUTH_REQUIRED' },
    });
    expect(camera.requests.map((request) => request.path)).toEqual([
      '/axis-cgi/systemready.cgi',
      '/axis-cgi/basicdeviceinfo.cgi',
      '/axis-cgi/param.cgi',
    ]);
    expect(credentialed(camera)).toHaveLength(0);
    expect(budget.failures(new URL(camera.url).host)).toBe(0);
  });

  it('reads the identity from an anonymous param.cgi list a 5.x camera answers without credentials', async () => {
    const camera = await legacyCamera({
      anonymousPaths: [
        '/axis-cgi/systemready.cgi',
        '/axis-cgi/basicdeviceinfo.cgi',
        '/axis-cgi/param.cgi',
      ],
    });
    const result = await probe(camera.url, null, options());
    expect(result.accessState).toBe('login-failed');
    expect(result.identity).toMatchObject({ serial: '00408CFB6888', model: 'P5512' });
  });

  it('reports locked-out when the anonymous systemready answers 403, sending no credentials', async () => {
    const camera = await modernCamera();
    camera.setBlocked(true);
    const budget = createAttemptBudget();
    const result = await probe(
      camera.url,
      { username: 'root', password: PASSWORD },
      options(budget),
    );
    expect(result).toMatchObject({
      accessState: 'locked-out',
      identity: null,
      error: { code: 'VAPIX_LOCKED_OUT' },
    });
    expect(camera.requests).toHaveLength(1);
    expect(budget.lockedOutFor(new URL(camera.url).host)).toBeGreaterThan(0);
    const again = await probe(
      camera.url,
      { username: 'root', password: PASSWORD },
      options(budget),
    );
    expect(again.accessState).toBe('locked-out');
    expect(camera.requests).toHaveLength(1);
  });

  it('does not try credentials once the budget is spent', async () => {
    const camera = await modernCamera();
    const budget = createAttemptBudget({ maxFailures: 1 });
    budget.recordFailure(new URL(camera.url).host);
    const result = await probe(
      camera.url,
      { username: 'root', password: PASSWORD },
      options(budget),
    );
    expect(result).toMatchObject({
      accessState: 'login-failed',
      error: { code: 'VAPIX_BUDGET_EXHAUSTED' },
    });
    expect(credentialed(camera)).toHaveLength(0);
  });

  it('reports locked-out without contacting a camera that is blocking us', async () => {
    const camera = await modernCamera();
    const budget = createAttemptBudget();
    budget.recordLockout(new URL(camera.url).host);
    const result = await probe(
      camera.url,
      { username: 'root', password: PASSWORD },
      options(budget),
    );
    expect(result).toMatchObject({
      accessState: 'locked-out',
      identity: null,
      error: { code: 'VAPIX_LOCKED_OUT' },
    });
    expect(camera.requests).toHaveLength(0);
  });

  it('reports locked-out when the camera answers 403 after a rejected attempt', async () => {
    const camera = await modernCamera();
    const budget = createAttemptBudget();
    await probe(camera.url, { username: 'root', password: 'wrong' }, options(budget));
    camera.setBlocked(true);
    const result = await probe(
      camera.url,
      { username: 'root', password: PASSWORD },
      options(budget),
    );
    expect(result.accessState).toBe('locked-out');
  });

  it('propagates an abort by the caller instead of reporting the camera unreachable', async () => {
    const camera = await modernCamera();
    const controller = new AbortController();
    controller.abort();
    await expect(
      probe(
        camera.url,
        { username: 'root', password: PASSWORD },
        { ...options(), signal: controller.signal },
      ),
    ).rejects.toMatchObject({ code: 'VAPIX_ABORTED' });
    expect(camera.requests).toHaveLength(0);
  });

  it('reports a camera that does not answer as unreachable', async () => {
    const camera = await modernCamera();
    const url = camera.url;
    await camera.close();
    cameras.splice(0);
    const result = await probe(url, { username: 'root', password: PASSWORD }, options());
    expect(result).toMatchObject({
      accessState: 'unreachable',
      identity: null,
      capabilities: [],
      error: { code: 'VAPIX_UNREACHABLE' },
    });
  });

  it('falls back to param.cgi with credentials on 5.x where the JSON APIs answer 404', async () => {
    const camera = await legacyCamera({
      anonymousPaths: ['/axis-cgi/systemready.cgi', '/axis-cgi/basicdeviceinfo.cgi'],
    });
    const result = await probe(camera.url, { username: 'root', password: PASSWORD }, options());
    expect(result).toMatchObject({
      accessState: 'authenticated',
      identity: {
        serial: '00408CFB6888',
        mac: '00:40:8C:FB:68:88',
        model: 'P5512',
        firmware: '5.51.7',
        hardwareId: '1B3',
      },
      realmSerial: '00408CFB6888',
    });
    expect(result.capabilities).toEqual(['https', 'param-cgi', 'user-management']);
    expect(
      camera.requests.some(
        (request) =>
          request.path === '/axis-cgi/basicdeviceinfo.cgi' && request.authorization !== undefined,
      ),
    ).toBe(false);
    // The 404s already told what 5.x lacks: no apidiscovery, no second anonymous round.
    expect(camera.requests.map((request) => request.target)).toEqual([
      '/axis-cgi/systemready.cgi',
      '/axis-cgi/basicdeviceinfo.cgi',
      '/axis-cgi/param.cgi?action=list&group=root.Brand,root.Properties',
      '/axis-cgi/param.cgi?action=list&group=root.Brand,root.Properties',
    ]);
  });

  it('falls back to param.cgi when the JSON APIs are challenged before their 404', async () => {
    const camera = await legacyCamera();
    const budget = createAttemptBudget();
    const result = await probe(
      camera.url,
      { username: 'root', password: PASSWORD },
      options(budget),
    );
    expect(result.accessState).toBe('authenticated');
    expect(result.identity?.model).toBe('P5512');
    expect(budget.failures(new URL(camera.url).host)).toBe(0);
  });
});
