import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorClock } from './clock.ts';
import type { SimulatedCamera } from './simulated-camera.ts';
import { createSimulator, type Simulator } from './simulator.ts';
import {
  basicAuthorization,
  digestAuthorization,
  digestChallenges,
  sendRequest,
  sendWithDigest,
  type Credentials,
} from './test-support/vapix-request.ts';

const admin: Credentials = { username: 'root', password: 'pass-Word-1' };
const wrong: Credentials = { username: 'root', password: 'guess' };
const PARAM = '/axis-cgi/param.cgi?action=list&group=root.Brand.ProdNbr';

let simulator: Simulator;
let modern: SimulatedCamera;
let legacy: SimulatedCamera;
let lts: SimulatedCamera;

beforeAll(async () => {
  // A 200 ms nonce lifetime lets the stale-nonce test run in real time.
  simulator = await createSimulator({ addressPool: 'ports', nonceLifetimeMs: 200, seed: 3 });
  const users = [{ ...admin, role: 'admin' as const }];
  modern = await simulator.addCamera({ firmware: '12.x', users });
  legacy = await simulator.addCamera({ firmware: '5.51', users });
  lts = await simulator.addCamera({ firmware: '9.80', users });
});

afterAll(async () => {
  await simulator.close();
});

async function challenge(camera: SimulatedCamera, target = PARAM) {
  const response = await sendRequest(camera.httpUrl ?? '', target);
  const [digest] = digestChallenges(response);
  if (!digest) throw new Error('no Digest challenge');
  return { response, digest };
}

describe('Digest authentication', () => {
  it('challenges with MD5, qop=auth, the AXIS_<serial> realm and an Apache-style nonce', async () => {
    const { response, digest } = await challenge(lts);
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(
      /^Digest realm="AXIS_[0-9A-F]{12}", nonce="[A-Za-z0-9+/]{11}=[0-9a-f]{40}", algorithm=MD5, qop="auth"$/,
    );
    expect(digest.realm).toBe(`AXIS_${lts.serial}`);
    expect(response.headers['content-type']).toBe('text/html; charset=iso-8859-1');
  });

  it('sends the 12.x Apache banner and JSON content type on 401', async () => {
    const { response } = await challenge(modern);
    expect(response.headers.server).toBe('Apache/2.4.68 (Unix) OpenSSL/3.5.7');
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
  });

  it('accepts a correct response and answers with the page', async () => {
    const response = await sendWithDigest(modern.httpUrl ?? '', PARAM, admin);
    expect(response.status).toBe(200);
    expect(response.text).toBe('root.Brand.ProdNbr=P3265-V\n');
  });

  it('answers 400 when the digest uri differs from the request-target by one byte', async () => {
    const { digest } = await challenge(modern);
    const encodedTarget = '/axis-cgi/param.cgi?action=list&group=root%2EBrand.ProdNbr';
    const response = await sendRequest(modern.httpUrl ?? '', PARAM, {
      headers: {
        Authorization: digestAuthorization({
          credentials: admin,
          challenge: digest,
          method: 'GET',
          uri: encodedTarget,
          nc: 1,
        }),
      },
    });
    expect(response.status).toBe(400);
  });

  it('refuses a replayed nonce count with 401', async () => {
    const { digest } = await challenge(modern);
    const headers = {
      Authorization: digestAuthorization({
        credentials: admin,
        challenge: digest,
        method: 'GET',
        uri: PARAM,
        nc: 1,
        cnonce: 'fixedcnonce',
      }),
    };
    expect((await sendRequest(modern.httpUrl ?? '', PARAM, { headers })).status).toBe(200);
    expect((await sendRequest(modern.httpUrl ?? '', PARAM, { headers })).status).toBe(401);
    const next = digestAuthorization({
      credentials: admin,
      challenge: digest,
      method: 'GET',
      uri: PARAM,
      nc: 2,
    });
    expect(
      (await sendRequest(modern.httpUrl ?? '', PARAM, { headers: { Authorization: next } })).status,
    ).toBe(200);
  });

  it('marks an expired nonce stale when the password is right, and not when it is wrong', async () => {
    const { digest } = await challenge(modern);
    await new Promise((resolve) => setTimeout(resolve, 250));
    const authorization = (credentials: Credentials) =>
      digestAuthorization({ credentials, challenge: digest, method: 'GET', uri: PARAM, nc: 1 });
    const stale = await sendRequest(modern.httpUrl ?? '', PARAM, {
      headers: { Authorization: authorization(admin) },
    });
    expect(stale.status).toBe(401);
    expect(stale.headers['www-authenticate']).toContain('stale=true, qop="auth"');
    expect(digestChallenges(stale)[0]?.stale).toBe(true);
    const wrongPassword = await sendRequest(modern.httpUrl ?? '', PARAM, {
      headers: { Authorization: authorization(wrong) },
    });
    expect(wrongPassword.status).toBe(401);
    expect(digestChallenges(wrongPassword)[0]?.stale).toBe(false);
  });

  it('counts wrong passwords as authentication failures', async () => {
    const before = modern.stats.authFailures;
    await sendWithDigest(modern.httpUrl ?? '', PARAM, wrong);
    expect(modern.stats.authFailures).toBe(before + 1);
  });
});

