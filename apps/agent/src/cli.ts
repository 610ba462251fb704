import { createLogger } from './logger.ts';
import { logUnhandledRejections } from './process-handlers.ts';
import { runCli } from './run-cli.ts';

logUnhandledRejections(process, createLogger('error', process.stderr));

const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => controller.abort());
}

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  isTTY: process.stderr.isTTY === true,
  signal: controller.signal,
});
