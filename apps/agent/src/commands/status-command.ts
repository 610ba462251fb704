import { parseArgs } from 'node:util';
import { UsageError, type CliIo } from '../cli-io.ts';
import { isProcessAlive, readAgentStatus } from '../agent-status.ts';
import { readAgentConfig } from '../env.ts';
import { loadIdentity } from '../store/identity-store.ts';

export const STATUS_USAGE = `Usage:
  custody-agent status [--data-dir DIR] [--json]

Shows whether this agent is enrolled, whether its service is running and connected, how many
messages wait in its outbox and how many cameras it knows.

Options:
  --data-dir DIR   the agent's data directory (default as for run)
  --json           print one JSON object
  -h, --help       show this help

Exit status: 0 when enrolled (whatever the connection), 1 when not enrolled.
`;

/** A status file not rewritten for this long means the service stopped without saying so. */
const STALE_AFTER_MS = 60_000;

export async function runStatusCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: false,
    strict: true,
    options: {
      'data-dir': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout.write(STATUS_USAGE);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError('status takes no positional arguments');
  const dataDir = values['data-dir'] ?? readAgentConfig(io.env).dataDir;
  const identity = await loadIdentity(dataDir);
  const status = identity === null ? null : await readAgentStatus(dataDir);
  const running =
    status !== null &&
    isProcessAlive(status.pid) &&
    Date.now() - Date.parse(status.updatedAt) < STALE_AFTER_MS;
  const report = {
    enrolled: identity !== null,
    dataDir,
    agentId: identity?.agentId ?? null,
    siteId: identity?.siteId ?? null,
    gatewayUrl: identity?.gatewayUrl ?? null,
    enrolledAt: identity?.enrolledAt ?? null,
    running,
    link: running ? status.link : status?.link === 'revoked' ? 'revoked' : 'stopped',
    linkSince: status?.linkSince ?? null,
    lastConnectedAt: status?.lastConnectedAt ?? null,
    outboxDepth: status?.outboxDepth ?? null,
    outboxDropped: status?.outboxDropped ?? null,
    cameras: status?.cameras ?? null,
    runningCommands: running ? status.runningCommands : 0,
    agentVersion: status?.agentVersion ?? null,
  };
  if (values.json) {
    io.stdout.write(`${JSON.stringify(report)}\n`);
    return identity === null ? 1 : 0;
  }
  if (identity === null) {
    io.stdout.write(
      `Not enrolled (data directory ${dataDir}).\nEnroll with: custody-agent enroll --server URL --token-env VAR\n`,
    );
    return 1;
  }
  const lines = [
    `Agent ${identity.agentId} (site ${identity.siteId})`,
    `  gateway        ${identity.gatewayUrl}`,
    `  enrolled       ${identity.enrolledAt}`,
    `  service        ${running ? `running (pid ${status.pid}, version ${status.agentVersion})` : 'not running'}`,
    `  link           ${report.link}${report.linkSince === null ? '' : ` since ${report.linkSince}`}`,
    `  last connected ${report.lastConnectedAt ?? 'never'}`,
    `  outbox         ${report.outboxDepth ?? 0} waiting${report.outboxDropped ? `, ${report.outboxDropped} dropped` : ''}`,
    `  cameras        ${report.cameras ?? 0}`,
    `  commands       ${report.runningCommands} running`,
  ];
  if (report.link === 'revoked') {
    lines.push('This agent was revoked on the server. Enroll again with --replace to reconnect.');
  }
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
