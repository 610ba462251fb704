import {
  FIRMWARE_IDS,
  FIRMWARE_PROFILES,
  createSimulator,
  type SimulatedCamera,
  type Simulator,
} from '@custody/simulator';
import {
  cameraKeyOf,
  createAttemptBudget,
  createAuthSessionCache,
  createRequestLimiter,
  createVapixClient,
  listParams,
  probe,
} from '@custody/vapix';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN,
  ADMIN_USERS,
  fastSimulator,
  httpUrlOf,
  isolated,
  macOf,
} from './support/simulated-site.ts';

let simulator: Simulator;
// Brute-force windows are one simulated second: at 100× that is 10 ms, too short to trip on
// purpose, so the lock-out cameras run on real time.
let realTime: Simulator;

beforeAll(async () => {
  simulator = await createSimulator(fastSimulator('127.81.0.1'));
  realTime = await createSimulator({ addressBase: '127.81.100.1', seed: 8 });
});

afterAll(async () => {
  await Promise.all([simulator.close(), realTime.close()]);
});

/**
 * More than 20 rejected logins within a second from this host, by a tool that keeps no budget;
 * repeated until the camera turns requests away, in case a slow machine spread a burst thin.
 */
async function guessPasswords(camera: SimulatedCamera): Promise<void> {
  const url = httpUrlOf(camera);
  const guess = async (password: string) => {
    const client = createVapixClient({
      url,
      credentials: { username: 'root', password },
      budget: createAttemptBudget(),
      sessions: createAuthSessionCache(),
      limiter: createRequestLimiter(),
    });
    try {
      await client.send(listParams('root.Brand'));
    } finally {
      await client.close();
    }
  };
  for (let burst = 0; burst < 5 && camera.stats.blocked === 0; burst += 1) {
    await Promise.allSettled(Array.from({ length: 24 }, (_, index) => guess(`guess-${index}`)));
  }
}

describe.each(FIRMWARE_IDS)('probe of a %s camera', (firmware) => {
  const profile = FIRMWARE_PROFILES[firmware];
  let camera: SimulatedCamera;

  beforeAll(async () => {
    camera = await simulator.addCamera({ firmware, users: ADMIN_USERS });
  });

  it('authenticates with the right credentials and reads the full identity', async () => {
    const result = await probe(httpUrlOf(camera), ADMIN, isolated());
    expect(result.accessState).toBe('authenticated');
    expect(result.error).toBeUndefined();
    expect(result.identity).toEqual({
      serial: camera.serial,
      mac: macOf(camera.serial),
      model: profile.defaults.model,
      productName: profile.defaults.productFullName,
      firmware: profile.version,
      hardwareId: profile.defaults.hardwareId,
    });
    expect(result.identity?.serial).toMatch(/^[0-9A-F]{12}$/);
    expect(result.realmSerial).toBe(camera.serial);
  });

  it('lists the capabilities the firmware offers', async () => {
    const result = await probe(httpUrlOf(camera), ADMIN, isolated());
    const listed = profile.apiDiscovery?.apis.map((api) => api.id) ?? [];
    expect(result.capabilities).toEqual(expect.arrayContaining([...listed, 'https', 'param-cgi']));
    if (profile.systemReady === undefined) {
      expect(result.capabilities).toEqual(['https', 'param-cgi', 'user-management']);
    } else {
      expect(result.capabilities).toContain('systemready');
    }
  });

  it('reports login-failed after one credentialed attempt per wrong credential', async () => {
    const options = isolated();
    const before = camera.stats.authFailures;

    const wrongPassword = await probe(
      httpUrlOf(camera),
      { username: 'root', password: 'not-the-password' },
      options,
    );
    expect(wrongPassword).toMatchObject({
      accessState: 'login-failed',
      realmSerial: camera.serial,
      error: { code: 'VAPIX_LOGIN_FAILED' },
    });
    expect(camera.stats.authFailures - before).toBe(1);

    const wrongUser = await probe(
      httpUrlOf(camera),
      { username: 'nobody', password: ADMIN.password },
      options,
    );
    expect(wrongUser.accessState).toBe('login-failed');
    expect(camera.stats.authFailures - before).toBe(2);
    expect(options.budget.failures(cameraKeyOf(httpUrlOf(camera)))).toBe(2);
    expect(JSON.stringify(wrongPassword)).not.toContain('not-the-password');
  });

  it('identifies the camera anonymously, spending no attempt', async () => {
    const options = isolated();
    const before = camera.stats.authFailures;
    const result = await probe(httpUrlOf(camera), null, options);
    expect(result).toMatchObject({
      accessState: 'login-failed',
      error: { code: 'VAPIX_AUTH_REQUIRED' },
    });
    expect(result.identity?.serial ?? result.realmSerial).toBe(camera.serial);
    if (profile.basicDeviceInfo?.unrestrictedProperties === true) {
      expect(result.identity?.model).toBe(profile.defaults.model);
    }
    expect(camera.stats.authFailures).toBe(before);
    expect(options.budget.failures(cameraKeyOf(httpUrlOf(camera)))).toBe(0);
  });

  if (profile.systemReady !== undefined) {
    it('reports a factory-defaulted camera as needs-setup without sending credentials', async () => {
      const fresh = await simulator.addCamera({ firmware, state: 'factory-default' });
      const result = await probe(httpUrlOf(fresh), ADMIN, isolated());
      expect(result.accessState).toBe('needs-setup');
      expect(result.identity?.serial ?? result.realmSerial).toBe(fresh.serial);
      expect(result.error).toBeUndefined();
      expect(fresh.stats.authFailures).toBe(0);
    });
  } else {
    it('cannot tell a factory-defaulted camera from a wrong password, as it has no systemready', async () => {
      const fresh = await simulator.addCamera({ firmware, state: 'factory-default' });
      const result = await probe(httpUrlOf(fresh), ADMIN, isolated());
      expect(result).toMatchObject({
        accessState: 'login-failed',
        realmSerial: fresh.serial,
        error: { code: 'VAPIX_LOGIN_FAILED' },
      });
      expect(fresh.stats.authFailures).toBe(1);
    });
  }

  it('reports a powered-off camera as unreachable', async () => {
    const spare = await simulator.addCamera({ firmware, users: ADMIN_USERS });
    const url = httpUrlOf(spare);
    spare.control.powerOff();
    const result = await probe(url, ADMIN, isolated());
    expect(result).toMatchObject({
      accessState: 'unreachable',
      identity: null,
      capabilities: [],
      error: { code: 'VAPIX_UNREACHABLE' },
    });
  });

  it('reports locked-out while the camera blocks this host after a password-guessing burst', async () => {
    const blocked = await realTime.addCamera({ firmware, users: ADMIN_USERS });
    await guessPasswords(blocked);
    expect(blocked.stats.authFailures).toBeGreaterThan(20);
    expect(blocked.stats.blocked).toBeGreaterThan(0);
    const failures = blocked.stats.authFailures;
    const requests = blocked.stats.requests;
    const options = isolated();

    const result = await probe(httpUrlOf(blocked), ADMIN, options);
    expect(result).toMatchObject({
      accessState: 'locked-out',
      identity: null,
      error: { code: 'VAPIX_LOCKED_OUT' },
    });
    expect(blocked.stats.authFailures).toBe(failures);
    expect(blocked.stats.requests - requests).toBe(1);

    // The block is remembered: a second probe does not contact the camera at all.
    const again = await probe(httpUrlOf(blocked), ADMIN, options);
    expect(again.accessState).toBe('locked-out');
    expect(blocked.stats.requests - requests).toBe(1);
  });
});
