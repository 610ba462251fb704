import {
  FIRMWARE_IDS,
  FIRMWARE_PROFILES,
  createSimulator,
  type SimulatedCamera,
  type Simulator,
} from '@custody/simulator';
import {
  VapixPreconditionError,
  addUser,
  createFirstAdmin,
  factoryDefaultWithFallback,
  firmwareStatus,
  getNetworkInfo,
  listParams,
  probe,
  restartWithFallback,
  setIPv4WithFallback,
  systemReady,
  updateUser,
  waitForRestart,
  whoAmI,
  type VapixClient,
} from '@custody/vapix';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN,
  ADMIN_USERS,
  cameraBootedSince,
  createClientPool,
  fastSimulator,
  httpUrlOf,
  isolated,
  until,
} from './support/simulated-site.ts';

let simulator: Simulator;
const clients = createClientPool();

beforeAll(async () => {
  simulator = await createSimulator(fastSimulator('127.83.0.1'));
});

afterEach(() => clients.closeAll());

afterAll(() => simulator.close());

/** Polls fast: at 100× a reboot keeps the ports closed for 50 ms. */
const RESTART_POLLING = { intervalMs: 10, timeoutMs: 10_000 };

describe.each(FIRMWARE_IDS.map((firmware, index) => [firmware, index] as const))(
  'maintenance of a %s camera',
  (firmware, index) => {
    const profile = FIRMWARE_PROFILES[firmware];
    const hasFwmgr = profile.firmwareManagement !== undefined;
    const expectedVia = hasFwmgr ? 'fwmgr' : 'legacy';

    async function configuredCamera(): Promise<{ camera: SimulatedCamera; admin: VapixClient }> {
      const camera = await simulator.addCamera({ firmware, users: ADMIN_USERS });
      return { camera, admin: clients.open({ url: httpUrlOf(camera), credentials: ADMIN }) };
    }

    if (profile.systemReady !== undefined) {
      it('creates the first administrator on a factory-defaulted camera', async () => {
        const camera = await simulator.addCamera({ firmware, state: 'factory-default' });
        const client = clients.open({ url: httpUrlOf(camera) });
        const account = { username: 'custody', password: 'Custody-Admin-1' };
        // 9.80 refuses anonymous properties: the serial check then reads the realm.
        const result = await createFirstAdmin(client, account, { expectedSerial: camera.serial });

        expect(result).toEqual({
          username: 'custody',
          createdRoot: profile.firstAdminMustBeRoot,
        });
        expect(camera.state.needsetup).toBe(false);
        expect(camera.state.users).toContainEqual({ username: 'custody', role: 'admin' });
        expect(camera.state.users.some((user) => user.username === 'root')).toBe(
          profile.firstAdminMustBeRoot,
        );
        const probed = await probe(httpUrlOf(camera), account, isolated());
        expect(probed.accessState).toBe('authenticated');
      });

      it('refuses to create a first administrator on a configured camera', async () => {
        const { camera } = await configuredCamera();
        const client = clients.open({ url: httpUrlOf(camera) });
        const call = createFirstAdmin(client, { username: 'root', password: 'Other-Pass-2' });
        await expect(call).rejects.toBeInstanceOf(VapixPreconditionError);
        expect(camera.state.users).toEqual([{ username: 'root', role: 'admin' }]);
      });
    } else {
      it('cannot confirm factory-default state without systemready, so creates no administrator', async () => {
        const camera = await simulator.addCamera({ firmware, state: 'factory-default' });
        const client = clients.open({ url: httpUrlOf(camera) });
        await expect(createFirstAdmin(client, ADMIN)).rejects.toMatchObject({
          code: 'VAPIX_UNSUPPORTED',
          message: expect.stringMatching(
            /no systemready\.cgi .*cannot confirm .*factory-default state.*web interface/,
          ) as string,
        });
        expect(camera.state.users).toEqual([]);
      });

      it('accepts the anonymous first-root recipe of the reference on a factory-defaulted camera', async () => {
        const camera = await simulator.addCamera({ firmware, state: 'factory-default' });
        const client = clients.open({ url: httpUrlOf(camera) });
        await client.send(
          addUser({ ...ADMIN, group: 'root', roles: ['admin', 'operator', 'viewer', 'ptz'] }),
          { credentials: null },
        );
        expect(camera.state.users).toEqual([{ username: 'root', role: 'admin' }]);
        const asRoot = clients.open({ url: httpUrlOf(camera), credentials: ADMIN });
        expect((await asRoot.send(whoAmI())).username).toBe('root');
      });
    }

    if (profile.systemReady !== undefined) {
      it('refuses to create a first administrator on a camera reporting another serial', async () => {
        const camera = await simulator.addCamera({ firmware, state: 'factory-default' });
        const client = clients.open({ url: httpUrlOf(camera) });
        const call = createFirstAdmin(client, ADMIN, { expectedSerial: '00408C000000' });
        await expect(call).rejects.toBeInstanceOf(VapixPreconditionError);
        expect(camera.state.needsetup).toBe(true);
      });
    }

    const firmwareManagement = profile.firmwareManagement;
    if (firmwareManagement !== undefined) {
      it('reports the active firmware through firmware management', async () => {
        const { admin } = await configuredCamera();
        const status = await admin.send(firmwareStatus());
        expect(status).toMatchObject({
          apiVersion: firmwareManagement.apiVersion,
          activeFirmwareVersion: profile.version,
        });
        expect(status.activeFirmwarePart).toMatch(/^\d+$/);
      });
    } else {
      it('has no firmware management, which surfaces as unsupported', async () => {
        const { admin } = await configuredCamera();
        await expect(admin.send(firmwareStatus())).rejects.toMatchObject({
          code: 'VAPIX_UNSUPPORTED',
        });
      });
    }

    /** A client that holds no nonce from before the restart (see the last test of this block). */
    const freshAdmin = (camera: SimulatedCamera): VapixClient =>
      clients.open({ url: httpUrlOf(camera), credentials: ADMIN });

    const systemReadySpec = profile.systemReady;
    if (systemReadySpec !== undefined) {
      it('reboots and sees the restart through systemready', async () => {
        const { camera, admin } = await configuredCamera();
        const baseline = await admin.send(systemReady(), { credentials: null });
        const bootCount = camera.state.bootCount;

        expect(await restartWithFallback(admin)).toEqual({ via: expectedVia });
        const restarted = await waitForRestart(admin, baseline, RESTART_POLLING);

        // Whether a poll lands while the ports are closed is timing; either proof is right.
        expect(
          systemReadySpec.uptimeAndBootId ? ['bootid-changed', 'went-down'] : ['went-down'],
        ).toContain(restarted.evidence);
        expect(restarted.ready.systemReady).toBe(true);
        expect(restarted.ready.needSetup).toBe(false);
        expect(camera.state.bootCount).toBe(bootCount + 1);
        expect(camera.state.resetSource).toBe('reboot');
        if (systemReadySpec.uptimeAndBootId) {
          expect(restarted.ready.bootId).not.toBe(baseline.bootId);
        }
        expect((await freshAdmin(camera).send(whoAmI())).username).toBe('root');
      });

      if (systemReadySpec.uptimeAndBootId) {
        it('recognises a restart it never saw happen by the changed boot id', async () => {
          const { camera, admin } = await configuredCamera();
          const baseline = await admin.send(systemReady(), { credentials: null });
          const bootCount = camera.state.bootCount;
          camera.control.reboot();
          await cameraBootedSince(camera, bootCount);

          const restarted = await waitForRestart(admin, baseline, RESTART_POLLING);
          expect(restarted).toMatchObject({ evidence: 'bootid-changed', polls: 1 });
          expect(restarted.ready.bootId).toBe(camera.state.bootId);
        });
      }

      it('soft-resets in place: back at the same address, needing setup', async () => {
        const { camera, admin } = await configuredCamera();
        const url = httpUrlOf(camera);
        const baseline = await admin.send(systemReady(), { credentials: null });

        expect(await factoryDefaultWithFallback(admin, 'soft')).toEqual({ via: expectedVia });
        const restarted = await waitForRestart(admin, baseline, RESTART_POLLING);

        expect(restarted.ready.needSetup).toBe(true);
        expect(httpUrlOf(camera)).toBe(url);
        expect(camera.state.resetSource).toBe('factoryDefault');
        expect(camera.state.users).toEqual([]);
        expect((await probe(url, ADMIN, isolated())).accessState).toBe('needs-setup');
      });
    } else {
      it('restarts through the legacy restart.cgi', async () => {
        const { camera, admin } = await configuredCamera();
        const bootCount = camera.state.bootCount;
        expect(await restartWithFallback(admin)).toEqual({ via: 'legacy' });
        await cameraBootedSince(camera, bootCount);
        expect(camera.state.resetSource).toBe('reboot');
        expect((await freshAdmin(camera).send(whoAmI())).username).toBe('root');
      });

      it('cannot watch a restart without systemready and says so at once', async () => {
        const { camera, admin } = await configuredCamera();
        const requests = camera.stats.requests;
        await expect(waitForRestart(admin, {}, RESTART_POLLING)).rejects.toMatchObject({
          code: 'VAPIX_UNSUPPORTED',
        });
        expect(camera.stats.requests - requests).toBe(1);
      });

      it('soft-resets in place through the legacy factorydefault.cgi', async () => {
        const { camera, admin } = await configuredCamera();
        const url = httpUrlOf(camera);
        const bootCount = camera.state.bootCount;
        expect(await factoryDefaultWithFallback(admin, 'soft')).toEqual({ via: 'legacy' });
        await cameraBootedSince(camera, bootCount);
        expect(httpUrlOf(camera)).toBe(url);
        expect(camera.state.resetSource).toBe('factoryDefault');
        expect(camera.state.users).toEqual([]);
      });
    }

    // Every boot invalidates the camera's nonces and Apache answers an old one with a plain 401
    // (stale=false): the client answers the fresh challenge once and counts no failure.
    it('keeps working credentials working across a reboot with its cached nonce', async () => {
      const { camera, admin } = await configuredCamera();
      expect((await admin.send(whoAmI())).username).toBe('root');
      const bootCount = camera.state.bootCount;
      camera.control.reboot();
      await cameraBootedSince(camera, bootCount);
      expect((await admin.send(whoAmI())).username).toBe('root');
      expect(admin.budget.failures(admin.cameraKey)).toBe(0);
    });

    it('still counts exactly one failure when the password changed under a cached nonce', async () => {
      const { camera, admin } = await configuredCamera();
      await admin.send(updateUser({ username: ADMIN.username, password: 'Rotated-Elsewhere-9' }));
      const failuresBefore = camera.stats.authFailures;
      await expect(admin.send(whoAmI())).rejects.toMatchObject({ code: 'VAPIX_LOGIN_FAILED' });
      expect(admin.budget.failures(admin.cameraKey)).toBe(1);
      expect(camera.stats.authFailures - failuresBefore).toBeLessThanOrEqual(2);
    });

    it('hard-resets to a new address and a new certificate, found again by serial', async () => {
      const { camera, admin } = await configuredCamera();
      const oldUrl = httpUrlOf(camera);
      const oldFingerprint = camera.certificateFingerprint256;
      const bootCount = camera.state.bootCount;

      expect(await factoryDefaultWithFallback(admin, 'hard')).toEqual({ via: expectedVia });
      await cameraBootedSince(camera, bootCount);

      const newUrl = httpUrlOf(camera);
      expect(newUrl).not.toBe(oldUrl);
      expect(camera.certificateFingerprint256).not.toBe(oldFingerprint);
      expect(camera.state.users).toEqual([]);
      expect((await probe(oldUrl, null, isolated())).accessState).toBe('unreachable');
      const found = await probe(newUrl, null, isolated());
      expect(found.identity?.serial ?? found.realmSerial).toBe(camera.serial);
      if (profile.systemReady !== undefined) expect(found.accessState).toBe('needs-setup');
    });

    it('applies a static IPv4 configuration, through param.cgi where network settings are missing', async () => {
      const { admin } = await configuredCamera();
      const result = await setIPv4WithFallback(admin, {
        mode: 'static',
        address: '10.20.0.100',
        prefixLength: 24,
        defaultRouter: '10.20.0.1',
      });
      expect(result.via).toBe(profile.networkSettings ? 'network-settings' : 'param-cgi');

      const { params } = await admin.send(listParams('root.Network'));
      expect(params).toMatchObject({
        'Network.BootProto': 'none',
        'Network.IPAddress': '10.20.0.100',
        'Network.SubnetMask': '255.255.255.0',
        'Network.DefaultRouter': '10.20.0.1',
      });
      if (profile.networkSettings !== undefined) {
        const eth0 = (await admin.send(getNetworkInfo())).devices[0];
        expect(eth0?.IPv4).toMatchObject({
          configurationMode: 'static',
          staticAddressConfigurations: [{ address: '10.20.0.100', prefixLength: 24 }],
          staticDefaultRouter: '10.20.0.1',
        });
      }

      await setIPv4WithFallback(admin, { mode: 'dhcp' });
      const after = await admin.send(listParams('root.Network.BootProto'));
      expect(after.params['Network.BootProto']).toBe('dhcp');
    });

    if (profile.networkSettings !== undefined) {
      it('moves to a new static loopback address and answers there with the same serial', async () => {
        const { camera, admin } = await configuredCamera();
        const target = `127.83.200.${index + 10}`;
        await setIPv4WithFallback(admin, {
          mode: 'static',
          address: target,
          prefixLength: 8,
          defaultRouter: '127.0.0.1',
        });
        await until(() => camera.address === target && camera.phase === 'ready');
        const moved = await probe(httpUrlOf(camera), ADMIN, isolated());
        expect(moved.accessState).toBe('authenticated');
        expect(moved.identity?.serial).toBe(camera.serial);
      });
    }
  },
);
