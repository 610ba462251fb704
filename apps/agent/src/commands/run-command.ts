import { parseArgs } from 'node:util';
import { runAgentService } from '../agent-service.ts';
import { UsageError, type CliIo } from '../cli-io.ts';
import { readAgentConfig } from '../env.ts';
import { createLogger } from '../logger.ts';

export const RUN_USAGE = `Usage:
  custody-agent run [--data-dir DIR]

Runs the site agent: discovers cameras, keeps the inventory fresh, holds the outbound link to the
Custody server and executes the signed commands it sends. Stops cleanly on SIGINT or SIGTERM.
Configured by environment variables (CUSTODY_AGENT_CIDRS, CUSTODY_AGENT_SSDP, …; see
deploy/agent.env.example).

Options:
  --data-dir DIR   the agent's data directory (default: CUSTODY_AGENT_DATA_DIR, then
                   $STATE_DIRECTORY, then ~/.local/state/custody-agent)
  -h, --help       show this help

Exit status: 0 when stopped by a signal, 3 when not enrolled, 4 when the server revoked this
agent or refused its identity (enroll again with --replace).
`;

export async function runRunCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: false,
    strict: true,
    options: {
      'data-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout.write(RUN_USAGE);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError('run takes no positional arguments');
  const config = readAgentConfig(io.env);
  if (values['data-dir'] !== undefined) config.dataDir = values['data-dir'];
  const logger = createLogger(config.logLevel, io.stderr);
  const end = await runAgentService({
    config,
    logger,
    signal: io.signal ?? new AbortController().signal,
  });
  if (end === 'not-enrolled') return 3;
  if (end === 'revoked' || end === 'auth-failed') return 4;
  return 0;
}
