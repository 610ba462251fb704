import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIRMWARE_IDS, FIRMWARE_PROFILES, type FirmwareId } from './firmware-profiles.ts';
import type { SimulatedCamera } from './simulated-camera.ts';
import { createSimulator, type Simulator } from './simulator.ts';
import {
  parseJson,
  postForm,
  postJson,
  sendRequest,
  sendWithDigest,
  type Credentials,
} from './test-support/vapix-request.ts';

const admin: Credentials = { username: 'root', password: 'pass-Word-1' };
const viewer: Credentials = { username: 'viewer1', password: 'look-only-2' };

let simulator: Simulator;
const cameras = new Map<FirmwareId, SimulatedCamera>();

function camera(firmware: FirmwareId): SimulatedCamera {
  const found = cameras.get(firmware);
  if (!found) throw new Error(`no ${firmware} camera`);
  return found;
}

function url(firmware: FirmwareId): string {
  return camera(firmware).httpUrl ?? '';
}

beforeAll(async () => {
  simulator = await createSimulator({ addressPool: 'ports', seed: 1 });
  for (const firmware of FIRMWARE_IDS) {
    cameras.set(
      firmware,
      await simulator.addCamera({
        firmware,
        users: [
          { ...admin, role: 'admin' },
          { ...viewer, role: 'viewer' },
        ],
      }),
    );
  }
});

afterAll(async () => {
  await simulator.close();
});

describe('systemready.cgi', () => {
  const request = { apiVersion: '1', method: 'systemready', params: { timeout: 1 } };

  it('is absent on 5.51 with a Boa 404 page naming the URL', async () => {
    const response = await postJson(url('5.51'), '/axis-cgi/systemready.cgi', request);
    expect(response.status).toBe(404);
    expect(response.headers['content-type']).toBe('text/html; charset=ISO-8859-1');
    expect(response.text).toContain(
      'The requested URL /axis-cgi/systemready.cgi was not found on this server.',
    );
  });

  it.each([
    ['9.80', '1.1', ['systemready', 'needsetup']],
    ['10.12', '1.2', ['systemready', 'needsetup']],
    ['11.11', '1.4', ['systemready', 'needsetup', 'uptime', 'bootid']],
    ['12.x', '1.5', ['systemready', 'needsetup', 'uptime', 'bootid', 'passphrasepolicy']],
  ] as const)(
    'answers %s anonymously with version %s and only its fields',
    async (firmware, version, fields) => {
      const response = await postJson(url(firmware), '/axis-cgi/systemready.cgi', request);
      expect(response.status).toBe(200);
      const body = parseJson(response);
      expect(body.apiVersion).toBe(version);
      expect(body.method).toBe('systemready');
      const data = body.data as Record<string, string>;
      expect(Object.keys(data)).toEqual(fields);
      expect(data.systemready).toBe('yes');
      expect(data.needsetup).toBe('no');
      if ('bootid' in data) expect(data.bootid).toBe(camera(firmware).state.bootId);
    },
  );
});

