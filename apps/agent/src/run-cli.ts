import { parseArgs } from 'node:util';
import { UsageError, type CliIo } from './cli-io.ts';
import { DISCOVER_USAGE, runDiscoverCommand } from './commands/discover-command.ts';
import { ENROLL_USAGE, runEnrollCommand } from './commands/enroll-command.ts';
import { PROBE_USAGE, runProbeCommand } from './commands/probe-command.ts';
import { RUN_USAGE, runRunCommand } from './commands/run-command.ts';
import { STATUS_USAGE, runStatusCommand } from './commands/status-command.ts';
import { AGENT_VERSION } from './version.ts';

export const USAGE = `custody-agent ${AGENT_VERSION}: the Custody site agent

Usage:
  custody-agent <command> [options]

Commands:
  enroll        register this agent with a Custody server (single-use token)
  run           run the site agent service
  status        show enrollment, connection, outbox and inventory
  probe <url>   read a camera's access state, identity and capabilities (read-only)
  discover      find AXIS devices by SSDP, mDNS and an HTTP range scan
  help          show this help
  version       print the agent version

Options:
  -h, --help      show this help (also after a command)
  -v, --version   print the agent version
`;

const COMMANDS: Record<
  string,
  { usage: string; run: (args: readonly string[], io: CliIo) => Promise<number> }
> = {
  enroll: { usage: ENROLL_USAGE, run: runEnrollCommand },
  run: { usage: RUN_USAGE, run: runRunCommand },
  status: { usage: STATUS_USAGE, run: runStatusCommand },
  probe: { usage: PROBE_USAGE, run: runProbeCommand },
  discover: { usage: DISCOVER_USAGE, run: runDiscoverCommand },
};

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A usage mistake: the message, a hint for a password given as an option, and the usage. */
function usageFailure(io: CliIo, message: string, usage: string): number {
  const hint = /--password\b/.test(message)
    ? '\nA password is never taken as an argument: put it in an environment variable and pass --password-env NAME.'
    : '';
  io.stderr.write(`custody-agent: ${message}${hint}\n\n${usage}`);
  return 2;
}

/** Runs one command and resolves with the exit code; everything it prints goes through `io`. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  const command = first === undefined ? undefined : COMMANDS[first];
  if (command !== undefined) {
    try {
      return await command.run(rest, io);
    } catch (error) {
      if (error instanceof UsageError || isParseArgsError(error)) {
        return usageFailure(io, messageOf(error), command.usage);
      }
      io.stderr.write(`custody-agent ${first}: ${messageOf(error)}\n`);
      return 1;
    }
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (error) {
    return usageFailure(io, messageOf(error), USAGE);
  }
  const [name = 'help'] = parsed.positionals;
  if (parsed.values.version || name === 'version') {
    io.stdout.write(`${AGENT_VERSION}\n`);
    return 0;
  }
  if (parsed.values.help || name === 'help') {
    io.stdout.write(USAGE);
    return 0;
  }
  return usageFailure(io, `unknown command "${name}"`, USAGE);
}
