import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  API_DISCOVERY_404_5_51,
  GET_API_LIST_12_9,
  GET_API_LIST_9_80,
} from '../fixtures/api-discovery.ts';
import {
  GET_ALL_PROPERTIES_9_80,
  GET_ALL_PROPERTIES_P3265V,
  GET_ALL_UNRESTRICTED_PROPERTIES_P3265V,
  UNRESTRICTED_2004_ERROR,
} from '../fixtures/basic-device-info.ts';
import {
  FWMGR_EMPTY_OK,
  FWMGR_ERROR_421,
  FWMGR_STATUS_12_11,
  LEGACY_FACTORY_DEFAULT_HTML,
} from '../fixtures/maintenance.ts';
import {
  GET_DATE_TIME_INFO_12_11,
  GET_NETWORK_INFO_12_11,
  NETWORK_SETTER_OK,
  TIME_4001,
} from '../fixtures/network-and-time.ts';
import { BRAND_M1065, UPDATE_ERROR } from '../fixtures/param-cgi.ts';
import {
  ADD_OK,
  ADD_USER_EXISTS,
  GET_12_11,
  REMOVE_OK,
  UPDATE_OK,
  USERGROUP_ROOT_12_11,
} from '../fixtures/pwdgrp.ts';
import {
  SYSTEM_READY_10_12,
  SYSTEM_READY_12,
  SYSTEM_READY_FACTORY_DEFAULT,
} from '../fixtures/system-ready.ts';
import {
  createMockTransport,
  type MockTransport,
  type SentRequest,
} from '../test-support/mock-transport.ts';
import type { VapixClient } from '../vapix-client.ts';
import {
  VapixApiError,
  VapixCgiError,
  VapixMalformedResponseError,
  VapixUnsupportedError,
} from '../vapix-error.ts';
import { getApiList } from './api-discovery.ts';
import { getAllProperties, getAllUnrestrictedProperties } from './basic-device-info.ts';
import {
  factoryDefault,
  firmwareStatus,
  legacyFactoryDefault,
  reboot,
} from './firmware-management.ts';
import { getNetworkInfo, setIPv4AddressConfiguration } from './network-settings.ts';
import { listParams, updateParams } from './param-cgi.ts';
import { addUser, getUsers, removeUser, updateUser } from './pwdgrp.ts';
import { snapshot } from './snapshot.ts';
import { systemReady } from './system-ready.ts';
import { getDateTimeInfo } from './time.ts';
import { whoAmI } from './user-group.ts';

let transport: MockTransport;
let vapix: VapixClient;
let sent: SentRequest[];

beforeEach(() => {
  transport = createMockTransport();
  ({ vapix, sent } = transport);
});

afterEach(() => transport.close());

/** Answers the next request to `path` and records what was sent. */
function reply(
  method: string,
  path: string,
  status: number,
  body: string | Buffer,
  contentType = 'application/json',
): void {
  transport.reply({ method, path, status, body, headers: { 'content-type': contentType } });
}

function sentJson(index = 0): unknown {
  return JSON.parse(sent[index]?.body ?? 'null');
}

function sentForm(index = 0): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(sent[index]?.body ?? ''));
}

describe('systemready (reference §4.3)', () => {
  it('reads 12.x strings into typed values and keeps the raw strings', async () => {
    reply('POST', '/axis-cgi/systemready.cgi', 200, SYSTEM_READY_12);
    const ready = await vapix.send(systemReady());
    expect(ready).toMatchObject({
      apiVersion: '1.5',
      systemReady: true,
      needSetup: false,
      uptimeSeconds: 12484,
      bootId: '93bfbb4a-9c3f-4075-a0c5-8702dfccfc04',
      passphrasePolicy: 'none',
    });
    expect(ready.raw.uptime).toBe('12484');
    expect(sentJson()).toEqual({ apiVersion: '1.0', context: 'vapix', method: 'systemready' });
  });

  it('accepts 10.12 without uptime or bootid', async () => {
    reply('POST', '/axis-cgi/systemready.cgi', 200, SYSTEM_READY_10_12);
    const ready = await vapix.send(systemReady());
    expect(ready).toMatchObject({
      systemReady: true,
      needSetup: false,
      uptimeSeconds: undefined,
      bootId: undefined,
    });
  });

  it('reads the factory-default answer with needsetup and previewmode', async () => {
    reply('POST', '/axis-cgi/systemready.cgi', 200, SYSTEM_READY_FACTORY_DEFAULT);
    const ready = await vapix.send(systemReady());
    expect(ready).toMatchObject({ needSetup: true, previewModeSeconds: 7200, uptimeSeconds: 106 });
  });

  it('sends params.timeout for a long-poll', async () => {
    reply('POST', '/axis-cgi/systemready.cgi', 200, SYSTEM_READY_12);
    const request = systemReady({ timeoutSeconds: 20 });
    expect(request).toMatchObject({ callClass: 'long-poll', longPollSeconds: 20, anonymous: true });
    await vapix.send(request);
    expect(sentJson()).toMatchObject({ method: 'systemready', params: { timeout: 20 } });
  });
});