describe('basicdeviceinfo.cgi', () => {
  it('is absent on 5.51', async () => {
    const response = await postJson(url('5.51'), '/axis-cgi/basicdeviceinfo.cgi', {
      apiVersion: '1.0',
      method: 'getAllProperties',
    });
    expect(response.status).toBe(404);
  });

  it('answers 9.80 with apiVersion 1.1 echoing context and method', async () => {
    const response = await postJson(
      url('9.80'),
      '/axis-cgi/basicdeviceinfo.cgi',
      { apiVersion: '1.0', context: 'Axis library', method: 'getAllProperties' },
      admin,
    );
    const body = parseJson(response);
    expect(body).toMatchObject({
      apiVersion: '1.1',
      context: 'Axis library',
      method: 'getAllProperties',
    });
    expect(body.data).toMatchObject({
      propertyList: { SerialNumber: camera('9.80').serial, ProdNbr: 'M1065-LW', Version: '9.80.1' },
    });
  });

  it('omits method on 10.12 and later when no context is sent', async () => {
    const response = await postJson(
      url('12.x'),
      '/axis-cgi/basicdeviceinfo.cgi',
      { apiVersion: '1.0', method: 'getAllProperties' },
      admin,
    );
    const body = parseJson(response);
    expect(Object.keys(body)).toEqual(['apiVersion', 'data']);
    expect(body.apiVersion).toBe('1.3');
    expect((body.data as { propertyList: Record<string, string> }).propertyList).toMatchObject({
      Architecture: 'aarch64',
      Soc: 'Axis Artpec-8',
      ProdFullName: 'AXIS P3265-V Dome Camera',
    });
  });

  it('requires credentials for getAllProperties and names the serial in the realm', async () => {
    const response = await postJson(url('11.11'), '/axis-cgi/basicdeviceinfo.cgi', {
      apiVersion: '1.0',
      method: 'getAllProperties',
    });
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toContain(
      `realm="AXIS_${camera('11.11').serial}"`,
    );
  });

  it.each(['10.12', '11.11', '12.x'] as const)(
    'gives unrestricted properties to anyone on %s, without Architecture and Soc',
    async (firmware) => {
      const response = await postJson(url(firmware), '/axis-cgi/basicdeviceinfo.cgi', {
        apiVersion: '1.0',
        method: 'getAllUnrestrictedProperties',
      });
      expect(response.status).toBe(200);
      const list = (parseJson(response).data as { propertyList: Record<string, string> })
        .propertyList;
      expect(list.SerialNumber).toBe(camera(firmware).serial);
      expect(list).not.toHaveProperty('Architecture');
      expect(list).not.toHaveProperty('Soc');
      expect(list).not.toHaveProperty('SocSerialNumber');
    },
  );

  it('rejects getAllUnrestrictedProperties on 9.80 with error 2004 after authentication', async () => {
    const anonymous = await postJson(url('9.80'), '/axis-cgi/basicdeviceinfo.cgi', {
      apiVersion: '1.0',
      method: 'getAllUnrestrictedProperties',
    });
    expect(anonymous.status).toBe(401);
    const response = await postJson(
      url('9.80'),
      '/axis-cgi/basicdeviceinfo.cgi',
      { apiVersion: '1.0', method: 'getAllUnrestrictedProperties' },
      admin,
    );
    expect(response.status).toBe(200);
    expect(parseJson(response).error).toEqual({
      code: 2004,
      message: "JSON semantic error: Unknown method 'getAllUnrestrictedProperties'",
    });
  });

  it('returns only the requested properties for getProperties', async () => {
    const response = await postJson(
      url('10.12'),
      '/axis-cgi/basicdeviceinfo.cgi',
      {
        apiVersion: '1.0',
        context: 'c',
        method: 'getProperties',
        params: { propertyList: ['ProdNbr', 'SerialNumber'] },
      },
      viewer,
    );
    expect(parseJson(response)).toEqual({
      apiVersion: '1.3',
      context: 'c',
      method: 'getProperties',
      data: { propertyList: { ProdNbr: 'M3206-LVE', SerialNumber: camera('10.12').serial } },
    });
  });

  it('answers GET with error 2002 and bad JSON with error 4000, both as HTTP 200', async () => {
    const get = await sendRequest(url('12.x'), '/axis-cgi/basicdeviceinfo.cgi');
    expect(get.status).toBe(200);
    expect((parseJson(get).error as { code: number }).code).toBe(2002);
    const bad = await sendRequest(url('12.x'), '/axis-cgi/basicdeviceinfo.cgi', {
      method: 'POST',
      body: '{"apiVersion":',
    });
    expect(bad.status).toBe(200);
    expect((parseJson(bad).error as { code: number }).code).toBe(4000);
  });
});

