import { readHiddenLine } from './rotation/read-hidden-line.ts';
import { runRotationCli } from './rotation/run-rotation-cli.ts';

const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => controller.abort());
}

process.exitCode = await runRotationCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  promptPassword:
    process.stdin.isTTY === true
      ? (prompt) => readHiddenLine(prompt, process.stdin, process.stderr)
      : undefined,
  signal: controller.signal,
});