describe('basicdeviceinfo (reference §3.1)', () => {
  it('reads getAllProperties of the P3265-V without a method echo', async () => {
    reply('POST', '/axis-cgi/basicdeviceinfo.cgi', 200, GET_ALL_PROPERTIES_P3265V);
    const { apiVersion, properties } = await vapix.send(getAllProperties());
    expect(apiVersion).toBe('1.3');
    expect(properties).toMatchObject({
      ProdNbr: 'P3265-V',
      SerialNumber: 'B8A44F631339',
      Soc: 'Axis Artpec-8',
    });
    expect(sentJson()).toEqual({ apiVersion: '1.0', context: 'vapix', method: 'getAllProperties' });
  });

  it('reads the 9.80 answer with method and context echoed and apiVersion 1.1', async () => {
    reply('POST', '/axis-cgi/basicdeviceinfo.cgi', 200, GET_ALL_PROPERTIES_9_80);
    const { apiVersion, properties } = await vapix.send(getAllProperties());
    expect(apiVersion).toBe('1.1');
    expect(properties.Version).toBe('9.80.1');
  });

  it('reads the anonymous subset and surfaces error 2004 from older firmware', async () => {
    reply('POST', '/axis-cgi/basicdeviceinfo.cgi', 200, GET_ALL_UNRESTRICTED_PROPERTIES_P3265V);
    reply('POST', '/axis-cgi/basicdeviceinfo.cgi', 200, UNRESTRICTED_2004_ERROR);
    const { properties } = await vapix.send(getAllUnrestrictedProperties());
    expect(properties.Architecture).toBeUndefined();
    expect(properties.ProdFullName).toBe('AXIS P3265-V Dome Camera');
    await expect(vapix.send(getAllUnrestrictedProperties())).rejects.toMatchObject({
      name: 'VapixApiError',
      apiCode: 2004,
    });
  });
});

describe('apidiscovery (reference §3.3)', () => {
  it('lists the 15 APIs of 9.80 and the statuses of 12.9', async () => {
    reply(
      'POST',
      '/axis-cgi/apidiscovery.cgi',
      200,
      GET_API_LIST_9_80,
      'application/json;charset=utf8',
    );
    reply('POST', '/axis-cgi/apidiscovery.cgi', 200, GET_API_LIST_12_9);
    const old = await vapix.send(getApiList());
    expect(old.apis).toHaveLength(15);
    expect(old.apis.find((api) => api.id === 'api-discovery')).toMatchObject({
      name: 'API Discovery Service',
      version: '1.0',
    });
    const current = await vapix.send(getApiList());
    expect(current.apis.find((api) => api.id === 'network-settings')).toMatchObject({
      version: '1.37',
      status: 'official',
    });
  });

  it('reports the 5.51 404 as unsupported', async () => {
    reply('POST', '/axis-cgi/apidiscovery.cgi', 404, API_DISCOVERY_404_5_51, 'text/html');
    await expect(vapix.send(getApiList())).rejects.toBeInstanceOf(VapixUnsupportedError);
  });
});

