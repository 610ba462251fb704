import { describe, expect, it } from 'vitest';
import { ACCESS_STATES, CameraSchema } from './camera.ts';

const CAMERA = {
  serial: 'ac:cc:8e:01:23:45',
  siteId: '3f1c2a9e-8b4d-4c6e-9f00-1a2b3c4d5e6f',
  model: 'P3265-LVE',
  productName: 'AXIS P3265-LVE Dome Camera',
  firmware: '11.11.73',
  hardwareId: '7A2',
  lastSeenAt: '2025-06-01T10:00:00Z',
  accessState: 'login-failed',
};

describe('CameraSchema', () => {
  it('identifies the camera by its canonical serial and defaults to no known addresses', () => {
    const camera = CameraSchema.parse(CAMERA);
    expect(camera.serial).toBe('ACCC8E012345');
    expect(camera.addresses).toEqual([]);
    expect(camera.lastSeenAt).toEqual(new Date('2025-06-01T10:00:00Z'));
  });

  it('accepts the five access states and no others', () => {
    expect(ACCESS_STATES).toEqual([
      'authenticated',
      'needs-setup',
      'login-failed',
      'locked-out',
      'unreachable',
    ]);
    for (const accessState of ACCESS_STATES) {
      expect(CameraSchema.parse({ ...CAMERA, accessState }).accessState).toBe(accessState);
    }
    expect(CameraSchema.safeParse({ ...CAMERA, accessState: 'offline' }).success).toBe(false);
  });

  it('knows an unprobed camera by its serial alone', () => {
    const unprobed = {
      ...CAMERA,
      model: null,
      productName: null,
      firmware: null,
      hardwareId: null,
      lastSeenAt: null,
      accessState: 'unreachable',
    };
    expect(CameraSchema.safeParse(unprobed).success).toBe(true);
  });

  it('records where an address was learned', () => {
    const camera = CameraSchema.parse({
      ...CAMERA,
      addresses: [
        { address: '192.168.0.90', seenAt: '2025-06-01T10:00:00Z', source: 'default-ip' },
      ],
    });
    expect(camera.addresses[0]?.source).toBe('default-ip');
    expect(
      CameraSchema.safeParse({
        ...CAMERA,
        addresses: [{ address: '192.168.0.90', seenAt: '2025-06-01T10:00:00Z', source: 'rumour' }],
      }).success,
    ).toBe(false);
  });

  it('rejects an invalid serial and blank device text', () => {
    expect(CameraSchema.safeParse({ ...CAMERA, serial: '192.168.0.90' }).success).toBe(false);
    expect(CameraSchema.safeParse({ ...CAMERA, model: '' }).success).toBe(false);
  });
});
