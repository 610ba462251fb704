import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { readAgentConfig } from '../env.ts';
import { RUN_USAGE } from './run-command.ts';

const UNIT = new URL('../../deploy/custody-agent.service', import.meta.url);

/** `Key=value` lines of the [Service] section; repeated keys keep their last value. */
async function serviceSection(): Promise<Map<string, string>> {
  const text = await readFile(UNIT, 'utf8');
  const section = /\[Service\]([\s\S]*?)(?:\n\[|$)/.exec(text)?.[1] ?? '';
  const entries = section
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const);
  return new Map(entries);
}

describe('the systemd unit', () => {
  it('does not restart the agent on the exit codes that need an operator', async () => {
    expect(RUN_USAGE).toMatch(/3 when not enrolled, 4 when the server revoked/);
    const unit = await serviceSection();
    expect(unit.get('Restart')).toBe('always');
    expect(unit.get('RestartPreventExitStatus')?.split(/\s+/).sort()).toEqual(['3', '4']);
  });

  it('runs as a static user the documented enrollment can also run as', async () => {
    const unit = await serviceSection();
    const text = await readFile(UNIT, 'utf8');
    // `systemd-run --uid=custody-agent` needs a user that exists outside the unit.
    expect(unit.get('DynamicUser') ?? 'no').toBe('no');
    expect(unit.get('User')).toBe('custody-agent');
    expect(text).toMatch(/useradd --system .*custody-agent/);
    expect(text).toMatch(/systemd-run --uid=custody-agent/);
  });

  it('gives the shutdown more time than the agent lets running commands take', async () => {
    const unit = await serviceSection();
    const stopSeconds = Number(unit.get('TimeoutStopSec'));
    const graceMax = 25;
    expect(() =>
      readAgentConfig({ HOME: '/h', CUSTODY_AGENT_STOP_GRACE_S: String(graceMax + 1) }),
    ).toThrow();
    expect(stopSeconds).toBeGreaterThanOrEqual(graceMax + 5);
  });
});
