import { describe, expect, it } from 'vitest';
import { parseRotationArgs, UsageError } from './rotation-args.ts';

const JOB = '0b7c5a4e-8d1f-4a53-9a7e-2f4c1d6b8e90';

function parse(argv: string[], env: Record<string, string | undefined> = {}) {
  return parseRotationArgs(argv, env);
}

function usageMessage(argv: string[], env: Record<string, string | undefined> = {}): string {
  try {
    parse(argv, env);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (
      error instanceof UsageError ||
      (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))
    ) {
      return (error as Error).message;
    }
    throw error;
  }
  throw new Error(`${argv.join(' ')} was accepted`);
}

describe('parseRotationArgs', () => {
  it('reads start with its defaults: canary of 5, waves of 50, no failure allowed, the admin account', () => {
    const parsed = parse(['start', '--site', 'Harbour Street'], { CUSTODY_EMAIL: 'a@b.test' });
    expect(parsed.command).toEqual({
      name: 'start',
      options: {
        sites: ['Harbour Street'],
        canarySize: 5,
        waveSize: 50,
        maxFailures: 0,
        account: 'admin',
        detach: false,
      },
    });
    expect(parsed.connection.url.origin).toBe('http://localhost:3000');
    expect(parsed.connection.email).toBe('a@b.test');
  });

  it('takes several sites, the sizes, the account and --detach, and drops repeated sites', () => {
    const parsed = parse([
      'start',
      '--site=North',
      '--site',
      'South',
      '--site',
      'North',
      '--canary',
      '1',
      '--wave',
      '1000',
      '--max-failures',
      '3',
      '--account',
      'vms',
      '--detach',
      '--url',
      'https://custody.example.com/some/page',
      '--email',
      'admin@example.test',
    ]);
    expect(parsed.command).toEqual({
      name: 'start',
      options: {
        sites: ['North', 'South'],
        canarySize: 1,
        waveSize: 1000,
        maxFailures: 3,
        account: 'vms',
        detach: true,
      },
    });
    expect(parsed.connection.url.href).toBe('https://custody.example.com/');
    expect(parsed.connection.email).toBe('admin@example.test');
  });

  it('prefers --url and --email to CUSTODY_URL and CUSTODY_EMAIL', () => {
    const env = { CUSTODY_URL: 'http://127.0.0.1:3201', CUSTODY_EMAIL: 'env@example.test' };
    expect(parse(['list'], env).connection.url.origin).toBe('http://127.0.0.1:3201');
    const flags = parse(['list', '--url', 'localhost:4000', '--email', 'flag@example.test'], env);
    expect(flags.connection.url.origin).toBe('http://localhost:4000');
    expect(flags.connection.email).toBe('flag@example.test');
  });

  it('reads the job commands with their job id', () => {
    expect(parse(['watch', JOB]).command).toEqual({ name: 'watch', jobId: JOB });
    expect(parse(['retry', JOB.toUpperCase()]).command).toEqual({
      name: 'retry',
      jobId: JOB,
      detach: false,
    });
    expect(parse(['retry', JOB, '--detach']).command).toEqual({
      name: 'retry',
      jobId: JOB,
      detach: true,
    });
    for (const name of ['pause', 'resume', 'cancel'] as const) {
      expect(parse([name, JOB]).command).toEqual({ name, jobId: JOB });
    }
    expect(parse(['list', '--limit', '5']).command).toEqual({ name: 'list', limit: 5 });
    expect(parse(['list']).command).toEqual({ name: 'list', limit: 20 });
  });

  it('answers help without a command, with help and with -h', () => {
    expect(parse([]).command).toEqual({ name: 'help' });
    expect(parse(['help']).command).toEqual({ name: 'help' });
    expect(parse(['start', '-h']).command).toEqual({ name: 'help' });
  });

  it('refuses a password on the command line, and says where it goes instead', () => {
    expect(usageMessage(['start', '--site', 'A', '--password', 'hunter2hunter2'])).toMatch(
      /never taken as an argument.*CUSTODY_PASSWORD/,
    );
    expect(usageMessage(['list', '--password=hunter2hunter2'])).not.toContain('hunter2');
  });

  it('refuses plain http to another machine unless asked, and credentials in the URL', () => {
    expect(usageMessage(['list', '--url', 'http://custody.example.com'])).toMatch(
      /password in clear; use https, or pass --allow-http/,
    );
    expect(
      parse(['list', '--url', 'http://custody.example.com', '--allow-http']).connection.url.origin,
    ).toBe('http://custody.example.com');
    expect(parse(['list', '--url', 'http://127.0.0.2:3000']).connection.url.origin).toBe(
      'http://127.0.0.2:3000',
    );
    expect(usageMessage(['list', '--url', 'https://me:secret@custody.example.com'])).toMatch(
      /no credentials in the URL/,
    );
    expect(usageMessage(['list', '--url', 'ftp://custody.example.com'])).toMatch(/http\(s\)/);
  });

  it('names what is wrong with a bad command line', () => {
    expect(usageMessage(['start'])).toMatch(/at least one --site/);
    expect(usageMessage(['start', '--site', 'A', '--canary', '0'])).toMatch(
      /--canary takes a whole number from 1 to 100, not "0"/,
    );
    expect(usageMessage(['start', '--site', 'A', '--wave', '2.5'])).toMatch(/--wave/);
    expect(usageMessage(['start', '--site', 'A', '--max-failures', '-1'])).toBeTruthy();
    expect(usageMessage(['start', '--site', 'A', '--account', 'root'])).toMatch(
      /--account is one of admin, service, vms/,
    );
    expect(usageMessage(['watch'])).toMatch(/needs the job id/);
    expect(usageMessage(['watch', 'abc'])).toMatch(/"abc" is not a job id/);
    expect(usageMessage(['watch', JOB, JOB])).toMatch(/one job id/);
    expect(usageMessage(['watch', JOB, '--site', 'A'])).toMatch(/--site belongs to start/);
    expect(usageMessage(['pause', JOB, '--detach'])).toMatch(/--detach belongs to start and retry/);
    expect(usageMessage(['start', '--site', 'A', '--limit', '3'])).toMatch(
      /--limit belongs to list/,
    );
    expect(usageMessage(['rotate'])).toMatch(/unknown command "rotate"/);
    expect(usageMessage(['list', '--verbose'])).toMatch(/--verbose/);
  });
});
