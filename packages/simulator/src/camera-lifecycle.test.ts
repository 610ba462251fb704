import { afterEach, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator, type SimulatorOptions } from './simulator.ts';
import type { AddCameraOptions } from './simulated-camera.ts';
import {
  parseJson,
  postForm,
  postJson,
  sendRequest,
  sendWithDigest,
  type Credentials,
} from './test-support/vapix-request.ts';
import { delay, isRefused } from './test-support/wait.ts';

const admin: Credentials = { username: 'root', password: 'pass-Word-1' };
const SYSTEMREADY = '/axis-cgi/systemready.cgi';

let simulator: Simulator | undefined;

afterEach(async () => {
  await simulator?.close();
  simulator = undefined;
});

/** Simulated time at 100×: a 10 s reboot takes 100 ms. */
async function start(camera: Partial<AddCameraOptions> = {}, options: SimulatorOptions = {}) {
  simulator = await createSimulator({
    timeScale: 100,
    seed: 11,
    rebootMs: 10_000,
    readyDelayMs: 1_000,
    ...options,
  });
  return simulator.addCamera({
    firmware: '11.11',
    users: [{ ...admin, role: 'admin' }],
    ...camera,
  });
}

async function systemready(base: string, timeout?: number) {
  const response = await postJson(base, SYSTEMREADY, {
    apiVersion: '1',
    method: 'systemready',
    ...(timeout === undefined ? {} : { params: { timeout } }),
  });
  return parseJson(response).data as Record<string, string>;
}

describe('the first administrator in factory-default state', () => {
  it('must be root before 11.5, and can then be created anonymously exactly once', async () => {
    const camera = await start({ firmware: '10.12', state: 'factory-default', users: undefined });
    const base = camera.httpUrl ?? '';
    expect((await systemready(base)).needsetup).toBe('yes');
    const named = await postForm(base, '/axis-cgi/pwdgrp.cgi', {
      action: 'add',
      user: 'installer',
      pwd: 'first-Pass-1',
      grp: 'users',
      sgrp: 'admin:operator:viewer:ptz',
    });
    expect(named.text).toContain('>Error: not a valid initial admin user.\n');
    const root = await postForm(base, '/axis-cgi/pwdgrp.cgi', {
      action: 'add',
      user: 'root',
      pwd: 'first-Pass-1',
      grp: 'root',
      sgrp: 'admin:operator:viewer:ptz',
    });
    expect(root.text).toContain('>Created account root.\n');
    expect((await systemready(base)).needsetup).toBe('no');
    const second = await postForm(base, '/axis-cgi/pwdgrp.cgi', {
      action: 'add',
      user: 'intruder',
      pwd: 'x',
      grp: 'users',
      sgrp: 'admin',
    });
    expect(second.status).toBe(401);
    expect(camera.state.users).toEqual([{ username: 'root', role: 'admin' }]);
  });

  it('may have any name from 11.5 on, but must be an administrator', async () => {
    const camera = await start({ firmware: '11.11', state: 'factory-default', users: undefined });
    const base = camera.httpUrl ?? '';
    const ready = await systemready(base);
    expect(ready.previewmode).toMatch(/^\d+$/);
    const viewerFirst = await postForm(base, '/axis-cgi/pwdgrp.cgi', {
      action: 'add',
      user: 'installer',
      pwd: 'first-Pass-1',
      grp: 'users',
      sgrp: 'viewer',
    });
    expect(viewerFirst.text).toContain('Error: not a valid initial admin user.');
    const created = await postForm(base, '/axis-cgi/pwdgrp.cgi', {
      action: 'add',
      user: 'installer',
      pwd: 'first-Pass-1',
      grp: 'users',
      sgrp: 'admin:operator:viewer:ptz',
    });
    expect(created.text).toContain('Created account installer.');
    const readyAfter = await systemready(base);
    expect(readyAfter.needsetup).toBe('no');
    expect(readyAfter).not.toHaveProperty('previewmode');
  });

  it('gives a configured camera without listed users an administrator nobody knows', async () => {
    const camera = await start({ users: undefined, state: 'configured' });
    expect(camera.state.needsetup).toBe(false);
    expect(camera.state.users).toEqual([{ username: 'root', role: 'admin' }]);
    const guess = await sendWithDigest(camera.httpUrl ?? '', '/axis-cgi/usergroup.cgi', admin);
    expect(guess.status).toBe(401);
  });
});

