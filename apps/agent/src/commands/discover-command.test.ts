import { describe, expect, it } from 'vitest';
import { runCli } from '../run-cli.ts';
import { createMemoryIo } from '../testing/memory-io.ts';

describe('custody-agent discover', () => {
  it('asks what to discover instead of multicasting by default', async () => {
    const io = createMemoryIo();
    expect(await runCli(['discover'], io)).toBe(2);
    expect(io.err()).toContain('--cidr, --ssdp and/or --mdns');
  });

  it('explains a bad range, bad ports and a bad timeout', async () => {
    for (const [args, message] of [
      [['--cidr', '10.0.0.0/8'], 'at most a /16'],
      [['--cidr', '127.0.0.1/32', '--ports', '80,http'], 'not a list of TCP ports'],
      [['--cidr', '127.0.0.1/32', '--timeout', 'soon'], '--timeout takes seconds'],
      [['--ssdp', '--ports', '80'], 'only applies to a --cidr'],
    ] as const) {
      const io = createMemoryIo();
      expect(await runCli(['discover', ...args], io), args.join(' ')).toBe(2);
      expect(io.err()).toContain(message);
    }
  });

  it('prints an empty JSON array when a loopback range holds no AXIS device', async () => {
    const io = createMemoryIo();
    expect(
      await runCli(
        ['discover', '--cidr', '127.0.0.1/32', '--ports', '9', '--timeout', '1', '--json'],
        io,
      ),
    ).toBe(0);
    expect(JSON.parse(io.out())).toEqual([]);
  });

  it('draws a progress line on a terminal and clears it before the result', async () => {
    const io = createMemoryIo({ isTTY: true });
    expect(
      await runCli(['discover', '--cidr', '127.0.0.0/30', '--ports', '9', '--timeout', '1'], io),
    ).toBe(0);
    expect(io.err()).toContain('scanning 127.0.0.0/30: 2/2 endpoints, 0 AXIS');
    expect(io.out()).toBe('No AXIS devices found.\n');
  });
});