describe('Basic authentication by generation', () => {
  it('never accepts Basic over plain HTTP on 12.x', async () => {
    const response = await sendRequest(modern.httpUrl ?? '', PARAM, {
      headers: { Authorization: basicAuthorization(admin) },
    });
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/^Digest /);
  });

  it('offers only Basic over HTTPS on 12.x, and accepts it', async () => {
    const ca = modern.certificatePem;
    const base = modern.httpsUrl ?? '';
    const anonymous = await sendRequest(base, PARAM, { ca });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe(`Basic realm="AXIS_${modern.serial}"`);
    const basic = await sendRequest(base, PARAM, {
      ca,
      headers: { Authorization: basicAuthorization(admin) },
    });
    expect(basic.status).toBe(200);
    expect(basic.text).toBe('root.Brand.ProdNbr=P3265-V\n');
  });

  it('ignores Digest over HTTPS on 12.x', async () => {
    const { digest } = await challenge(modern);
    const response = await sendRequest(modern.httpsUrl ?? '', PARAM, {
      ca: modern.certificatePem,
      headers: {
        Authorization: digestAuthorization({
          credentials: admin,
          challenge: digest,
          method: 'GET',
          uri: PARAM,
          nc: 1,
        }),
      },
    });
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/^Basic /);
  });

  it('offers Digest and Basic on 5.51 (basic_digest) and accepts both', async () => {
    const { response } = await challenge(legacy);
    const offered = response.headerValues('www-authenticate');
    expect(offered.map((value) => value.split(' ')[0])).toEqual(['Digest', 'Basic']);
    expect(response.text).toContain('<TITLE>401 Unauthorized</TITLE>');
    const basic = await sendRequest(legacy.httpUrl ?? '', PARAM, {
      headers: { Authorization: basicAuthorization(admin) },
    });
    expect(basic.status).toBe(200);
    expect((await sendWithDigest(legacy.httpUrl ?? '', PARAM, admin)).status).toBe(200);
  });

  it('offers Digest over HTTPS on 9.80 and pins to the camera certificate', async () => {
    const response = await sendWithDigest(lts.httpsUrl ?? '', PARAM, admin, {
      ca: lts.certificatePem,
    });
    expect(response.status).toBe(200);
    expect(lts.certificateFingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    await expect(
      sendRequest(lts.httpsUrl ?? '', PARAM, { ca: modern.certificatePem }),
    ).rejects.toThrow();
  });
});

describe('brute-force blocking', () => {
  it('blocks a source for 10 s after more than 20 failures in a second, then lets it in again', async () => {
    // Real time, except that the test can jump the clock forward.
    let skew = 0;
    const clock: SimulatorClock = {
      now: () => Date.now() + skew,
      setTimeout: (callback, ms) => setTimeout(callback, ms),
      clearTimeout: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
    };
    const blockSimulator = await createSimulator({ addressPool: 'ports', clock, seed: 4 });
    try {
      const camera = await blockSimulator.addCamera({
        firmware: '11.11',
        users: [{ ...admin, role: 'admin' }],
      });
      const base = camera.httpUrl ?? '';
      const { digest } = await challenge(camera);
      const attempt = (n: number) =>
        sendRequest(base, PARAM, {
          headers: {
            Authorization: digestAuthorization({
              credentials: wrong,
              challenge: digest,
              method: 'GET',
              uri: PARAM,
              nc: n,
            }),
          },
        });
      const statuses = await Promise.all(
        Array.from({ length: 21 }, (_, index) => attempt(index + 1)),
      );
      expect(statuses.every((response) => response.status === 401)).toBe(true);
      const blocked = await sendWithDigest(base, PARAM, admin);
      expect(blocked.status).toBe(403);
      expect(
        (await sendRequest(base, '/axis-cgi/systemready.cgi', { method: 'POST', body: '{}' }))
          .status,
      ).toBe(403);
      expect(camera.stats.blocked).toBeGreaterThanOrEqual(2);
      skew += 9_000;
      expect((await sendWithDigest(base, PARAM, admin)).status).toBe(403);
      skew += 1_500;
      expect((await sendWithDigest(base, PARAM, admin)).status).toBe(200);
    } finally {
      await blockSimulator.close();
    }
  });

  it('does not block after 20 failures', async () => {
    const blockSimulator = await createSimulator({ addressPool: 'ports', seed: 5 });
    try {
      const camera = await blockSimulator.addCamera({
        firmware: '12.x',
        users: [{ ...admin, role: 'admin' }],
      });
      for (let attempt = 0; attempt < 20; attempt += 1) {
        expect((await sendWithDigest(camera.httpUrl ?? '', PARAM, wrong)).status).toBe(401);
      }
      expect((await sendWithDigest(camera.httpUrl ?? '', PARAM, admin)).status).toBe(200);
    } finally {
      await blockSimulator.close();
    }
  });
});