describe('reboot', () => {
  it('refuses connections while down, then comes back with a new bootid and a reset uptime', async () => {
    const camera = await start({}, { timeScale: 1000 });
    const base = camera.httpUrl ?? '';
    await delay(50);
    const before = await systemready(base);
    expect(Number(before.uptime)).toBeGreaterThanOrEqual(40);
    const reboot = await postJson(
      base,
      '/axis-cgi/firmwaremanagement.cgi',
      { apiVersion: '1.0', method: 'reboot' },
      admin,
    );
    expect(parseJson(reboot)).toMatchObject({ method: 'reboot', data: {} });
    await camera.waitForPhase('booting', 2000);
    expect(await isRefused(base)).toBe(true);
    await camera.waitForPhase('ready', 2000);
    const after = await systemready(base);
    expect(after.bootid).not.toBe(before.bootid);
    expect(Number(after.uptime)).toBeLessThan(Number(before.uptime));
    expect(camera.httpUrl).toBe(base);
  });

  it('answers systemready "no" while starting, long-polls until ready, and 503 elsewhere', async () => {
    const camera = await start({ readyDelayMs: 30_000 });
    const base = camera.httpUrl ?? '';
    await sendWithDigest(base, '/axis-cgi/restart.cgi', admin);
    await camera.waitForPhase('starting', 2000);
    expect((await systemready(base)).systemready).toBe('no');
    const busy = await sendWithDigest(base, '/axis-cgi/usergroup.cgi', admin);
    expect(busy.status).toBe(503);
    const waited = await systemready(base, 60);
    expect(waited.systemready).toBe('yes');
  });

  it('answers restart.cgi with the restart meta refresh page', async () => {
    const camera = await start();
    const response = await sendWithDigest(camera.httpUrl ?? '', '/axis-cgi/restart.cgi', admin);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/html');
    expect(response.text).toContain(
      `<meta http-equiv="refresh" content="0;URL=/admin/restartMessage.shtml?server=${camera.address}">`,
    );
    await camera.waitForPhase('booting', 2000);
  });
});

describe('factory default', () => {
  it('soft: removes every user and setting but keeps the address', async () => {
    const camera = await start();
    const base = camera.httpUrl ?? '';
    await sendWithDigest(
      base,
      '/axis-cgi/param.cgi?action=update&root.Network.SSH.Enabled=yes&root.Network.IPAddress=10.1.2.3',
      admin,
    );
    const response = await postJson(
      base,
      '/axis-cgi/firmwaremanagement.cgi',
      { apiVersion: '1.0', method: 'factoryDefault', params: { factoryDefaultMode: 'soft' } },
      admin,
    );
    expect(parseJson(response)).toMatchObject({ method: 'factoryDefault', data: {} });
    await camera.waitForPhase('booting', 2000);
    await camera.waitForPhase('ready', 2000);
    expect(camera.httpUrl).toBe(base);
    expect((await systemready(base)).needsetup).toBe('yes');
    expect((await sendWithDigest(base, '/axis-cgi/usergroup.cgi', admin)).status).toBe(401);
    expect(camera.parameter('Network.SSH.Enabled')).toBe('no');
    expect(camera.parameter('Network.IPAddress')).toBe('10.1.2.3');
  });

  it('hard: also moves to another loopback address and regenerates the certificate', async () => {
    const camera = await start({ firmware: '12.x' });
    const before = { address: camera.address, fingerprint: camera.certificateFingerprint256 };
    await postJson(
      camera.httpUrl ?? '',
      '/axis-cgi/firmwaremanagement.cgi',
      { apiVersion: '1.0', method: 'factoryDefault', params: { factoryDefaultMode: 'hard' } },
      admin,
    );
    await camera.waitForPhase('booting', 2000);
    await camera.waitForPhase('ready', 2000);
    expect(camera.address).not.toBe(before.address);
    expect(camera.address).toMatch(/^127\./);
    expect(camera.certificateFingerprint256).not.toBe(before.fingerprint);
    expect((await systemready(camera.httpUrl ?? '')).needsetup).toBe('yes');
  });

  it('hard: moves to another port in the ports pool, through the legacy CGI', async () => {
    const camera = await start({ firmware: '5.51' }, { addressPool: 'ports' });
    const before = camera.httpUrl ?? '';
    const response = await sendWithDigest(before, '/axis-cgi/hardfactorydefault.cgi', admin);
    expect(response.text).toContain('URL=/admin/factoryMessage2.shtml?server=127.0.0.1');
    await camera.waitForPhase('booting', 2000);
    await camera.waitForPhase('ready', 2000);
    expect(camera.address).toBe('127.0.0.1');
    expect(camera.httpUrl).not.toBe(before);
    expect(await isRefused(before)).toBe(true);
    expect(camera.state.needsetup).toBe(true);
  });
});

