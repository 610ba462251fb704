import { afterEach, describe, expect, it } from 'vitest';
import type { AddCameraOptions } from './simulated-camera.ts';
import { createSimulator, type Simulator } from './simulator.ts';
import { parseJson, postForm, postJson, sendWithDigest } from './test-support/vapix-request.ts';
import { delay, isRefused } from './test-support/wait.ts';

const SERIAL = 'ACCC8E000001';
const simulators: Simulator[] = [];

afterEach(async () => {
  await Promise.all(simulators.splice(0).map((simulator) => simulator.close()));
});

async function dropPattern(
  seed: number,
  dropRate: number,
): Promise<{ pattern: string; dropped: number }> {
  const simulator = await createSimulator({ addressPool: 'ports', seed, dropRate });
  simulators.push(simulator);
  const camera = await simulator.addCamera({ firmware: '10.12', serial: SERIAL });
  let pattern = '';
  for (let index = 0; index < 40; index += 1) {
    const ok = await postJson(camera.httpUrl ?? '', '/axis-cgi/systemready.cgi', {
      apiVersion: '1',
      method: 'systemready',
    }).then(
      () => true,
      () => false,
    );
    pattern += ok ? '.' : 'x';
  }
  return { pattern, dropped: camera.stats.dropped };
}

describe('dropped connections', () => {
  it('drop the same requests for the same seed, near the configured rate', async () => {
    const first = await dropPattern(42, 0.3);
    const second = await dropPattern(42, 0.3);
    expect(second.pattern).toBe(first.pattern);
    const drops = [...first.pattern].filter((outcome) => outcome === 'x').length;
    expect(drops).toBe(first.dropped);
    expect(drops).toBeGreaterThanOrEqual(5);
    expect(drops).toBeLessThanOrEqual(20);
  });

  it('drop a different set of requests for another seed', async () => {
    const first = await dropPattern(42, 0.3);
    const other = await dropPattern(43, 0.3);
    expect(other.pattern).not.toBe(first.pattern);
  });

  it('never drop at rate 0', async () => {
    const { pattern } = await dropPattern(42, 0);
    expect(pattern).toBe('.'.repeat(40));
  });
});

describe('latency', () => {
  it('delays answers by the camera latency, which overrides the simulator default', async () => {
    const simulator = await createSimulator({ addressPool: 'ports', latencyMs: 0, seed: 1 });
    simulators.push(simulator);
    const fast = await simulator.addCamera({ firmware: '12.x' });
    const slow = await simulator.addCamera({ firmware: '12.x', latencyMs: 120, jitterMs: 20 });
    const time = async (base: string) => {
      const started = performance.now();
      await postJson(base, '/axis-cgi/systemready.cgi', { apiVersion: '1', method: 'systemready' });
      return performance.now() - started;
    };
    expect(await time(slow.httpUrl ?? '')).toBeGreaterThanOrEqual(115);
    expect(await time(fast.httpUrl ?? '')).toBeLessThan(100);
  });

  it('rejects a drop rate outside 0..1', async () => {
    await expect(createSimulator({ dropRate: 1.5 })).rejects.toThrow(/dropRate/);
  });
});