describe('apidiscovery.cgi', () => {
  it('is absent on 5.51', async () => {
    const response = await postJson(url('5.51'), '/axis-cgi/apidiscovery.cgi', {
      apiVersion: '1.0',
      method: 'getApiList',
    });
    expect(response.status).toBe(404);
    expect(response.text).toContain('/axis-cgi/apidiscovery.cgi was not found on this server.');
  });

  it('labels 9.80 JSON with the non-standard charset=utf8 and no status field', async () => {
    const response = await postJson(
      url('9.80'),
      '/axis-cgi/apidiscovery.cgi',
      { apiVersion: '1.0', method: 'getApiList' },
      admin,
    );
    expect(response.headers['content-type']).toBe('application/json;charset=utf8');
    const list = (parseJson(response).data as { apiList: Record<string, string>[] }).apiList;
    expect(list.find((api) => api.id === 'basic-device-info')?.version).toBe('1.1');
    expect(list.every((api) => !('status' in api))).toBe(true);
  });

  it.each([
    [
      '10.12',
      {
        'user-management': '1.1',
        systemready: '1.2',
        fwmgr: '1.4',
        'network-settings': '1.15',
        'time-service': '1.0',
      },
    ],
    [
      '11.11',
      {
        'user-management': '1.2',
        systemready: '1.4',
        fwmgr: '1.4',
        'network-settings': '1.33',
        'time-service': '1.1',
      },
    ],
    [
      '12.x',
      {
        'user-management': '1.2',
        systemready: '1.4',
        fwmgr: '1.8',
        'network-settings': '1.37',
        'time-service': '1.1',
      },
    ],
  ] as const)('lists the reference versions on %s', async (firmware, versions) => {
    const response = await postJson(
      url(firmware),
      '/axis-cgi/apidiscovery.cgi',
      { apiVersion: '1.0', context: 'c', method: 'getApiList' },
      admin,
    );
    const body = parseJson(response);
    expect(body).toMatchObject({ method: 'getApiList', apiVersion: '1.0', context: 'c' });
    const list = (body.data as { apiList: { id: string; version: string; status: string }[] })
      .apiList;
    for (const [id, version] of Object.entries(versions)) {
      expect(list.find((api) => api.id === id)?.version).toBe(version);
    }
    expect(list.find((api) => api.id === 'basic-device-info')?.version).toBe('1.3');
    expect(list.map((api) => api.id)).toEqual(
      expect.arrayContaining(['param-cgi', 'api-discovery']),
    );
    expect(list.every((api) => api.status === 'official')).toBe(true);
  });
});

describe('param.cgi', () => {
  it('keeps the root. prefix only when the request uses it', async () => {
    const rooted = await sendWithDigest(
      url('11.11'),
      '/axis-cgi/param.cgi?action=list&group=root.Brand',
      admin,
    );
    expect(rooted.text.split('\n')[0]).toBe('root.Brand.Brand=AXIS');
    const bare = await sendWithDigest(
      url('11.11'),
      '/axis-cgi/param.cgi?action=list&group=Properties.Image.Resolution',
      admin,
    );
    expect(bare.text).toMatch(/^Properties\.Image\.Resolution=1920x1080,/);
  });

  it('reports an unknown group with a # Error line in a 200 answer', async () => {
    const response = await sendWithDigest(
      url('12.x'),
      '/axis-cgi/param.cgi?action=list&group=Network.BootProto,Does.Not.Exist',
      admin,
    );
    expect(response.status).toBe(200);
    expect(response.text).toBe(
      "Network.BootProto=dhcp\n# Error: Error -1 getting param in group 'Does.Not.Exist'\n",
    );
  });

  it('serves 5.51 in ISO-8859-1 with its authentication policy', async () => {
    const response = await sendWithDigest(
      url('5.51'),
      '/axis-cgi/param.cgi?action=list&group=root.Network.HTTP.AuthenticationPolicy',
      admin,
    );
    expect(response.headers['content-type']).toBe('text/plain; charset=ISO-8859-1');
    expect(response.text).toBe('root.Network.HTTP.AuthenticationPolicy=basic_digest\n');
  });

  it('updates by POST form and answers OK, and refuses a viewer', async () => {
    const update = await postForm(
      url('12.x'),
      '/axis-cgi/param.cgi',
      { action: 'update', 'root.Network.SSH.Enabled': 'yes' },
      admin,
    );
    expect(update.text).toBe('OK');
    expect(camera('12.x').parameter('Network.SSH.Enabled')).toBe('yes');
    const denied = await postForm(
      url('12.x'),
      '/axis-cgi/param.cgi',
      { action: 'update', 'root.Network.SSH.Enabled': 'no' },
      viewer,
    );
    expect(denied.status).toBe(403);
    expect(camera('12.x').parameter('Network.SSH.Enabled')).toBe('yes');
  });

  it('expands a * wildcard over one path segment', async () => {
    const response = await sendWithDigest(
      url('9.80'),
      '/axis-cgi/param.cgi?action=list&group=Network.*.FriendlyName',
      admin,
    );
    const serial = camera('9.80').serial;
    expect(response.text).toBe(
      `Network.Bonjour.FriendlyName=AXIS M1065-LW - ${serial}\nNetwork.UPnP.FriendlyName=AXIS M1065-LW - ${serial}\n`,
    );
  });

  it('refuses to update a read-only or unknown parameter', async () => {
    const response = await sendWithDigest(
      url('10.12'),
      '/axis-cgi/param.cgi?action=update&root.Brand.ProdNbr=X1',
      admin,
    );
    expect(response.text).toBe("# Error: Error setting 'root.Brand.ProdNbr' to 'X1'!\n");
  });
});

