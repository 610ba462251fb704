import {
  FIRMWARE_IDS,
  FIRMWARE_PROFILES,
  createSimulator,
  type SimulatedCamera,
  type Simulator,
} from '@custody/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../apps/agent/src/run-cli.ts';
import { createMemoryIo } from '../../apps/agent/src/testing/memory-io.ts';
import {
  ADMIN,
  ADMIN_USERS,
  fastSimulator,
  freePort,
  httpUrlOf,
  macOf,
} from './support/simulated-site.ts';

// Every camera on its own address of 127.88.0.0/29, all on one HTTP port, as a site's cameras
// share port 80: a range scan then finds them by address alone.
const SITE_BASE = '127.88.0.1';
const SITE_RANGE = '127.88.0.0/29';

let simulator: Simulator;
let port: number;
const cameras = new Map<string, SimulatedCamera>();

beforeAll(async () => {
  port = await freePort(SITE_BASE);
  simulator = await createSimulator({ ...fastSimulator(SITE_BASE), ports: { http: port } });
  for (const firmware of FIRMWARE_IDS) {
    cameras.set(firmware, await simulator.addCamera({ firmware, users: ADMIN_USERS }));
  }
});

afterAll(() => simulator.close());

function cameraOf(firmware: string): SimulatedCamera {
  const camera = cameras.get(firmware);
  if (camera === undefined) throw new Error(`no ${firmware} camera`);
  return camera;
}

interface ProbeJson {
  url: string;
  accessState: string;
  identity: {
    serial: string;
    mac: string;
    model: string | null;
    productName: string | null;
    firmware: string | null;
    hardwareId: string | null;
  } | null;
  capabilities: string[];
  error?: { code: string; message: string };
}

async function runProbe(url: string, password: string) {
  const io = createMemoryIo({ env: { CAMERA_PASSWORD: password } });
  const code = await runCli(
    ['probe', url, '--username', 'root', '--password-env', 'CAMERA_PASSWORD', '--json'],
    io,
  );
  return { code, io, report: JSON.parse(io.out()) as ProbeJson };
}

describe.each(FIRMWARE_IDS)('custody-agent probe of a %s camera', (firmware) => {
  const profile = FIRMWARE_PROFILES[firmware];

  it('prints the access state, identity and capabilities as one JSON object', async () => {
    const camera = cameraOf(firmware);
    const { code, io, report } = await runProbe(httpUrlOf(camera), ADMIN.password);
    expect(code).toBe(0);
    expect(io.err()).toBe('');
    expect(Object.keys(report).sort()).toEqual(['accessState', 'capabilities', 'identity', 'url']);
    expect(report).toEqual({
      url: `${httpUrlOf(camera)}/`,
      accessState: 'authenticated',
      identity: {
        serial: camera.serial,
        mac: macOf(camera.serial),
        model: profile.defaults.model,
        productName: profile.defaults.productFullName,
        firmware: profile.version,
        hardwareId: profile.defaults.hardwareId,
      },
      capabilities: expect.arrayContaining(['https', 'param-cgi', 'user-management']) as unknown,
    });
    expect(io.out()).not.toContain(ADMIN.password);
  });

  it('prints login-failed with the serial from the realm for a wrong password', async () => {
    const camera = cameraOf(firmware);
    const failures = camera.stats.authFailures;
    const { code, io, report } = await runProbe(httpUrlOf(camera), 'Wrong-Password-3');
    expect(code).toBe(0);
    expect(report).toMatchObject({
      accessState: 'login-failed',
      identity: { serial: camera.serial, mac: macOf(camera.serial) },
      error: { code: 'VAPIX_LOGIN_FAILED' },
    });
    expect(camera.stats.authFailures - failures).toBe(1);
    expect(io.out()).not.toContain('Wrong-Password-3');
  });
});

describe('custody-agent discover over a loopback range', () => {
  interface DiscoveredJson {
    serial: string;
    mac: string;
    model: string | null;
    firmware: string | null;
    sources: string[];
    addresses: { host: string; port: number | null; scheme: string | null; sources: string[] }[];
  }

  it('finds every simulated camera anonymously, merged by serial, identifying old firmware by realm', async () => {
    const failures = [...cameras.values()].map((camera) => camera.stats.authFailures);
    const io = createMemoryIo();
    const code = await runCli(
      ['discover', '--cidr', SITE_RANGE, '--ports', String(port), '--timeout', '5', '--json'],
      io,
    );
    expect(code).toBe(0);
    expect(io.err()).toBe('');
    const found = JSON.parse(io.out()) as DiscoveredJson[];

    const expected = [...cameras.entries()]
      .map(([firmware, camera]) => {
        const profile = FIRMWARE_PROFILES[firmware as keyof typeof FIRMWARE_PROFILES];
        // Without credentials only firmware with anonymous properties tells its model.
        const anonymous = profile.basicDeviceInfo?.unrestrictedProperties === true;
        return {
          serial: camera.serial,
          mac: macOf(camera.serial),
          model: anonymous ? profile.defaults.model : null,
          firmware: anonymous ? profile.version : null,
          sources: ['scan'],
          addresses: [{ host: camera.address, port, scheme: 'http', sources: ['scan'] }],
        };
      })
      .sort((a, b) => a.serial.localeCompare(b.serial));
    expect(found).toMatchObject(expected);
    expect(found).toHaveLength(FIRMWARE_IDS.length);
    expect([...cameras.values()].map((camera) => camera.stats.authFailures)).toEqual(failures);
  });
});
