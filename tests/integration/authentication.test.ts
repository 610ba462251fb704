import {
  FIRMWARE_IDS,
  FIRMWARE_PROFILES,
  createSimulator,
  type SimulatedCamera,
  type Simulator,
} from '@custody/simulator';
import {
  VapixBudgetExhaustedError,
  VapixCertificateError,
  getUsers,
  listParams,
  probe,
  whoAmI,
  type CertificateInfo,
} from '@custody/vapix';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN,
  ADMIN_USERS,
  createClientPool,
  fastSimulator,
  httpUrlOf,
  httpsUrlOf,
  isolated,
} from './support/simulated-site.ts';

let simulator: Simulator;
const clients = createClientPool();

beforeAll(async () => {
  simulator = await createSimulator(fastSimulator('127.84.0.1'));
});

afterEach(() => clients.closeAll());

afterAll(() => simulator.close());

describe.each(FIRMWARE_IDS)('authentication with a %s camera', (firmware) => {
  const profile = FIRMWARE_PROFILES[firmware];
  let camera: SimulatedCamera;

  beforeAll(async () => {
    camera = await simulator.addCamera({ firmware, users: ADMIN_USERS });
  });

  it('answers one Digest challenge, then costs one round trip per call', async () => {
    const { sessions } = isolated();
    const admin = clients.open({ url: httpUrlOf(camera), credentials: ADMIN, sessions });
    const failures = camera.stats.authFailures;
    let requests = camera.stats.requests;

    expect((await admin.send(whoAmI())).username).toBe('root');
    expect(camera.stats.requests - requests).toBe(2);

    requests = camera.stats.requests;
    // A comma in the query and a form body: the digest uri must match the target byte for byte.
    await admin.send(listParams(['root.Brand', 'root.Properties.System']));
    await admin.send(getUsers());
    await admin.send(whoAmI());
    expect(camera.stats.requests - requests).toBe(3);

    // Another client of the same process reuses the nonce: no new challenge.
    const second = clients.open({ url: httpUrlOf(camera), credentials: ADMIN, sessions });
    requests = camera.stats.requests;
    await second.send(whoAmI());
    await second.send(whoAmI());
    expect(camera.stats.requests - requests).toBe(2);
    expect(camera.stats.authFailures).toBe(failures);
  });

  it('stops after three wrong passwords and then fails fast without sending anything', async () => {
    const { budget } = isolated();
    const wrong = clients.open({
      url: httpUrlOf(camera),
      credentials: { ...ADMIN, password: 'wrong-Password-9' },
      budget,
    });
    const failures = camera.stats.authFailures;

    for (let attempt = 1; attempt <= 3; attempt += 1) {
      await expect(wrong.send(whoAmI())).rejects.toMatchObject({ code: 'VAPIX_LOGIN_FAILED' });
      expect(camera.stats.authFailures - failures).toBe(attempt);
    }

    const requests = camera.stats.requests;
    await expect(wrong.send(whoAmI())).rejects.toBeInstanceOf(VapixBudgetExhaustedError);
    // The budget is per camera: the right password waits too, rather than risk a block.
    const right = clients.open({ url: httpUrlOf(camera), credentials: ADMIN, budget });
    await expect(right.send(whoAmI())).rejects.toMatchObject({ code: 'VAPIX_BUDGET_EXHAUSTED' });
    expect(camera.stats.requests).toBe(requests);
    expect(camera.stats.authFailures - failures).toBe(3);
  });

  it('pins the HTTPS certificate on first use and authenticates over it', async () => {
    const seen: CertificateInfo[] = [];
    const result = await probe(httpsUrlOf(camera), ADMIN, {
      ...isolated(),
      tls: { mode: 'pin' },
      onCertificate: (info) => seen.push(info),
    });
    expect(result.accessState).toBe('authenticated');
    expect(result.identity?.serial).toBe(camera.serial);
    expect(result.tls?.fingerprint256).toBe(camera.certificateFingerprint256);
    expect(seen[0]).toEqual({ fingerprint256: camera.certificateFingerprint256, firstUse: true });
  });

  it('refuses a certificate that differs from the pin, before any HTTP is sent', async () => {
    const requests = camera.stats.requests;
    const pinned = clients.open({
      url: httpsUrlOf(camera),
      credentials: ADMIN,
      tls: { mode: 'pin', fingerprint256: 'AB'.repeat(32) },
    });
    const call = pinned.send(whoAmI());
    await expect(call).rejects.toBeInstanceOf(VapixCertificateError);
    await expect(call).rejects.toMatchObject({
      code: 'VAPIX_TLS_PIN_MISMATCH',
      fingerprint256: camera.certificateFingerprint256,
    });
    const probed = await probe(httpsUrlOf(camera), ADMIN, {
      ...isolated(),
      tls: { mode: 'pin', fingerprint256: 'AB'.repeat(32) },
    });
    expect(probed).toMatchObject({
      accessState: 'unreachable',
      error: { code: 'VAPIX_TLS_PIN_MISMATCH' },
    });
    expect(camera.stats.requests).toBe(requests);
  });

  it('rejects the self-signed certificate under default verification, and trusts it as a CA', async () => {
    const verifying = clients.open({ url: httpsUrlOf(camera), credentials: ADMIN });
    await expect(verifying.send(whoAmI())).rejects.toMatchObject({
      code: 'VAPIX_TLS_UNTRUSTED',
    });
    const trusting = clients.open({
      url: httpsUrlOf(camera),
      credentials: ADMIN,
      tls: { mode: 'verify', ca: camera.certificatePem ?? '' },
    });
    expect((await trusting.send(whoAmI())).username).toBe('root');
  });

  if (profile.httpsAuthSchemes.includes('digest')) {
    it('keeps one round trip per call over HTTPS, where this firmware offers Digest', async () => {
      const admin = clients.open({
        url: httpsUrlOf(camera),
        credentials: ADMIN,
        tls: { mode: 'pin', fingerprint256: camera.certificateFingerprint256 ?? '' },
      });
      await admin.send(whoAmI());
      const requests = camera.stats.requests;
      await admin.send(whoAmI());
      expect(camera.stats.requests - requests).toBe(1);
    });
  } else {
    it('authenticates with Basic, the only scheme offered over HTTPS, one round trip per call', async () => {
      const { sessions } = isolated();
      const admin = clients.open({
        url: httpsUrlOf(camera),
        credentials: ADMIN,
        sessions,
        tls: { mode: 'pin', fingerprint256: camera.certificateFingerprint256 ?? '' },
      });
      expect(profile.httpsAuthSchemes).toEqual(['basic']);
      let requests = camera.stats.requests;
      expect((await admin.send(whoAmI())).username).toBe('root');
      expect(camera.stats.requests - requests).toBe(2);
      requests = camera.stats.requests;
      await admin.send(whoAmI());
      await admin.send(listParams('root.Brand'));
      expect(camera.stats.requests - requests).toBe(2);
    });
  }
});
