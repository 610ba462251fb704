import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runCli, USAGE } from './run-cli.ts';
import { createMemoryIo } from './testing/memory-io.ts';

describe('custody-agent CLI', () => {
  it('prints usage listing its commands for --help', async () => {
    const io = createMemoryIo();
    expect(await runCli(['--help'], io)).toBe(0);
    expect(io.out()).toBe(USAGE);
    expect(io.out()).toMatch(/^ {2}probe <url>/m);
    expect(io.out()).toMatch(/^ {2}discover/m);
  });

  it('rejects an unknown command with exit code 2 and the usage on stderr', async () => {
    const io = createMemoryIo();
    expect(await runCli(['frobnicate'], io)).toBe(2);
    expect(io.err()).toContain('unknown command "frobnicate"');
    expect(io.out()).toBe('');
  });

  it('rejects an unknown option instead of ignoring it', async () => {
    const io = createMemoryIo();
    expect(await runCli(['--frobnicate'], io)).toBe(2);
    expect(io.err()).toContain("Unknown option '--frobnicate'");
  });

  it('shows a command its own usage for --help', async () => {
    const io = createMemoryIo();
    expect(await runCli(['probe', '--help'], io)).toBe(0);
    expect(io.out()).toMatch(/^ {2}custody-agent probe <url>/m);
  });

  it('refuses a password on the command line and says where it belongs', async () => {
    const io = createMemoryIo();
    const code = await runCli(
      ['probe', 'http://127.0.0.1:9', '--username', 'root', '--password', 'hunter2'],
      io,
    );
    expect(code).toBe(2);
    expect(io.err()).toContain('--password-env NAME');
    expect(io.err()).not.toContain('hunter2');
  });

  it('prints usage when started as a real process through the workspace script', async () => {
    const root = fileURLToPath(new URL('../../..', import.meta.url));
    const { stdout } = await promisify(execFile)('pnpm', ['--silent', 'custody-agent', '--help'], {
      cwd: root,
    });
    expect(stdout).toBe(USAGE);
  });
});
