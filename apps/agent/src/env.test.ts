import { describe, expect, it } from 'vitest';
import { readAgentConfig } from './env.ts';

describe('readAgentConfig', () => {
  it('defaults to no multicast, port 80 and the XDG state directory', () => {
    const config = readAgentConfig({ HOME: '/home/site' });
    expect(config.dataDir).toBe('/home/site/.local/state/custody-agent');
    expect(config.discovery).toMatchObject({ cidrs: [], ports: [80], ssdp: false, mdns: false });
    expect(config.refreshIntervalMs).toBe(900_000);
    expect(config.allowInsecure).toBe(false);
  });

  it("prefers the explicit data directory, then systemd's StateDirectory", () => {
    expect(readAgentConfig({ STATE_DIRECTORY: '/var/lib/custody-agent' }).dataDir).toBe(
      '/var/lib/custody-agent',
    );
    expect(
      readAgentConfig({ STATE_DIRECTORY: '/var/lib/x', CUSTODY_AGENT_DATA_DIR: '/srv/agent' })
        .dataDir,
    ).toBe('/srv/agent');
  });

  it('parses ranges, ports, flags and intervals', () => {
    const config = readAgentConfig({
      HOME: '/h',
      CUSTODY_AGENT_CIDRS: '10.0.0.0/24, 10.0.1.0/28',
      CUSTODY_AGENT_PORTS: '80,443',
      CUSTODY_AGENT_SSDP: 'on',
      CUSTODY_AGENT_MDNS: '1',
      CUSTODY_AGENT_REFRESH_INTERVAL_S: '60',
    });
    expect(config.discovery).toMatchObject({
      cidrs: ['10.0.0.0/24', '10.0.1.0/28'],
      ports: [80, 443],
      ssdp: true,
      mdns: true,
    });
    expect(config.refreshIntervalMs).toBe(60_000);
  });

  it('names every bad variable in one error', () => {
    expect(() =>
      readAgentConfig({
        HOME: '/h',
        CUSTODY_AGENT_CIDRS: '10.0.0.0/8',
        CUSTODY_AGENT_SSDP: 'maybe',
        CUSTODY_AGENT_PROBE_CONCURRENCY: '0',
      }),
    ).toThrow(/CUSTODY_AGENT_CIDRS[\s\S]*CUSTODY_AGENT_SSDP[\s\S]*CUSTODY_AGENT_PROBE_CONCURRENCY/);
  });

  it('caps running commands at 4 and gives running verbs 20 s at shutdown unless told otherwise', () => {
    const defaults = readAgentConfig({ HOME: '/h' });
    expect(defaults.maxCommands).toBe(4);
    expect(defaults.stopGraceMs).toBe(20_000);
    const tuned = readAgentConfig({
      HOME: '/h',
      CUSTODY_AGENT_MAX_COMMANDS: '12',
      CUSTODY_AGENT_STOP_GRACE_S: '5',
    });
    expect(tuned.maxCommands).toBe(12);
    expect(tuned.stopGraceMs).toBe(5_000);
  });

  it('keeps the shutdown grace under the unit file stop timeout', () => {
    expect(() => readAgentConfig({ HOME: '/h', CUSTODY_AGENT_STOP_GRACE_S: '30' })).toThrow(
      /CUSTODY_AGENT_STOP_GRACE_S/,
    );
    expect(() => readAgentConfig({ HOME: '/h', CUSTODY_AGENT_MAX_COMMANDS: '0' })).toThrow(
      /CUSTODY_AGENT_MAX_COMMANDS/,
    );
  });
});
