import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PersistedCamera } from '../cameras/inventory.ts';
import { INVENTORY_FILE, loadInventory, saveInventory } from './inventory-file.ts';
import { useTempDirs } from './testing/temp-dirs.ts';

const tempDir = useTempDirs('custody-inventory-');

const CAMERA: PersistedCamera = {
  sighting: {
    serial: 'ACCC8E012345',
    url: 'http://10.20.0.21/',
    address: '10.20.0.21',
    source: 'scan',
    model: 'M3086-V',
    productName: 'AXIS M3086-V Dome Camera',
    firmware: '11.11.73',
    hardwareId: '9A1.1',
    mac: 'AC:CC:8E:01:23:45',
    accessState: null,
    seenAt: '2031-04-02T09:59:58.000Z',
  },
  lastSeenAt: Date.parse('2031-04-02T09:59:58Z'),
  lost: false,
  sentKey: 'sent',
  sentAt: Date.parse('2031-04-02T10:00:00Z'),
};

describe('the inventory file', () => {
  it('reads back what was saved, readable by the agent user only, leaving no temporary file', async () => {
    const dir = await tempDir();
    await saveInventory(dir, [CAMERA]);
    await saveInventory(dir, [CAMERA, { ...CAMERA, lost: true }]);
    expect(await loadInventory(dir)).toEqual({
      cameras: [CAMERA, { ...CAMERA, lost: true }],
      skipped: 0,
    });
    expect((await stat(join(dir, INVENTORY_FILE))).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual([INVENTORY_FILE]);
  });

  it('starts empty without a file, and from scratch with an unreadable one', async () => {
    const dir = await tempDir();
    expect(await loadInventory(dir)).toEqual({ cameras: [], skipped: 0 });
    await writeFile(join(dir, INVENTORY_FILE), '{"format":1,"cameras":[', { mode: 0o600 });
    expect(await loadInventory(dir)).toEqual({ cameras: [], skipped: 1 });
  });

  it('skips a camera that does not read back and keeps the others', async () => {
    const dir = await tempDir();
    const broken = { ...CAMERA, sighting: { ...CAMERA.sighting, address: 'camera.local' } };
    await writeFile(
      join(dir, INVENTORY_FILE),
      JSON.stringify({ format: 1, cameras: [broken, CAMERA] }),
      { mode: 0o600 },
    );
    expect(await loadInventory(dir)).toEqual({ cameras: [CAMERA], skipped: 1 });
  });
});
