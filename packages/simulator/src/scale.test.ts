import { afterAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from './simulator.ts';
import { FIRMWARE_IDS } from './firmware-profiles.ts';
import { postJson, sendRequest } from './test-support/vapix-request.ts';

let simulator: Simulator | undefined;

afterAll(async () => {
  await simulator?.close();
});

describe('one process, many cameras', () => {
  it('hosts 200 cameras on their own loopback addresses, and every one answers', async () => {
    simulator = await createSimulator({
      addressPool: 'loopback-ips',
      addressBase: '127.79.0.1',
      seed: 9,
    });
    const cameras = [];
    for (let index = 0; index < 200; index += 1) {
      cameras.push(
        await simulator.addCamera({
          firmware: FIRMWARE_IDS[index % FIRMWARE_IDS.length] ?? '12.x',
        }),
      );
    }
    expect(new Set(cameras.map((camera) => camera.address)).size).toBe(200);
    expect(new Set(cameras.map((camera) => camera.serial)).size).toBe(200);
    const statuses: number[] = [];
    for (let start = 0; start < cameras.length; start += 50) {
      const batch = cameras.slice(start, start + 50).map(async (camera) => {
        const response =
          camera.firmware === '5.51'
            ? await sendRequest(camera.httpUrl ?? '', '/axis-cgi/param.cgi?action=list')
            : await postJson(camera.httpUrl ?? '', '/axis-cgi/basicdeviceinfo.cgi', {
                apiVersion: '1.0',
                method: 'getAllProperties',
              });
        const realm = response.headerValues('www-authenticate')[0] ?? '';
        expect(realm).toContain(`realm="AXIS_${camera.serial}"`);
        return response.status;
      });
      statuses.push(...(await Promise.all(batch)));
    }
    expect(statuses).toEqual(Array.from({ length: 200 }, () => 401));
    expect(simulator.cameras.length).toBe(200);
  });

  it('removes one camera and keeps the other 199', async () => {
    const first = simulator?.cameras[0];
    expect(first).toBeDefined();
    expect(await simulator?.removeCamera(first?.serial ?? '')).toBe(true);
    expect(simulator?.getCamera(first?.serial ?? '')).toBeUndefined();
    expect(simulator?.cameras.length).toBe(199);
  });
});