describe('network settings', () => {
  it('moves the camera to a new static loopback address without a reboot', async () => {
    const camera = await start({ firmware: '12.x' }, { addressBase: '127.78.0.1' });
    const bootId = camera.state.bootId;
    const response = await postJson(
      camera.httpUrl ?? '',
      '/axis-cgi/network_settings.cgi',
      {
        apiVersion: '1.0',
        context: 'x',
        method: 'setIPv4AddressConfiguration',
        params: {
          deviceName: 'eth0',
          configurationMode: 'static',
          staticAddressConfigurations: [{ address: '127.78.9.9', prefixLength: 24 }],
          staticDefaultRouter: '127.78.9.1',
        },
      },
      admin,
    );
    expect(parseJson(response)).toMatchObject({
      apiVersion: '1.38',
      method: 'setIPv4AddressConfiguration',
      data: {},
    });
    await camera.waitForPhase('booting', 2000);
    await camera.waitForPhase('ready', 2000);
    expect(camera.address).toBe('127.78.9.9');
    expect(camera.state.bootId).toBe(bootId);
    expect(camera.parameter('Network.BootProto')).toBe('none');
  });
});

describe('the control button', () => {
  it('resets to factory default, at a new address, when held 15 s from power-on', async () => {
    const camera = await start({}, { timeScale: 1000 });
    const address = camera.address;
    await camera.control.holdButton(20);
    await camera.waitForPhase('ready', 2000);
    expect(camera.state.needsetup).toBe(true);
    expect(camera.state.resetSource).toBe('button');
    expect(camera.address).not.toBe(address);
  });

  it('only restarts when released too early', async () => {
    const camera = await start({}, { timeScale: 1000 });
    const { address, bootId } = camera.state;
    await camera.control.holdButton(10);
    await camera.waitForPhase('ready', 2000);
    expect(camera.state.needsetup).toBe(false);
    expect(camera.state.bootId).not.toBe(bootId);
    expect(camera.address).toBe(address);
  });

  it('flashes amber once held long enough, and stays dark while powered off', async () => {
    const camera = await start({}, { timeScale: 1000 });
    camera.control.powerOff();
    expect(camera.state.led).toBe('off');
    expect(await isRefused(camera.httpUrl ?? '')).toBe(true);
    camera.control.pressButton();
    camera.control.powerOn();
    expect(camera.state).toMatchObject({ phase: 'button-held', led: 'amber' });
    await delay(20);
    expect(camera.state.led).toBe('amber-flashing');
    camera.control.releaseButton();
    await camera.waitForPhase('ready', 2000);
    expect(camera.state).toMatchObject({ led: 'green', needsetup: true });
  });

  it('never resets with a faulty button', async () => {
    const camera = await start({ fault: 'faulty-button' }, { timeScale: 1000 });
    await camera.control.holdButton(25);
    await camera.waitForPhase('ready', 2000);
    expect(camera.state.needsetup).toBe(false);
  });

  it('never comes back when bricked', async () => {
    const camera = await start({ fault: 'bricked' }, { timeScale: 1000 });
    const base = camera.httpUrl ?? '';
    await camera.control.holdButton(20);
    await camera.waitForPhase('dead', 2000);
    await delay(100);
    expect(camera.state).toMatchObject({ phase: 'dead', powered: true });
    expect(await isRefused(base)).toBe(true);
  });

  it('keeps rebooting and is never ready with insufficient power', async () => {
    const camera = await start(
      { fault: 'insufficient-power', readyDelayMs: 50_000 },
      { timeScale: 1000 },
    );
    const base = camera.httpUrl ?? '';
    camera.control.powerOff();
    camera.control.powerOn();
    const bootIds = new Set<string>();
    const deadline = Date.now() + 400;
    while (Date.now() < deadline) {
      await camera.waitForPhase('starting', 1000);
      const data = await systemready(base).catch(() => undefined);
      if (data) {
        expect(data.systemready).toBe('no');
        bootIds.add(data.bootid ?? '');
      }
      await camera.waitForPhase('booting', 1000);
    }
    expect(bootIds.size).toBeGreaterThanOrEqual(2);
    expect(camera.state.phase).not.toBe('ready');
  });
});

describe('the HTTP control API', () => {
  it('lists cameras without passwords and holds the button on request', async () => {
    const camera = await start({}, { timeScale: 1000, controlPort: 0 });
    const controlUrl = simulator?.controlUrl ?? '';
    const list = await sendRequest(controlUrl, '/cameras');
    expect(list.status).toBe(200);
    expect(list.text).toContain(camera.serial);
    expect(list.text).not.toContain(admin.password);
    const hold = await postJson(controlUrl, `/cameras/${camera.serial}/hold-button`, {
      seconds: 16,
    });
    expect(hold.status).toBe(200);
    await camera.waitForPhase('ready', 2000);
    expect(camera.state.needsetup).toBe(true);
    const bad = await postJson(controlUrl, `/cameras/${camera.serial}/fault`, { fault: 'on-fire' });
    expect(bad.status).toBe(400);
    const unknown = await sendRequest(controlUrl, '/cameras/000000000000');
    expect(unknown.status).toBe(404);
  });
});
