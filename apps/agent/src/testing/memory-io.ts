import type { CliIo } from '../cli-io.ts';

export interface MemoryIo extends CliIo {
  out(): string;
  err(): string;
}

/** A CliIo that records what a command prints. */
export function createMemoryIo(
  options: Partial<Pick<CliIo, 'env' | 'isTTY' | 'signal'>> = {},
): MemoryIo {
  let stdout = '';
  let stderr = '';
  return {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: options.env ?? {},
    isTTY: options.isTTY ?? false,
    signal: options.signal,
    out: () => stdout,
    err: () => stderr,
  };
}
