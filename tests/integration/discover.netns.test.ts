import {
  execFile,
  execFileSync,
  spawn,
  type ChildProcessWithoutNullStreams,
} from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `custody-agent discover` on a real link that nothing else shares: two network namespaces
 * joined by a veth pair, created here and removed afterwards. A simulated site runs in one
 * namespace, the agent CLI in the other. Needs root (CAP_NET_ADMIN); without it this suite
 * fails with the reason rather than skipping.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));
const id = randomBytes(3).toString('hex');
const site = `cdisc-s-${id}`;
const agent = `cdisc-a-${id}`;
const siteLink = `cds${id}`;
const agentLink = `cda${id}`;
const subnet = `10.${30 + (randomBytes(1)[0]! % 60)}.${randomBytes(1)[0]! % 250}`;
const siteAddress = `${subnet}.1`;
const agentAddress = `${subnet}.2`;

// 11.11 and 5.51 announce on SSDP and mDNS; 12.x has UPnP off by default (reference §1.1), so
// only mDNS and the scan can find it.
const UPNP_ON = 'ACCC8E5A0111';
const UPNP_OFF = 'B8A44F5A0112';
const OLD = '00408C5A0113';

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

interface DiscoveredCamera {
  serial: string;
  mac: string;
  model: string | null;
  sources: string[];
  addresses: { host: string; port: number | null; sources: string[] }[];
}

let siteProcess: ChildProcessWithoutNullStreams | undefined;
let cameras: { serial: string; url: string }[] = [];
const namespaces: string[] = [];

beforeAll(async () => {
  try {
    for (const name of [site, agent]) {
      ip('netns', 'add', name);
      namespaces.push(name);
    }
  } catch (error) {
    const detail = (error as { stderr?: Buffer }).stderr?.toString().trim() ?? String(error);
    throw new Error(
      `discovery tests need network namespaces: \`ip netns add\` failed (${detail}); run them as root on Linux with iproute2`,
    );
  }
  ip(
    'link',
    'add',
    siteLink,
    'netns',
    site,
    'type',
    'veth',
    'peer',
    'name',
    agentLink,
    'netns',
    agent,
  );
  for (const [namespace, link, address] of [
    [site, siteLink, siteAddress],
    [agent, agentLink, agentAddress],
  ] as const) {
    ip('-n', namespace, 'link', 'set', 'lo', 'up');
    ip('-n', namespace, 'addr', 'add', `${address}/24`, 'dev', link);
    ip('-n', namespace, 'link', 'set', link, 'up');
    ip('-n', namespace, 'route', 'add', '224.0.0.0/4', 'dev', link);
  }
  const config = {
    interfaceAddress: siteAddress,
    cameras: [
      { firmware: '11.11', serial: UPNP_ON, model: 'P3245-LVE' },
      { firmware: '12.x', serial: UPNP_OFF, model: 'P3265-V' },
      { firmware: '5.51', serial: OLD, model: 'P5512' },
    ],
  };
  siteProcess = spawn(
    'ip',
    [
      'netns',
      'exec',
      site,
      process.execPath,
      '--import',
      'tsx',
      'integration/support/netns-site.ts',
      JSON.stringify(config),
    ],
    { cwd: fileURLToPath(new URL('..', import.meta.url)) },
  );
  let stderr = '';
  siteProcess.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ready = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    siteProcess?.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      if (buffer.includes('\n')) resolve(buffer.slice(0, buffer.indexOf('\n')));
    });
    siteProcess?.once('exit', (code) =>
      reject(new Error(`the simulated site exited (${code}): ${stderr}`)),
    );
  });
  cameras = (JSON.parse(ready) as { cameras: typeof cameras }).cameras;
}, 30_000);

afterAll(async () => {
  if (siteProcess && siteProcess.exitCode === null) {
    siteProcess.stdin.end();
    await new Promise((resolve) => {
      const timer = setTimeout(() => siteProcess?.kill('SIGKILL'), 5_000);
      siteProcess?.once('exit', () => resolve(clearTimeout(timer)));
    });
  }
  for (const name of namespaces) {
    try {
      ip('netns', 'delete', name);
    } catch {
      // Already gone: deleting a namespace also removes its end of the veth pair.
    }
  }
});

async function discover(...args: string[]): Promise<DiscoveredCamera[]> {
  const { stdout } = await promisify(execFile)(
    'ip',
    [
      'netns',
      'exec',
      agent,
      process.execPath,
      '--import',
      'tsx',
      'apps/agent/src/cli.ts',
      'discover',
      ...args,
      '--json',
    ],
    { cwd: root },
  );
  return JSON.parse(stdout) as DiscoveredCamera[];
}

describe('custody-agent discover on an isolated link', () => {
  it('finds the cameras that announce over SSDP, by the serial in their description', async () => {
    const found = await discover('--ssdp', '--timeout', '2', '--interface', agentAddress);
    expect(found.map((camera) => camera.serial)).toEqual([OLD, UPNP_ON]);
    const announced = found.find((camera) => camera.serial === UPNP_ON);
    expect(announced).toMatchObject({ model: 'P3245-LVE', sources: ['ssdp'] });
    const port = Number(new URL(cameras.find((camera) => camera.serial === UPNP_ON)!.url).port);
    expect(announced?.addresses).toContainEqual(
      expect.objectContaining({ host: siteAddress, port }),
    );
  });

  it('finds every camera with Bonjour on by its mDNS macaddress record', async () => {
    const found = await discover('--mdns', '--timeout', '3', '--interface', agentAddress);
    expect(found.map((camera) => camera.serial)).toEqual(
      expect.arrayContaining([UPNP_ON, UPNP_OFF]),
    );
    for (const camera of found) expect(camera.sources).toEqual(['mdns']);
  });

  it('merges SSDP, mDNS and a range scan by serial, one address per camera', async () => {
    const ports = cameras.map((camera) => new URL(camera.url).port).join(',');
    const found = await discover(
      '--ssdp',
      '--mdns',
      '--cidr',
      `${siteAddress}/32`,
      '--ports',
      ports,
      '--timeout',
      '3',
      '--interface',
      agentAddress,
    );
    expect(found.map((camera) => camera.serial)).toEqual([OLD, UPNP_ON, UPNP_OFF]);
    const bySerial = new Map(found.map((camera) => [camera.serial, camera]));
    expect(bySerial.get(UPNP_ON)?.sources).toEqual(['ssdp', 'mdns', 'scan']);
    expect(bySerial.get(UPNP_OFF)?.sources).toEqual(['mdns', 'scan']);
    expect(bySerial.get(OLD)?.sources).toContain('scan');
    for (const camera of found) expect(camera.addresses).toHaveLength(1);
  });
});