describe('pwdgrp.cgi and usergroup.cgi', () => {
  it('lists Linux groups and system accounts up to 11.x', async () => {
    const response = await sendWithDigest(url('10.12'), '/axis-cgi/pwdgrp.cgi?action=get', admin);
    const lines = response.text.split('\n');
    expect(lines.length).toBeGreaterThan(40);
    expect(lines).toContain('tty="scheduled,imaged"');
    expect(response.text).toMatch(/^admin="wwwa,.*,root"$/m);
    expect(response.text).toMatch(/^digusers="root,viewer1"$/m);
  });

  it('lists exactly five role lines on 12.x', async () => {
    const response = await sendWithDigest(url('12.x'), '/axis-cgi/pwdgrp.cgi?action=get', admin);
    expect(response.text).toBe(
      'admin="root"\noperator="root"\nviewer="root,viewer1"\nptz="root"\ndigusers="root,viewer1"\n',
    );
  });

  it('creates, modifies and removes an account with the recorded HTML bodies', async () => {
    const base = url('11.11');
    const page = (text: string) =>
      `<html><head><title>User accounts</title></head><body bgcolor=#ffffff>${text}\n</body>\n\n</html>\n`;
    const add = await postForm(
      base,
      '/axis-cgi/pwdgrp.cgi',
      {
        action: 'add',
        user: 'cassettetest',
        pwd: 'secret-1',
        grp: 'users',
        sgrp: 'viewer:operator',
      },
      admin,
    );
    expect(add.status).toBe(200);
    expect(add.headers['content-type']).toBe('text/html');
    expect(add.text).toBe(page('Created account cassettetest.'));
    const again = await postForm(
      base,
      '/axis-cgi/pwdgrp.cgi',
      { action: 'add', user: 'cassettetest', pwd: 'secret-1', grp: 'users', sgrp: 'viewer' },
      admin,
    );
    expect(again.text).toBe(
      page('Error: this user name already exists, consult the system log file.'),
    );
    const update = await postForm(
      base,
      '/axis-cgi/pwdgrp.cgi',
      { action: 'update', user: 'cassettetest', pwd: 'secret-2' },
      admin,
    );
    expect(update.text).toBe(page('Modified account cassettetest.'));
    const usergroup = await sendWithDigest(base, '/axis-cgi/usergroup.cgi', {
      username: 'cassettetest',
      password: 'secret-2',
    });
    expect(usergroup.text).toBe('cassettetest\nusers operator viewer\n');
    const remove = await sendWithDigest(
      base,
      '/axis-cgi/pwdgrp.cgi?action=remove&user=cassettetest',
      admin,
    );
    expect(remove.text).toBe(page('Removed account cassettetest.'));
    const missing = await sendWithDigest(
      base,
      '/axis-cgi/pwdgrp.cgi?action=remove&user=cassettetest',
      admin,
    );
    expect(missing.text).toBe(page('Error: account user name.'));
  });

  it('validates user names and passwords', async () => {
    const badName = await postForm(
      url('12.x'),
      '/axis-cgi/pwdgrp.cgi',
      { action: 'add', user: 'user!', pwd: 'x', grp: 'users', sgrp: 'viewer' },
      admin,
    );
    expect(badName.text).toContain('>Error: account user name.\n');
    const emptyPassword = await postForm(
      url('12.x'),
      '/axis-cgi/pwdgrp.cgi',
      { action: 'add', user: 'newuser', pwd: '', grp: 'users', sgrp: 'viewer' },
      admin,
    );
    expect(emptyPassword.text).toContain('>Error: invalid password.\n');
    expect(camera('12.x').state.users.map((user) => user.username)).not.toContain('newuser');
  });

  it('refuses pwdgrp to a viewer with 403', async () => {
    const response = await sendWithDigest(url('9.80'), '/axis-cgi/pwdgrp.cgi?action=get', viewer);
    expect(response.status).toBe(403);
  });

  it('formats usergroup per generation', async () => {
    const older = await sendWithDigest(url('10.12'), '/axis-cgi/usergroup.cgi', admin);
    expect(older.text).toBe('root\nroot admin operator ptz viewer\n');
    const newer = await sendWithDigest(url('12.x'), '/axis-cgi/usergroup.cgi', admin);
    expect(newer.text).toBe('root\nadmin operator viewer ptz\n');
  });
});