describe('answers lost after the request was carried out', () => {
  const admin = { username: 'root', password: 'pass-Word-1' };
  const changed = 'changed-Word-2';
  const update = (base: string, credentials: typeof admin, password: string) =>
    postForm(
      base,
      '/axis-cgi/pwdgrp.cgi',
      { action: 'update', user: 'root', pwd: password },
      credentials,
    );
  const whoAmI = (base: string, credentials: typeof admin) =>
    sendWithDigest(base, '/axis-cgi/usergroup.cgi', credentials);

  async function start(
    camera: Partial<AddCameraOptions> = {},
    options: Parameters<typeof createSimulator>[0] = {},
  ) {
    const simulator = await createSimulator({
      addressPool: 'ports',
      seed: 5,
      timeScale: 100,
      rebootMs: 2_000,
      readyDelayMs: 500,
      ...options,
    });
    simulators.push(simulator);
    return simulator.addCamera({
      firmware: '11.11',
      users: [{ ...admin, role: 'admin' }],
      ...camera,
    });
  }

  it('change the password when dropAfterRate drops the answer, and the client hears nothing', async () => {
    const camera = await start({ dropAfterRate: 1 });
    await expect(update(camera.httpUrl ?? '', admin, changed)).rejects.toThrow();
    expect(camera.passwordOf('root')).toBe(changed);
    expect(camera.stats.answersLost).toBe(1);
    // Only what succeeded is lost: the challenge before it came through.
    expect(camera.stats.dropped).toBe(0);
  });

  it('lose the answer of the matching request only, as many times as armed', async () => {
    const camera = await start();
    const base = camera.httpUrl ?? '';
    camera.control.setAnswerFault({
      path: '/axis-cgi/pwdgrp.cgi',
      action: 'update',
      times: 1,
      effect: 'drop',
    });
    const list = await sendWithDigest(base, '/axis-cgi/pwdgrp.cgi?action=get', admin);
    expect(list.status).toBe(200);
    expect(camera.pendingAnswerFault).toMatchObject({ left: 1 });

    await expect(update(base, admin, changed)).rejects.toThrow();
    expect(camera.passwordOf('root')).toBe(changed);
    expect(camera.pendingAnswerFault).toBeUndefined();
    expect((await whoAmI(base, { ...admin, password: changed })).status).toBe(200);
    expect((await whoAmI(base, admin)).status).toBe(401);

    const again = await update(base, { ...admin, password: changed }, admin.password);
    expect(again.text).toContain('Modified account root.');
    expect(camera.stats.answersLost).toBe(1);
  });

  it('do not spend an answer fault on a request that failed', async () => {
    const camera = await start();
    camera.control.setAnswerFault({ path: '/axis-cgi/pwdgrp.cgi', effect: 'drop' });
    const wrong = await update(camera.httpUrl ?? '', { ...admin, password: 'wrong-1' }, changed);
    expect(wrong.status).toBe(401);
    expect(camera.passwordOf('root')).toBe(admin.password);
    expect(camera.pendingAnswerFault).toMatchObject({ left: 1 });
  });

  it('power the camera off instead of answering, and bring it back with the change kept', async () => {
    const camera = await start();
    const base = camera.httpUrl ?? '';
    const boots = camera.state.bootCount;
    camera.control.setAnswerFault({
      path: '/axis-cgi/pwdgrp.cgi',
      action: 'update',
      effect: 'power-off',
      powerOnAfterMs: 3_000,
    });
    await expect(update(base, admin, changed)).rejects.toThrow();
    expect(camera.state.powered).toBe(false);
    expect(await isRefused(base)).toBe(true);
    await camera.waitForPhase('ready', 5_000);
    expect(camera.state.bootCount).toBe(boots + 1);
    expect((await whoAmI(base, { ...admin, password: changed })).status).toBe(200);
    expect((await whoAmI(base, admin)).status).toBe(401);
  });

  it('keep a camera powered off by an answer fault off until told, without powerOnAfterMs', async () => {
    const camera = await start();
    camera.control.setAnswerFault({
      path: '/axis-cgi/pwdgrp.cgi',
      action: 'update',
      effect: 'power-off',
    });
    await expect(update(camera.httpUrl ?? '', admin, changed)).rejects.toThrow();
    await delay(100);
    expect(camera.phase).toBe('off');
    camera.control.powerOn();
    await camera.waitForPhase('ready', 5_000);
    expect(camera.passwordOf('root')).toBe(changed);
  });

  it('arm and clear answer faults over the control API, never showing a password', async () => {
    const camera = await start({}, { controlPort: 0 });
    const simulator = simulators.at(-1);
    const controlUrl = simulator?.controlUrl ?? '';
    const armed = await postJson(controlUrl, `/cameras/${camera.serial}/answer-fault`, {
      fault: { path: '/axis-cgi/pwdgrp.cgi', action: 'update', times: 2, effect: 'drop' },
    });
    expect(armed.status).toBe(200);
    expect(parseJson(armed).answerFault).toEqual({
      path: '/axis-cgi/pwdgrp.cgi',
      action: 'update',
      times: 2,
      effect: 'drop',
      left: 2,
    });
    expect(armed.text).not.toContain(admin.password);
    const bad = await postJson(controlUrl, `/cameras/${camera.serial}/answer-fault`, {
      fault: { path: 'pwdgrp', effect: 'explode' },
    });
    expect(bad.status).toBe(400);
    const cleared = await postJson(controlUrl, `/cameras/${camera.serial}/answer-fault`, {
      fault: null,
    });
    expect(parseJson(cleared).answerFault).toBeNull();
    expect(camera.pendingAnswerFault).toBeUndefined();
  });

  it('rejects a dropAfterRate outside 0..1', async () => {
    await expect(createSimulator({ dropAfterRate: -0.1 })).rejects.toThrow(/dropAfterRate/);
    const simulator = await createSimulator({ addressPool: 'ports' });
    simulators.push(simulator);
    await expect(simulator.addCamera({ firmware: '12.x', dropAfterRate: 2 })).rejects.toThrow(
      /dropAfterRate/,
    );
  });
});
