import { createSimulator, type Simulator } from '@custody/simulator';
import {
  createFirstAdmin,
  factoryDefaultWithFallback,
  getUsers,
  type Credentials,
} from '@custody/vapix';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClientPool, fastSimulator, httpUrlOf, isolated } from './support/simulated-site.ts';

// A camera factory-defaulted and recommissioned with a new password for the same user, at the
// same address, by a process that still holds a Digest nonce the old password worked with: the
// nonce died with the reboot, and the new password must not be reported as rejected for it.

const OLD: Credentials = { username: 'root', password: 'Old-Root-Heron-4402' };
const NEW: Credentials = { username: 'root', password: 'New-Root-Marten-7719' };

let simulator: Simulator;
const pool = createClientPool();

beforeAll(async () => {
  simulator = await createSimulator(fastSimulator('127.104.0.1'));
});

afterAll(async () => {
  await pool.closeAll();
  await simulator.close();
});

describe('a new password for the same user after a factory default', () => {
  it('is accepted at its first attempt although a nonce of the old one is cached', async () => {
    const camera = await simulator.addCamera({
      firmware: '12.x',
      users: [{ ...OLD, role: 'admin' }],
    });
    const url = httpUrlOf(camera);
    const shared = isolated();
    const old = pool.open({ url, credentials: OLD, ...shared });
    expect((await old.send(getUsers())).accounts.map((account) => account.username)).toEqual([
      'root',
    ]);
    await factoryDefaultWithFallback(old, 'soft');
    await camera.waitForPhase('booting');
    await camera.waitForPhase('ready');
    await createFirstAdmin(pool.open({ url, credentials: null, ...shared }), NEW, {
      expectedSerial: camera.serial,
    });
    const failuresBefore = camera.stats.authFailures;
    const fresh = pool.open({ url, credentials: NEW, ...shared });
    expect((await fresh.send(getUsers())).accounts.map((account) => account.username)).toEqual([
      'root',
    ]);
    expect(camera.stats.authFailures).toBe(failuresBefore);
    // The old password is still refused, once.
    await expect(old.send(getUsers())).rejects.toMatchObject({ code: 'VAPIX_LOGIN_FAILED' });
  });
});