describe('firmwaremanagement.cgi', () => {
  it('is absent on 5.51', async () => {
    const response = await postJson(url('5.51'), '/axis-cgi/firmwaremanagement.cgi', {
      apiVersion: '1.0',
      method: 'status',
    });
    expect(response.status).toBe(404);
  });

  it.each([
    ['9.80', '1.3'],
    ['10.12', '1.4'],
    ['11.11', '1.5'],
    ['12.x', '1.10'],
  ] as const)('reports status on %s with apiVersion %s', async (firmware, version) => {
    const response = await postJson(
      url(firmware),
      '/axis-cgi/firmwaremanagement.cgi',
      { apiVersion: '1.0', context: 'x', method: 'status' },
      admin,
    );
    expect(parseJson(response)).toMatchObject({
      apiVersion: version,
      context: 'x',
      method: 'status',
      data: { activeFirmwareVersion: FIRMWARE_PROFILES[firmware].version },
    });
  });

  it('answers an unknown method with code 405 in a 200 body', async () => {
    const response = await postJson(
      url('12.x'),
      '/axis-cgi/firmwaremanagement.cgi',
      { apiVersion: '1.0', method: 'selfDestruct' },
      admin,
    );
    expect(response.status).toBe(200);
    expect(parseJson(response).error).toEqual({ code: 405, message: 'Unknown method in request.' });
  });

  it.each([
    [
      'a top-level mode',
      { apiVersion: '1.0', method: 'factoryDefault', factoryDefaultMode: 'soft' },
    ],
    [
      'a misspelt mode',
      { apiVersion: '1.0', method: 'factoryDefault', params: { factoryDefaultMode: 'sot' } },
    ],
    ['no params', { apiVersion: '1.0', method: 'factoryDefault' }],
  ])('rejects factoryDefault with %s and leaves the camera alone', async (_label, body) => {
    const response = await postJson(url('11.11'), '/axis-cgi/firmwaremanagement.cgi', body, admin);
    expect((parseJson(response).error as { code: number }).code).toBe(400);
    expect(camera('11.11').state.phase).toBe('ready');
    expect(camera('11.11').state.needsetup).toBe(false);
  });

  it('refuses a viewer with 403', async () => {
    const response = await postJson(
      url('12.x'),
      '/axis-cgi/firmwaremanagement.cgi',
      { apiVersion: '1.0', method: 'status' },
      viewer,
    );
    expect(response.status).toBe(403);
  });
});

