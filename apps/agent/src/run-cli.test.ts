import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runCli, USAGE } from './run-cli.ts';

describe('custody-agent CLI', () => {
  it('prints usage listing its commands for --help', () => {
    const result = runCli(['--help']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(USAGE);
    expect(result.stdout).toMatch(/^Usage:\n {2}custody-agent <command>/m);
  });

  it('rejects an unknown command with exit code 2 and the usage on stderr', () => {
    const result = runCli(['frobnicate']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('unknown command "frobnicate"');
    expect(result.stdout).toBe('');
  });

  it('rejects an unknown option instead of ignoring it', () => {
    const result = runCli(['--frobnicate']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("Unknown option '--frobnicate'");
  });

  it('prints usage when started as a real process through the workspace script', async () => {
    const root = fileURLToPath(new URL('../../..', import.meta.url));
    const { stdout } = await promisify(execFile)('pnpm', ['--silent', 'custody-agent', '--help'], {
      cwd: root,
    });
    expect(stdout).toBe(USAGE);
  });
});
