import {
  FIRMWARE_IDS,
  FIRMWARE_PROFILES,
  createSimulator,
  type SimulatedCamera,
  type Simulator,
} from '@custody/simulator';
import {
  VapixApiError,
  VapixAuthError,
  VapixCgiError,
  addUser,
  detectCapabilities,
  getAllProperties,
  getAllUnrestrictedProperties,
  getApiList,
  getDateTimeInfo,
  getNetworkInfo,
  getUsers,
  listParams,
  removeUser,
  rtspDescribe,
  snapshot,
  systemReady,
  updateParams,
  updateUser,
  whoAmI,
  type VapixClient,
} from '@custody/vapix';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ADMIN,
  ADMIN_USERS,
  createClientPool,
  fastSimulator,
  httpUrlOf,
  isolated,
  jpegDimensions,
  macOf,
  rtspUrlOf,
} from './support/simulated-site.ts';

let simulator: Simulator;
const clients = createClientPool();

beforeAll(async () => {
  simulator = await createSimulator(fastSimulator('127.82.0.1'));
});

afterEach(() => clients.closeAll());

afterAll(() => simulator.close());

const unsupported = { code: 'VAPIX_UNSUPPORTED' };

describe.each(FIRMWARE_IDS)('VAPIX APIs of a %s camera', (firmware) => {
  const profile = FIRMWARE_PROFILES[firmware];
  let camera: SimulatedCamera;
  let admin: VapixClient;

  beforeAll(async () => {
    camera = await simulator.addCamera({ firmware, users: ADMIN_USERS });
  });

  beforeEach(() => {
    admin = clients.open({ url: httpUrlOf(camera), credentials: ADMIN });
  });

  const systemReadySpec = profile.systemReady;
  if (systemReadySpec !== undefined) {
    it('answers systemready anonymously with the boot id where the firmware has one', async () => {
      const ready = await admin.send(systemReady(), { credentials: null });
      expect(ready).toMatchObject({
        apiVersion: systemReadySpec.apiVersion,
        systemReady: true,
        needSetup: false,
      });
      if (systemReadySpec.uptimeAndBootId) {
        expect(ready.bootId).toBe(camera.state.bootId);
        expect(ready.uptimeSeconds).toBeGreaterThanOrEqual(0);
      } else {
        expect(ready.bootId).toBeUndefined();
        expect(ready.uptimeSeconds).toBeUndefined();
      }
    });
  } else {
    it('has no systemready, which surfaces as unsupported', async () => {
      await expect(admin.send(systemReady(), { credentials: null })).rejects.toMatchObject(
        unsupported,
      );
    });
  }

  const basicDeviceInfo = profile.basicDeviceInfo;
  if (basicDeviceInfo !== undefined) {
    it('reads every basicdeviceinfo property with credentials', async () => {
      const { apiVersion, properties } = await admin.send(getAllProperties());
      expect(apiVersion).toBe(basicDeviceInfo.apiVersion);
      expect(properties).toMatchObject({
        SerialNumber: camera.serial,
        ProdNbr: profile.defaults.model,
        ProdFullName: profile.defaults.productFullName,
        Version: profile.version,
        HardwareID: profile.defaults.hardwareId,
        Architecture: profile.defaults.architecture,
        Brand: 'AXIS',
      });
    });
  } else {
    it('has no basicdeviceinfo, which surfaces as unsupported', async () => {
      await expect(admin.send(getAllProperties())).rejects.toMatchObject(unsupported);
    });
  }

  if (basicDeviceInfo?.unrestrictedProperties === true) {
    it('reads the unrestricted properties anonymously, without the SoC details', async () => {
      const failures = camera.stats.authFailures;
      const { properties } = await admin.send(getAllUnrestrictedProperties());
      expect(properties.SerialNumber).toBe(camera.serial);
      expect(properties.ProdNbr).toBe(profile.defaults.model);
      expect(properties.Architecture).toBeUndefined();
      expect(properties.Soc).toBeUndefined();
      expect(camera.stats.authFailures).toBe(failures);
    });
  } else if (basicDeviceInfo !== undefined) {
    it('challenges an anonymous unrestricted-properties call, with the serial in the realm', async () => {
      const call = admin.send(getAllUnrestrictedProperties(), { credentials: null });
      await expect(call).rejects.toBeInstanceOf(VapixAuthError);
      await expect(call).rejects.toMatchObject({
        code: 'VAPIX_AUTH_REQUIRED',
        realm: `AXIS_${camera.serial}`,
      });
    });

    it('rejects the unrestricted-properties method as unknown once authenticated', async () => {
      const call = admin.send(getAllUnrestrictedProperties());
      await expect(call).rejects.toBeInstanceOf(VapixApiError);
      await expect(call).rejects.toMatchObject({ apiCode: 2004 });
    });
  } else {
    it('has no unrestricted properties, which surfaces as unsupported', async () => {
      await expect(admin.send(getAllUnrestrictedProperties())).rejects.toMatchObject(unsupported);
    });
  }

  const apiDiscovery = profile.apiDiscovery;
  if (apiDiscovery !== undefined) {
    it('lists its APIs and versions through apidiscovery', async () => {
      const list = await admin.send(getApiList());
      expect(list.apis.map(({ id, version }) => ({ id, version }))).toEqual(
        apiDiscovery.apis.map(({ id, version }) => ({ id, version })),
      );
      for (const api of list.apis) {
        expect(api.status).toBe(apiDiscovery.withStatus ? 'official' : undefined);
      }
    });
  } else {
    it('has no apidiscovery, which surfaces as unsupported', async () => {
      await expect(admin.send(getApiList())).rejects.toMatchObject(unsupported);
    });
  }

  it('detects the capabilities from apidiscovery and the Properties parameters', async () => {
    const capabilities = await detectCapabilities(admin);
    expect(capabilities).toEqual(expect.arrayContaining(['https', 'param-cgi', 'user-management']));
    for (const api of apiDiscovery?.apis ?? []) expect(capabilities).toContain(api.id);
    if (apiDiscovery === undefined) {
      expect(capabilities).not.toContain('systemready');
      expect(capabilities).not.toContain('basic-device-info');
    }
  });

  it('lists parameters by group with the identity keys', async () => {
    const { params, errors } = await admin.send(listParams(['root.Brand', 'root.Properties']));
    expect(errors).toEqual([]);
    expect(params).toMatchObject({
      'Brand.ProdNbr': profile.defaults.model,
      'Brand.ProdFullName': profile.defaults.productFullName,
      'Properties.System.SerialNumber': camera.serial,
      'Properties.Firmware.Version': profile.version,
      'Properties.System.HardwareID': profile.defaults.hardwareId,
    });
  });

  it('reports an unknown group among valid ones as an error line', async () => {
    const { params, errors } = await admin.send(listParams(['root.Brand', 'root.NoSuchGroup']));
    expect(params['Brand.Brand']).toBe('AXIS');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('root.NoSuchGroup');
  });

  it('updates a parameter and reads the new value back, non-ASCII included', async () => {
    const name = 'Entrée Nord';
    await admin.send(updateParams({ 'root.Network.Bonjour.FriendlyName': name }));
    const { params } = await admin.send(listParams('root.Network.Bonjour'));
    expect(params['Network.Bonjour.FriendlyName']).toBe(name);
  });

  it('refuses to update a read-only parameter with a CGI error', async () => {
    const call = admin.send(
      updateParams({ 'root.Properties.System.SerialNumber': '000000000000' }),
    );
    await expect(call).rejects.toBeInstanceOf(VapixCgiError);
    const { params } = await admin.send(listParams('root.Properties.System'));
    expect(params['Properties.System.SerialNumber']).toBe(camera.serial);
  });

  it('lists the accounts with their roles', async () => {
    const { accounts } = await admin.send(getUsers());
    expect(accounts).toEqual([{ username: 'root', roles: ['admin', 'operator', 'viewer', 'ptz'] }]);
  });

  it('adds, updates and removes an account through pwdgrp', async () => {
    const operator = { username: 'nightshift', password: 'Night-Shift-7' };
    await admin.send(addUser({ ...operator, roles: ['operator'] }));
    expect((await admin.send(getUsers())).accounts).toContainEqual({
      username: 'nightshift',
      roles: ['operator', 'viewer'],
    });

    const asOperator = clients.open({ url: httpUrlOf(camera), credentials: operator });
    expect(await asOperator.send(whoAmI())).toMatchObject({
      username: 'nightshift',
      roles: expect.arrayContaining(['operator', 'viewer']) as unknown,
    });
    // An operator is no administrator: the device answers 403, which is no rejected login.
    const failures = camera.stats.authFailures;
    await expect(asOperator.send(getUsers())).rejects.toMatchObject({ code: 'VAPIX_FORBIDDEN' });
    expect(camera.stats.authFailures).toBe(failures);

    const renewed = { ...operator, password: 'Day-Shift-8' };
    await admin.send(updateUser({ username: operator.username, password: renewed.password }));
    const withNewPassword = clients.open({ url: httpUrlOf(camera), credentials: renewed });
    expect((await withNewPassword.send(whoAmI())).username).toBe('nightshift');

    await admin.send(removeUser(operator.username));
    expect((await admin.send(getUsers())).accounts.map((account) => account.username)).toEqual([
      'root',
    ]);
    expect(camera.state.users).toEqual([{ username: 'root', role: 'admin' }]);
  });

  it('refuses to add an account that exists, with the device message', async () => {
    const call = admin.send(addUser({ ...ADMIN, roles: ['admin'] }));
    await expect(call).rejects.toBeInstanceOf(VapixCgiError);
    await expect(call).rejects.toMatchObject({
      cgiMessage: expect.stringContaining('already exists') as unknown,
    });
  });

  it('tells who the credentials belong to through usergroup', async () => {
    const me = await admin.send(whoAmI());
    expect(me.username).toBe('root');
    expect(me.roles).toEqual(expect.arrayContaining(['admin', 'operator', 'viewer', 'ptz']));
    expect(me.primaryGroup).toBe(profile.usergroup === 'primary-group-first' ? 'root' : undefined);
  });

  it('takes a snapshot that is a real JPEG of the requested resolution', async () => {
    const { params } = await admin.send(listParams('Properties.Image.Resolution'));
    const resolutions = (params['Properties.Image.Resolution'] ?? '').split(',');
    const smallest = resolutions.at(-1) ?? '';
    const image = await admin.send(snapshot({ resolution: smallest }));
    expect(image.contentType).toBe('image/jpeg');
    expect([...image.jpeg.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    expect([...image.jpeg.subarray(-2)]).toEqual([0xff, 0xd9]);
    const named: Record<string, string> = { QCIF: '176x144' };
    const size = jpegDimensions(image.jpeg);
    expect(size && `${size.width}x${size.height}`).toBe(named[smallest] ?? smallest);
  });

  it('describes the RTSP stream with Digest and parses the SDP', async () => {
    const description = await rtspDescribe(rtspUrlOf(camera), ADMIN, { budget: isolated().budget });
    expect(description.publicMethods).toEqual(expect.arrayContaining(['DESCRIBE', 'SETUP']));
    expect(description.realm).toBe(`AXIS_${camera.serial}`);
    expect(description.contentBase).toBe(`${rtspUrlOf(camera)}/`);
    expect(description.sdp.sessionName).toBe('Session streamed with GStreamer');
    expect(description.sdp.media).toHaveLength(1);
    expect(description.sdp.media[0]).toMatchObject({
      type: 'video',
      protocol: 'RTP/AVP',
      rtpmap: [{ payloadType: 96, encoding: 'H264', clockRate: 90000 }],
    });
    expect(description.sdp.media[0]?.control).toMatch(/\/stream=0/);
  });

  it('refuses the RTSP stream to a wrong password after one attempt', async () => {
    const budget = isolated().budget;
    const call = rtspDescribe(rtspUrlOf(camera), { ...ADMIN, password: 'wrong' }, { budget });
    await expect(call).rejects.toMatchObject({ code: 'VAPIX_LOGIN_FAILED' });
    expect(budget.failures(new URL(rtspUrlOf(camera)).host)).toBe(1);
  });

  const networkSettings = profile.networkSettings;
  if (networkSettings !== undefined) {
    it('reads the network settings with the MAC and the current address', async () => {
      const info = await admin.send(getNetworkInfo());
      expect(info.apiVersion).toBe(networkSettings.apiVersion);
      const eth0 = info.devices.find((device) => device.name === 'eth0');
      expect(eth0?.macAddress).toBe(macOf(camera.serial).toLowerCase());
      expect(eth0?.IPv4?.addresses?.map((address) => address.address)).toContain(camera.address);
    });
  } else {
    it('has no network_settings, which surfaces as unsupported', async () => {
      await expect(admin.send(getNetworkInfo())).rejects.toMatchObject(unsupported);
    });
  }

  const timeService = profile.timeService;
  if (timeService !== undefined) {
    it('reads the date and time', async () => {
      const time = await admin.send(getDateTimeInfo());
      expect(time.apiVersion).toBe(timeService.apiVersion);
      expect(time.dateTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(Number.isNaN(Date.parse(time.dateTime))).toBe(false);
      const { params } = await admin.send(listParams('root.Time.POSIXTimeZone'));
      expect(time.posixTimeZone).toBe(params['Time.POSIXTimeZone']);
    });
  } else {
    it('has no time.cgi, which surfaces as unsupported', async () => {
      await expect(admin.send(getDateTimeInfo())).rejects.toMatchObject(unsupported);
    });
  }
});
