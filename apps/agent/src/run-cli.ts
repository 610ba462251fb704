import { parseArgs } from 'node:util';
import { AGENT_VERSION } from './version.ts';

export const USAGE = `custody-agent ${AGENT_VERSION}: the Custody site agent

Usage:
  custody-agent <command> [options]

Commands:
  help        show this help
  version     print the agent version

Options:
  -h, --help      show this help
  -v, --version   print the agent version
`;

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Parses argv and runs one command; returns what to print so that tests need no subprocess. */
export function runCli(argv: readonly string[]): CliResult {
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
    const message = error instanceof Error ? error.message : String(error);
    return { exitCode: 2, stdout: '', stderr: `custody-agent: ${message}\n\n${USAGE}` };
  }
  const [command = 'help'] = parsed.positionals;
  if (parsed.values.version || command === 'version') {
    return { exitCode: 0, stdout: `${AGENT_VERSION}\n`, stderr: '' };
  }
  if (parsed.values.help || command === 'help') {
    return { exitCode: 0, stdout: USAGE, stderr: '' };
  }
  return {
    exitCode: 2,
    stdout: '',
    stderr: `custody-agent: unknown command "${command}"\n\n${USAGE}`,
  };
}