describe('param.cgi (reference §3.2)', () => {
  it('lists groups with GET and a literal comma list', async () => {
    reply('GET', '/axis-cgi/param.cgi', 200, BRAND_M1065, 'text/plain');
    const list = await vapix.send(listParams(['root.Brand', 'root.Properties']));
    expect(sent[0]?.path).toBe('/axis-cgi/param.cgi?action=list&group=root.Brand,root.Properties');
    expect(list.params['Brand.ProdNbr']).toBe('M1065-LW');
  });

  it('updates with a POST form and turns # Error: into VapixCgiError', async () => {
    reply('POST', '/axis-cgi/param.cgi', 200, 'OK', 'text/plain');
    reply('POST', '/axis-cgi/param.cgi', 200, UPDATE_ERROR, 'text/plain');
    await vapix.send(updateParams({ 'root.Network.SSH.Enabled': 'yes' }));
    expect(sentForm()).toEqual({ action: 'update', 'root.Network.SSH.Enabled': 'yes' });
    await expect(
      vapix.send(updateParams({ 'root.Network.SSH.Enabled': 'maybe' })),
    ).rejects.toBeInstanceOf(VapixCgiError);
  });
});

describe('pwdgrp.cgi and usergroup.cgi (reference §4.1)', () => {
  it('posts add, update and remove as forms so the password stays out of the URL', async () => {
    reply('POST', '/axis-cgi/pwdgrp.cgi', 200, ADD_OK, 'text/html');
    reply('POST', '/axis-cgi/pwdgrp.cgi', 200, UPDATE_OK, 'text/html');
    reply('POST', '/axis-cgi/pwdgrp.cgi', 200, REMOVE_OK, 'text/html');
    await vapix.send(addUser({ username: 'cassettetest', password: 'p w&d', roles: ['viewer'] }));
    await vapix.send(
      updateUser({ username: 'cassettetest', password: 'new', roles: ['operator'] }),
    );
    await vapix.send(removeUser('cassettetest'));
    expect(sent.every((request) => request.path === '/axis-cgi/pwdgrp.cgi')).toBe(true);
    expect(sentForm(0)).toEqual({
      action: 'add',
      user: 'cassettetest',
      pwd: 'p w&d',
      grp: 'users',
      sgrp: 'viewer',
    });
    expect(sentForm(1)).toEqual({
      action: 'update',
      user: 'cassettetest',
      pwd: 'new',
      sgrp: 'operator:viewer',
    });
    expect(sentForm(2)).toEqual({ action: 'remove', user: 'cassettetest' });
  });

  it('carries the device message of a failed add', async () => {
    reply('POST', '/axis-cgi/pwdgrp.cgi', 200, ADD_USER_EXISTS, 'text/html');
    await expect(
      vapix.send(addUser({ username: 'root', password: 'x', roles: ['admin'] })),
    ).rejects.toMatchObject({
      code: 'VAPIX_CGI_ERROR',
      cgiMessage: 'this user name already exists, consult the system log file.',
    });
  });

  it('reads users and who am I', async () => {
    reply('POST', '/axis-cgi/pwdgrp.cgi', 200, GET_12_11, 'text/plain');
    reply('GET', '/axis-cgi/usergroup.cgi', 200, USERGROUP_ROOT_12_11, 'text/plain');
    const users = await vapix.send(getUsers());
    expect(sentForm()).toEqual({ action: 'get' });
    expect(users.accounts.map((account) => account.username)).toEqual([
      'root',
      'fakeroot',
      'root20',
      'acs',
    ]);
    expect((await vapix.send(whoAmI())).roles).toContain('admin');
  });
});

