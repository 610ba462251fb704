import { parseArgs } from 'node:util';
import type { TlsPolicy } from '@custody/vapix';
import { probeCamera, type ProbeReport } from '../cameras/probe-camera.ts';
import { UsageError, type CliIo } from '../cli-io.ts';

export const PROBE_USAGE = `Usage:
  custody-agent probe <url> [--username U --password-env VAR] [--fingerprint SHA256] [--json]

Reads a camera without changing it: access state, identity and capabilities. Without
credentials only anonymous calls are made; with them, at most one credentialed attempt.

Options:
  --username U          account to test
  --password-env VAR    name of the environment variable holding the password
                        (a password is never accepted on the command line)
  --fingerprint SHA256  pin the camera's https certificate; without it the certificate
                        is trusted on first use and its fingerprint printed
  --json                print one JSON object
  -h, --help            show this help
`;

const ACCESS_EXPLAINED: Record<ProbeReport['accessState'], string> = {
  authenticated: 'the credentials work',
  'needs-setup': 'factory-default state: no users yet, the first administrator can be created',
  'login-failed': 'no working credentials were given',
  'locked-out': 'the camera is blocking logins after failures; wait before trying again',
  unreachable: 'no answer from the camera',
};

function normaliseUrl(text: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`"${text}" is not a camera address; write it like http://192.168.0.90`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`probe speaks http and https, not ${url.protocol.replace(':', '')}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new UsageError('put no credentials in the URL; use --username and --password-env');
  }
  return url.toString();
}

function formatReport(report: ProbeReport, fingerprint256: string | undefined): string {
  const lines = [`${report.url}  ${report.accessState}: ${ACCESS_EXPLAINED[report.accessState]}`];
  const identity = report.identity;
  if (identity !== null) {
    lines.push(`  serial        ${identity.serial} (MAC ${identity.mac})`);
    const model = [identity.model, identity.productName].filter(Boolean).join(', ');
    if (model !== '') lines.push(`  model         ${model}`);
    if (identity.firmware !== null) lines.push(`  firmware      ${identity.firmware}`);
    if (identity.hardwareId !== null) lines.push(`  hardware id   ${identity.hardwareId}`);
  } else {
    lines.push('  identity      unknown (not identified as an AXIS device)');
  }
  if (report.capabilities.length > 0) {
    lines.push(`  capabilities  ${report.capabilities.join(', ')}`);
  }
  if (fingerprint256 !== undefined) lines.push(`  certificate   SHA-256 ${fingerprint256}`);
  if (report.error !== undefined)
    lines.push(`  detail        ${report.error.message} (${report.error.code})`);
  return `${lines.join('\n')}\n`;
}

export async function runProbeCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: {
      username: { type: 'string' },
      'password-env': { type: 'string' },
      fingerprint: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout.write(PROBE_USAGE);
    return 0;
  }
  if (positionals.length !== 1 || positionals[0] === undefined) {
    throw new UsageError('probe takes exactly one camera URL');
  }
  const url = normaliseUrl(positionals[0]);
  const variable = values['password-env'];
  if ((values.username === undefined) !== (variable === undefined)) {
    throw new UsageError('--username and --password-env go together');
  }
  let credentials = null;
  if (values.username !== undefined && variable !== undefined) {
    const password = io.env[variable];
    if (password === undefined || password === '') {
      throw new UsageError(`the environment variable ${variable} is not set or empty`);
    }
    credentials = { username: values.username, password };
  }
  const tls: TlsPolicy =
    values.fingerprint === undefined
      ? { mode: 'pin' }
      : { mode: 'pin', fingerprint256: values.fingerprint };
  const { report, fingerprint256 } = await probeCamera(url, credentials, {
    tls,
    signal: io.signal,
  });
  io.stdout.write(
    values.json ? `${JSON.stringify(report)}\n` : formatReport(report, fingerprint256),
  );
  return 0;
}