describe('time.cgi and network_settings.cgi', () => {
  it('gives the date and time, and 4001 for an unsupported apiVersion', async () => {
    const ok = await postJson(
      url('12.x'),
      '/axis-cgi/time.cgi',
      { apiVersion: '1.0', context: 'oadm', method: 'getDateTimeInfo' },
      admin,
    );
    const body = parseJson(ok);
    expect(body).toMatchObject({ apiVersion: '1.1', context: 'oadm', method: 'getDateTimeInfo' });
    expect((body.data as { dateTime: string }).dateTime).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
    );
    const wrong = await postJson(
      url('12.x'),
      '/axis-cgi/time.cgi',
      { apiVersion: '2.0', method: 'getDateTimeInfo' },
      admin,
    );
    expect(wrong.status).toBe(200);
    expect(parseJson(wrong).error).toEqual({
      code: 4001,
      message: 'The specified version is not supported',
    });
  });

  it('describes the network with the MAC in lower case, and is absent on 5.51', async () => {
    const response = await postJson(
      url('10.12'),
      '/axis-cgi/network_settings.cgi',
      { apiVersion: '1.0', method: 'getNetworkInfo' },
      admin,
    );
    const body = parseJson(response) as {
      apiVersion: string;
      data: {
        devices: {
          macAddress: string;
          IPv4: { configurationMode: string; addresses: { origin: string }[] };
        }[];
      };
    };
    expect(body.apiVersion).toBe('1.15');
    const device = body.data.devices[0];
    expect(device?.macAddress).toBe(camera('10.12').serial.toLowerCase().match(/../g)?.join(':'));
    expect(device?.IPv4.configurationMode).toBe('dhcp');
    expect(device?.IPv4.addresses.map((address) => address.origin)).toEqual(['linkLocal', 'dhcp']);
    const legacy = await postJson(url('5.51'), '/axis-cgi/network_settings.cgi', {
      apiVersion: '1.0',
      method: 'getNetworkInfo',
    });
    expect(legacy.status).toBe(404);
  });
});

describe('snapshots, edge storage and legacy CGIs', () => {
  it('returns a real JPEG of the requested size', async () => {
    const response = await sendWithDigest(
      url('12.x'),
      '/axis-cgi/jpg/image.cgi?resolution=640x360&compression=30&camera=1',
      viewer,
    );
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('image/jpeg');
    expect([...response.body.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    expect([...response.body.subarray(-2)]).toEqual([0xff, 0xd9]);
    const frame = response.body.indexOf(Buffer.from([0xff, 0xc0]));
    expect(response.body.readUInt16BE(frame + 5)).toBe(360);
    expect(response.body.readUInt16BE(frame + 7)).toBe(640);
  });

  it('needs credentials for a snapshot', async () => {
    const response = await sendRequest(url('11.11'), '/axis-cgi/jpg/image.cgi');
    expect(response.status).toBe(401);
  });

  it('lists disks and edge recordings as XML', async () => {
    const disks = await sendWithDigest(url('9.80'), '/axis-cgi/disks/list.cgi?diskid=all', viewer);
    expect(disks.text).toContain('<disk diskid="SD_DISK"');
    expect(disks.text).toContain('status="OK"');
    const recordings = await sendWithDigest(
      url('9.80'),
      '/axis-cgi/record/list.cgi?recordingid=all&maxnumberofresults=1',
      viewer,
    );
    expect(recordings.headers['content-type']).toBe('text/xml');
    expect(recordings.text).toContain('totalnumberofrecordings="2" numberofrecordings="1"');
    expect(recordings.text).toMatch(
      new RegExp(`recordingid="\\d{8}_\\d{6}_0001_${camera('9.80').serial}"`),
    );
  });

  it('refuses the legacy restart CGI to a viewer without restarting', async () => {
    const viewerAttempt = await sendWithDigest(url('5.51'), '/axis-cgi/restart.cgi', viewer);
    expect(viewerAttempt.status).toBe(403);
    expect(camera('5.51').state.phase).toBe('ready');
  });
});