describe('firmwaremanagement.cgi (reference §5.1)', () => {
  it('reads status and sends factoryDefault with the mode under params', async () => {
    reply('POST', '/axis-cgi/firmwaremanagement.cgi', 200, FWMGR_STATUS_12_11);
    reply('POST', '/axis-cgi/firmwaremanagement.cgi', 200, FWMGR_EMPTY_OK);
    reply('POST', '/axis-cgi/firmwaremanagement.cgi', 200, FWMGR_EMPTY_OK);
    expect(await vapix.send(firmwareStatus())).toMatchObject({
      apiVersion: '1.10',
      activeFirmwareVersion: '12.11.77',
      resetSource: 'crash',
    });
    await vapix.send(factoryDefault('soft'));
    await vapix.send(reboot());
    expect(sentJson(1)).toEqual({
      apiVersion: '1.0',
      context: 'vapix',
      method: 'factoryDefault',
      params: { factoryDefaultMode: 'soft' },
    });
    expect(sentJson(2)).toEqual({ apiVersion: '1.0', context: 'vapix', method: 'reboot' });
  });

  it('turns error 421 inside HTTP 200 into VapixApiError', async () => {
    reply('POST', '/axis-cgi/firmwaremanagement.cgi', 200, FWMGR_ERROR_421);
    const error: unknown = await vapix
      .send(factoryDefault('hard'))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(VapixApiError);
    expect(error).toMatchObject({
      apiCode: 421,
      apiMessage: 'Firmware image does not match this device.',
    });
  });

  it('calls the legacy CGI with GET and accepts its refresh page', async () => {
    reply('GET', '/axis-cgi/hardfactorydefault.cgi', 200, LEGACY_FACTORY_DEFAULT_HTML, 'text/html');
    await expect(vapix.send(legacyFactoryDefault('hard'))).resolves.toBeUndefined();
    expect(sent[0]?.method).toBe('GET');
  });
});

describe('snapshot (reference §6.1)', () => {
  const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]);

  it('returns a body that is image/jpeg and starts with FF D8 FF', async () => {
    reply('GET', '/axis-cgi/jpg/image.cgi', 200, jpeg, 'image/jpeg');
    const image = await vapix.send(snapshot({ resolution: '640x360', compression: 30, camera: 1 }));
    expect(sent[0]?.path).toBe(
      '/axis-cgi/jpg/image.cgi?resolution=640x360&compression=30&camera=1',
    );
    expect(image.jpeg.equals(jpeg)).toBe(true);
  });

  it('refuses a wrong content type or a body without the JPEG marker', async () => {
    reply('GET', '/axis-cgi/jpg/image.cgi', 200, jpeg, 'text/html');
    reply('GET', '/axis-cgi/jpg/image.cgi', 200, Buffer.from('<html>'), 'image/jpeg');
    await expect(vapix.send(snapshot())).rejects.toBeInstanceOf(VapixMalformedResponseError);
    await expect(vapix.send(snapshot())).rejects.toThrow(/JPEG marker/);
  });
});

describe('network_settings.cgi and time.cgi (reference §6.4, §6.5)', () => {
  it('reads getNetworkInfo and sends a static IPv4 configuration', async () => {
    reply('POST', '/axis-cgi/network_settings.cgi', 200, GET_NETWORK_INFO_12_11);
    reply('POST', '/axis-cgi/network_settings.cgi', 200, NETWORK_SETTER_OK);
    const info = await vapix.send(getNetworkInfo());
    expect(info.apiVersion).toBe('1.38');
    expect(info.devices[0]?.IPv4?.staticAddressConfigurations?.[0]).toMatchObject({
      address: '192.168.0.90',
      prefixLength: 24,
    });
    await vapix.send(
      setIPv4AddressConfiguration({
        mode: 'static',
        address: '10.0.0.100',
        prefixLength: 24,
        defaultRouter: '10.0.0.1',
      }),
    );
    expect(sentJson(1)).toEqual({
      apiVersion: '1.0',
      context: 'vapix',
      method: 'setIPv4AddressConfiguration',
      params: {
        deviceName: 'eth0',
        configurationMode: 'static',
        staticAddressConfigurations: [{ address: '10.0.0.100', prefixLength: 24 }],
        staticDefaultRouter: '10.0.0.1',
      },
    });
  });

  it('reads getDateTimeInfo and surfaces error 4001', async () => {
    reply('POST', '/axis-cgi/time.cgi', 200, GET_DATE_TIME_INFO_12_11);
    reply('POST', '/axis-cgi/time.cgi', 200, TIME_4001);
    expect(await vapix.send(getDateTimeInfo())).toMatchObject({
      dateTime: '2026-10-07T16:24:01Z',
      dstEnabled: true,
    });
    await expect(vapix.send(getDateTimeInfo())).rejects.toMatchObject({ apiCode: 4001 });
  });
});
