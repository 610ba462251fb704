import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DnsMessage, DnsRecord } from './dns-message.ts';

/**
 * SSDP and mDNS on a real link that no other host shares: two network namespaces joined by a
 * veth pair, created here and deleted afterwards. The announcer (a simulator) runs in one, a
 * listener in the other. Needs root (CAP_NET_ADMIN); without it this suite fails on purpose.
 */

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const id = randomBytes(3).toString('hex');
const names = {
  announcer: `csim-a-${id}`,
  listener: `csim-l-${id}`,
  announcerLink: `csa${id}`,
  listenerLink: `csl${id}`,
};
const subnet = `10.${100 + (randomBytes(1)[0]! % 150)}.${randomBytes(1)[0]! % 250}`;
const announcerAddress = `${subnet}.1`;
const listenerAddress = `${subnet}.2`;

const CONFIGURED = 'B8A44F0A98A1';
const UPNP_OFF = 'B8A44F0A98A2';

interface Line {
  event?: string;
  kind?: string;
  from?: string;
  port?: number;
  text?: string;
  message?: DnsMessage;
  cameras?: { serial: string; address: string; httpPort: number; upnpPort: number }[];
}

class Child {
  readonly lines: Line[] = [];
  private readonly waiters: (() => void)[] = [];
  stderr = '';

  constructor(readonly process: ChildProcessWithoutNullStreams) {
    let buffer = '';
    process.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let newline = buffer.indexOf('\n');
      while (newline !== -1) {
        this.lines.push(JSON.parse(buffer.slice(0, newline)) as Line);
        buffer = buffer.slice(newline + 1);
        newline = buffer.indexOf('\n');
      }
      for (const wake of this.waiters.splice(0)) wake();
    });
    process.stderr.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8');
    });
  }

  send(command: string): void {
    this.process.stdin.write(`${command}\n`);
  }

  async waitFor(predicate: (line: Line) => boolean, what: string, timeoutMs = 8000): Promise<Line> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find(predicate);
      if (found) return found;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; stderr: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function startInNamespace(namespace: string, script: string, argument: string): Child {
  const child = spawn(
    'ip',
    ['netns', 'exec', namespace, process.execPath, '--import', 'tsx', script, argument],
    {
      cwd: packageDir,
    },
  );
  return new Child(child);
}

function headers(text: string): Map<string, string> {
  return new Map(
    text
      .split('\r\n')
      .slice(1)
      .filter((line) => line.includes(':'))
      .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]),
  );
}

let announcer: Child | undefined;
let listener: Child | undefined;
const created: string[] = [];

beforeAll(async () => {
  try {
    ip('netns', 'add', names.announcer);
    created.push(names.announcer);
    ip('netns', 'add', names.listener);
    created.push(names.listener);
  } catch (error) {
    const detail = (error as { stderr?: Buffer }).stderr?.toString().trim() ?? String(error);
    throw new Error(
      `SSDP/mDNS tests need network namespaces: \`ip netns add\` failed (${detail}). ` +
        'Run them as root (CAP_NET_ADMIN) on Linux with iproute2.',
    );
  }
  ip(
    'link',
    'add',
    names.announcerLink,
    'netns',
    names.announcer,
    'type',
    'veth',
    'peer',
    'name',
    names.listenerLink,
    'netns',
    names.listener,
  );
  for (const [namespace, link, address] of [
    [names.announcer, names.announcerLink, announcerAddress],
    [names.listener, names.listenerLink, listenerAddress],
  ] as const) {
    ip('-n', namespace, 'link', 'set', 'lo', 'up');
    ip('-n', namespace, 'addr', 'add', `${address}/24`, 'dev', link);
    ip('-n', namespace, 'link', 'set', link, 'up');
    ip('-n', namespace, 'route', 'add', '224.0.0.0/4', 'dev', link);
  }
  listener = startInNamespace(
    names.listener,
    'src/test-support/netns-listener.ts',
    listenerAddress,
  );
  await listener.waitFor((line) => line.event === 'listening', 'the listener');
  announcer = startInNamespace(
    names.announcer,
    'src/test-support/netns-announcer.ts',
    JSON.stringify({
      interfaceAddress: announcerAddress,
      cameras: [
        { firmware: '11.11', serial: CONFIGURED },
        { firmware: '12.x', serial: UPNP_OFF },
      ],
    }),
  );
  await announcer.waitFor((line) => line.event === 'ready', 'the announcer');
}, 30_000);

afterAll(async () => {
  for (const child of [announcer, listener]) {
    if (child && child.process.exitCode === null) {
      child.process.stdin.end();
      await new Promise((resolve) => {
        const timer = setTimeout(() => {
          child.process.kill('SIGKILL');
          resolve(undefined);
        }, 3000);
        child.process.once('exit', () => {
          clearTimeout(timer);
          resolve(undefined);
        });
      });
    }
  }
  for (const namespace of created) {
    try {
      ip('netns', 'del', namespace);
    } catch {
      // Already gone.
    }
  }
});

function camera(serial: string) {
  const ready = announcer?.lines.find((line) => line.event === 'ready');
  const found = ready?.cameras?.find((entry) => entry.serial === serial);
  if (!found) throw new Error(`camera ${serial} not announced as ready`);
  return found;
}

const AXIS_NT = 'urn:axis-com:service:BasicService:1';

