import { parseArgs } from 'node:util';

export const ROTATION_ACCOUNTS = ['admin', 'service', 'vms'] as const;
export type RotationAccount = (typeof ROTATION_ACCOUNTS)[number];

export const ROTATION_USAGE = `Usage:
  pnpm --filter @custody/web rotation <command> [options]

Bulk credential rotation on a running Custody, over HTTP, as an integrator admin (or an
owner's approver, on the owner's sites).

Commands:
  start --site SITE       rotate the cameras of a site (its name or id; repeat for more sites),
                          then follow the job live
      --canary N          cameras in the canary batch, rotated first (1-100, default 5)
      --wave N            cameras per wave after the canary (1-1000, default 50)
      --max-failures N    failures a wave may have before the job stops (default 0)
      --account NAME      the account to rotate: admin, service or vms (default admin)
      --detach            print the job and return instead of following it
  watch JOB               follow a job live until it ends
  retry JOB [--detach]    retry the job's failed cameras as a new wave, and follow it
  pause JOB               start no more cameras (changes under way finish)
  resume JOB              go on with a paused or stopped job
  cancel JOB              skip the cameras not started yet
  list [--limit N]        the most recent jobs (default 20)

Options:
  --url URL        Custody's address (default: CUSTODY_URL, then http://localhost:3000)
  --email EMAIL    who signs in (default: CUSTODY_EMAIL)
  --allow-http     sign in over plain http to a host that is not this machine
  -h, --help       show this help

The password is read from CUSTODY_PASSWORD, or asked for without echo on a terminal; it is
never taken as an argument. The session lives in this process only and ends when it exits.

Exit codes: 0 done (for start, watch and retry: the job completed with no failed camera),
1 the job stopped, was cancelled or has failed cameras, or Custody refused, 2 a usage error.
`;

export const DEFAULT_URL = 'http://localhost:3000';

/** A usage mistake: printed with the usage and exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface StartOptions {
  sites: string[];
  canarySize: number;
  waveSize: number;
  maxFailures: number;
  account: RotationAccount;
  detach: boolean;
}

export type RotationCommand =
  | { name: 'help' }
  | { name: 'start'; options: StartOptions }
  | { name: 'watch'; jobId: string }
  | { name: 'retry'; jobId: string; detach: boolean }
  | { name: 'pause' | 'resume' | 'cancel'; jobId: string }
  | { name: 'list'; limit: number };

export interface ConnectionOptions {
  url: URL;
  email: string | undefined;
}

export interface ParsedRotationArgs {
  command: RotationCommand;
  connection: ConnectionOptions;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

function isLoopback(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

function integer(
  text: string | undefined,
  flag: string,
  min: number,
  max: number,
  fallback: number,
) {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${flag} takes a whole number from ${min} to ${max}, not "${text}"`);
  }
  return value;
}

function parseUrl(text: string, allowHttp: boolean): URL {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(
      `--url must be Custody's address, like https://custody.example.com, not "${text}"`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--url must be an http(s) address, not ${url.protocol.replace(':', '')}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new UsageError(
      'put no credentials in the URL: the password comes from CUSTODY_PASSWORD or a prompt',
    );
  }
  if (url.protocol === 'http:' && !isLoopback(url.hostname) && !allowHttp) {
    throw new UsageError(
      `signing in to ${url.host} over plain http would send the password in clear; use https, or pass --allow-http on a network you trust`,
    );
  }
  return new URL(url.origin);
}

function jobIdOf(positionals: readonly string[], command: string): string {
  const [jobId, ...extra] = positionals;
  if (jobId === undefined) throw new UsageError(`${command} needs the job id`);
  if (extra.length > 0)
    throw new UsageError(`${command} takes one job id, not ${positionals.length}`);
  if (!UUID.test(jobId))
    throw new UsageError(`"${jobId}" is not a job id (a UUID, as start and list print it)`);
  return jobId.toLowerCase();
}

/**
 * Reads the command line. `env` supplies the defaults of --url and --email; the password is
 * not read here, and `--password` is refused with a hint instead of being taken.
 */
export function parseRotationArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ParsedRotationArgs {
  if (argv.some((arg) => arg === '--password' || arg.startsWith('--password='))) {
    throw new UsageError(
      'a password is never taken as an argument (it would stay in the shell history and the process list): set CUSTODY_PASSWORD or answer the prompt',
    );
  }
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      url: { type: 'string' },
      email: { type: 'string' },
      'allow-http': { type: 'boolean' },
      site: { type: 'string', multiple: true },
      canary: { type: 'string' },
      wave: { type: 'string' },
      'max-failures': { type: 'string' },
      account: { type: 'string' },
      detach: { type: 'boolean' },
      limit: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [name, ...rest] = positionals;
  const connection: ConnectionOptions = {
    url: parseUrl(values.url ?? env.CUSTODY_URL ?? DEFAULT_URL, values['allow-http'] === true),
    email: (values.email ?? env.CUSTODY_EMAIL)?.trim() || undefined,
  };
  if (values.help === true || name === undefined || name === 'help') {
    return { command: { name: 'help' }, connection };
  }

  const startOnly = ['site', 'canary', 'wave', 'max-failures', 'account'] as const;
  if (name !== 'start') {
    const misplaced = startOnly.find((flag) => values[flag] !== undefined);
    if (misplaced) throw new UsageError(`--${misplaced} belongs to start, not ${name}`);
  }
  if (values.detach !== undefined && name !== 'start' && name !== 'retry') {
    throw new UsageError(`--detach belongs to start and retry, not ${name}`);
  }
  if (values.limit !== undefined && name !== 'list') {
    throw new UsageError(`--limit belongs to list, not ${name}`);
  }

  switch (name) {
    case 'start': {
      if (rest.length > 0)
        throw new UsageError(`start takes no positional arguments ("${rest.join(' ')}")`);
      const sites = (values.site ?? []).map((site) => site.trim()).filter((site) => site !== '');
      if (sites.length === 0)
        throw new UsageError('start needs at least one --site (its name or id)');
      const account = values.account ?? 'admin';
      if (!(ROTATION_ACCOUNTS as readonly string[]).includes(account)) {
        throw new UsageError(
          `--account is one of ${ROTATION_ACCOUNTS.join(', ')}, not "${account}"`,
        );
      }
      return {
        connection,
        command: {
          name: 'start',
          options: {
            sites: [...new Set(sites)],
            canarySize: integer(values.canary, '--canary', 1, 100, 5),
            waveSize: integer(values.wave, '--wave', 1, 1000, 50),
            maxFailures: integer(values['max-failures'], '--max-failures', 0, 1000, 0),
            account: account as RotationAccount,
            detach: values.detach === true,
          },
        },
      };
    }
    case 'watch':
      return { connection, command: { name, jobId: jobIdOf(rest, name) } };
    case 'retry':
      return {
        connection,
        command: { name, jobId: jobIdOf(rest, name), detach: values.detach === true },
      };
    case 'pause':
    case 'resume':
    case 'cancel':
      return { connection, command: { name, jobId: jobIdOf(rest, name) } };
    case 'list':
      if (rest.length > 0)
        throw new UsageError(`list takes no positional arguments ("${rest.join(' ')}")`);
      return { connection, command: { name, limit: integer(values.limit, '--limit', 1, 100, 20) } };
    default:
      throw new UsageError(`unknown command "${name}"`);
  }
}
