import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { EnrollResponseSchema, type EnrollRequest } from '@custody/core';
import { isProcessAlive, readAgentStatus } from '../agent-status.ts';
import { UsageError, type CliIo } from '../cli-io.ts';
import { readAgentConfig } from '../env.ts';
import { generateKeyPair } from '../identity/ed25519.ts';
import { checkGatewayUrl } from '../link/check-gateway-url.ts';
import { isLoopbackHost } from '../link/loopback.ts';
import { archiveIdentityData } from '../store/data-dir.ts';
import { loadIdentity, saveIdentity } from '../store/identity-store.ts';
import { AGENT_VERSION } from '../version.ts';

export const ENROLL_USAGE = `Usage:
  custody-agent enroll --server URL --token-env VAR [--name NAME] [--data-dir DIR] [--replace]

Enrolls this agent with a Custody server using a single-use enrollment token that an integrator
admin created for the site. A key pair is generated here; only the public key leaves this machine.

Options:
  --server URL       the Custody server, e.g. https://custody.example.com
  --token-env VAR    the environment variable that holds the enrollment token
  --name NAME        how the agent is shown in Custody (default: this host's name)
  --data-dir DIR     where the identity is kept (default: CUSTODY_AGENT_DATA_DIR, then
                     $STATE_DIRECTORY, then ~/.local/state/custody-agent)
  --replace          enroll again even though an identity exists (after a revocation); stop
                     the service first. The old identity's outbox and journals are moved to
                     replaced-<old agent id>-<time>/ in the data directory
  -h, --help         show this help
`;

/** Link states in which the service has ended (or never ran) and holds no journal open. */
const ENDED_STATES = new Set(['stopped', 'revoked', 'auth-failed']);

interface ErrorBody {
  error?: { code?: unknown; message?: unknown };
}

async function readServerError(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as ErrorBody;
    if (typeof body.error?.message === 'string') return body.error.message.slice(0, 500);
  } catch {
    // Not JSON: the status line is all there is to say.
  }
  return `HTTP ${response.status} ${response.statusText}`.trim();
}

export async function runEnrollCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: false,
    strict: true,
    options: {
      server: { type: 'string' },
      'token-env': { type: 'string' },
      name: { type: 'string' },
      'data-dir': { type: 'string' },
      replace: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout.write(ENROLL_USAGE);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError('enroll takes no positional arguments');
  if (values.server === undefined) throw new UsageError('--server URL is required');
  if (values['token-env'] === undefined) throw new UsageError('--token-env VAR is required');
  let server: URL;
  try {
    server = new URL(values.server);
  } catch {
    throw new UsageError(`--server must be a URL, not "${values.server}"`);
  }
  if (server.username !== '' || server.password !== '' || server.search !== '') {
    throw new UsageError('--server takes a plain URL: no credentials or query in it');
  }
  const config = readAgentConfig(io.env);
  if (server.protocol === 'http:' && !isLoopbackHost(server.hostname) && !config.allowInsecure) {
    throw new UsageError(
      'enrolling over plain http is only allowed to a loopback server; use https (or set CUSTODY_AGENT_ALLOW_INSECURE=1 on a lab network)',
    );
  }
  if (server.protocol !== 'http:' && server.protocol !== 'https:') {
    throw new UsageError('--server must be an http(s) URL');
  }
  const token = io.env[values['token-env']];
  if (token === undefined || token.trim() === '') {
    throw new UsageError(`the environment variable ${values['token-env']} is empty or unset`);
  }
  const dataDir = values['data-dir'] ?? config.dataDir;
  const existing = await loadIdentity(dataDir);
  if (existing !== null && values.replace !== true) {
    io.stderr.write(
      `custody-agent enroll: this agent is already enrolled as ${existing.agentId} (data directory ${dataDir}).\nPass --replace to enroll again, for example after the agent was revoked.\n`,
    );
    return 1;
  }
  if (existing !== null) {
    // The service holds the journals open; moving them under it would lose what it writes next.
    const status = await readAgentStatus(dataDir);
    if (status !== null && !ENDED_STATES.has(status.link) && isProcessAlive(status.pid)) {
      io.stderr.write(
        `custody-agent enroll: the agent service is running from ${dataDir} (pid ${status.pid}); stop it first (systemctl stop custody-agent).\n`,
      );
      return 1;
    }
  }

  const keys = generateKeyPair();
  const request: EnrollRequest = {
    token: token.trim(),
    publicKey: keys.publicKey,
    name: (values.name ?? hostname()).slice(0, 100),
    agentVersion: AGENT_VERSION,
  };
  const endpoint = new URL('/agent/v1/enroll', server);
  let response: Response;
  try {
    response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
      // A 307/308 would send the body, token included, wherever the answer points.
      redirect: 'error',
      signal: io.signal ?? null,
    });
  } catch (error) {
    const cause = (error as Error).cause;
    const detail = cause instanceof Error ? `: ${cause.message}` : '';
    io.stderr.write(
      /redirect/i.test(detail)
        ? `custody-agent enroll: ${endpoint.origin} answered with a redirect, which enrollment does not follow (the token would go elsewhere); give the server's final URL\n`
        : `custody-agent enroll: cannot reach ${endpoint.origin}${detail}\n`,
    );
    return 1;
  }
  if (response.status >= 300 && response.status < 400) {
    io.stderr.write(
      `custody-agent enroll: ${endpoint.origin} answered with a redirect (HTTP ${response.status}), which enrollment does not follow; give the server's final URL\n`,
    );
    return 1;
  }
  if (!response.ok) {
    io.stderr.write(
      `custody-agent enroll: the server refused: ${await readServerError(response)}\n`,
    );
    return 1;
  }
  const parsed = EnrollResponseSchema.safeParse(await response.json().catch(() => null));
  if (!parsed.success) {
    io.stderr.write(
      'custody-agent enroll: the server answered with something that is not an enrollment\n',
    );
    return 1;
  }
  const enrolled = parsed.data;
  try {
    checkGatewayUrl(enrolled.gatewayUrl, { allowInsecure: config.allowInsecure });
  } catch (error) {
    io.stderr.write(
      `custody-agent enroll: the server's gateway URL cannot be used, nothing was saved: ${(error as Error).message}\n`,
    );
    return 1;
  }
  if (existing !== null) {
    const archive = await archiveIdentityData(dataDir, existing.agentId);
    if (archive !== null) {
      io.stderr.write(`The journals of agent ${existing.agentId} were moved to ${archive}.\n`);
    }
  }
  await saveIdentity(dataDir, {
    agentId: enrolled.agentId,
    siteId: enrolled.siteId,
    gatewayUrl: enrolled.gatewayUrl,
    commandSigningKey: enrolled.commandSigningKey,
    publicKey: keys.publicKey,
    privateKeyPem: keys.privateKeyPem,
    enrolledAt: new Date().toISOString(),
  });
  io.stdout.write(
    `Enrolled as agent ${enrolled.agentId} for site ${enrolled.siteId}.\nIdentity saved in ${dataDir} (readable by this user only).\nStart the service with: custody-agent run\n`,
  );
  return 0;
}