describe('SSDP in a network namespace', () => {
  it('announces ssdp:alive with the AXIS headers from the interface address', async () => {
    const line = await listener!.waitFor(
      (entry) =>
        entry.kind === 'ssdp' &&
        (entry.text ?? '').includes(`NT: ${AXIS_NT}\r\n`) &&
        (entry.text ?? '').includes(CONFIGURED),
      'an alive NOTIFY',
    );
    expect(line.from).toBe(announcerAddress);
    const text = line.text ?? '';
    expect(text.startsWith('NOTIFY * HTTP/1.1\r\n')).toBe(true);
    expect(text.endsWith('\r\n\r\n')).toBe(true);
    const { address, upnpPort } = camera(CONFIGURED);
    expect([...headers(text).entries()]).toEqual([
      ['HOST', '239.255.255.250:1900'],
      ['CACHE-CONTROL', 'max-age=1800'],
      ['LOCATION', `http://${address}:${upnpPort}/rootdesc1.xml`],
      ['OPT', '"http://schemas.upnp.org/upnp/1/0/"; ns=01'],
      ['01-NLS', expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown as string],
      ['NT', AXIS_NT],
      ['NTS', 'ssdp:alive'],
      ['SERVER', 'Linux/4.14.173-axis8, UPnP/1.0, Portable SDK for UPnP devices/1.8.7'],
      ['X-User-Agent', 'redsonic'],
      ['USN', `uuid:Upnp-BasicDevice-1_0-${CONFIGURED}::${AXIS_NT}`],
    ]);
  });

  it('stays silent on SSDP for a 12.x camera, whose UPnP is off by default', () => {
    const ssdp = listener!.lines.filter((entry) => entry.kind === 'ssdp');
    expect(ssdp.length).toBeGreaterThan(0);
    expect(ssdp.some((entry) => (entry.text ?? '').includes(UPNP_OFF))).toBe(false);
  });

  it('answers an M-SEARCH for the AXIS service type by unicast', async () => {
    listener!.send(`msearch ${AXIS_NT}`);
    const reply = await listener!.waitFor(
      (entry) => entry.kind === 'ssdp-reply',
      'an M-SEARCH reply',
    );
    const text = reply.text ?? '';
    expect(text.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
    const fields = headers(text);
    expect([...fields.keys()]).toEqual([
      'CACHE-CONTROL',
      'DATE',
      'EXT',
      'LOCATION',
      'OPT',
      '01-NLS',
      'SERVER',
      'X-User-Agent',
      'ST',
      'USN',
    ]);
    expect(fields.get('ST')).toBe(AXIS_NT);
    expect(fields.get('EXT')).toBe('');
    expect(fields.get('USN')).toBe(`uuid:Upnp-BasicDevice-1_0-${CONFIGURED}::${AXIS_NT}`);
    expect(/^uuid:.*([0-9a-f]{12})::.*$/i.exec(fields.get('USN') ?? '')?.[1]).toBe(CONFIGURED);
  });
});

function records(entry: Line): DnsRecord[] {
  return [...(entry.message?.answers ?? []), ...(entry.message?.additionals ?? [])];
}

describe('mDNS in a network namespace', () => {
  it.each([
    [CONFIGURED, 'P3245-LVE'],
    [UPNP_OFF, 'P3265-V'],
  ])('announces %s as _axis-video._tcp with its MAC in TXT', async (serial, model) => {
    const instance = `AXIS ${model} - ${serial}._axis-video._tcp.local`;
    const line = await listener!.waitFor(
      (entry) =>
        entry.kind === 'mdns' &&
        records(entry).some((record) => record.type === 'PTR' && record.target === instance),
      `an mDNS announcement for ${serial}`,
    );
    expect(line.from).toBe(announcerAddress);
    expect(line.port).toBe(5353);
    expect(line.message?.isResponse).toBe(true);
    const { address, httpPort } = camera(serial);
    const host = `axis-${serial.toLowerCase()}.local`;
    expect(records(line)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'SRV', name: instance, port: httpPort, target: host }),
        expect.objectContaining({ type: 'TXT', name: instance, entries: [`macaddress=${serial}`] }),
        expect.objectContaining({ type: 'A', name: host, address }),
      ]),
    );
  });

  it('answers a PTR query for _axis-video._tcp.local, multicast and legacy unicast', async () => {
    const before = listener!.lines.length;
    listener!.send('mdns-query _axis-video._tcp.local');
    const multicast = await listener!.waitFor(
      (entry) =>
        listener!.lines.indexOf(entry) >= before &&
        entry.kind === 'mdns' &&
        (entry.message?.answers.filter((record) => record.type === 'PTR').length ?? 0) === 2,
      'a multicast answer',
    );
    expect(multicast.message?.authoritative).toBe(true);
    listener!.send('mdns-legacy-query _axis-video._tcp.local');
    const unicast = await listener!.waitFor(
      (entry) => entry.kind === 'mdns-unicast',
      'a legacy unicast answer',
    );
    expect(unicast.message?.id).toBe(4242);
    expect(unicast.message?.questions[0]?.name).toBe('_axis-video._tcp.local');
  });

  it('says goodbye on SSDP and mDNS when a camera goes away', async () => {
    announcer!.send(`remove ${CONFIGURED}`);
    await announcer!.waitFor((line) => line.event === 'removed', 'the removal');
    const byebye = await listener!.waitFor(
      (entry) =>
        entry.kind === 'ssdp' &&
        (entry.text ?? '').includes('NTS: ssdp:byebye') &&
        (entry.text ?? '').includes(CONFIGURED),
      'an SSDP byebye',
    );
    expect(byebye.text).toContain(`USN: uuid:Upnp-BasicDevice-1_0-${CONFIGURED}`);
    const goodbye = await listener!.waitFor(
      (entry) =>
        entry.kind === 'mdns' &&
        records(entry).some((record) => record.ttl === 0 && record.name.includes(CONFIGURED)),
      'an mDNS goodbye',
    );
    expect(records(goodbye).every((record) => record.ttl === 0)).toBe(true);
  });
});
