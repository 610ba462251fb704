/** What a command may touch of its process; tests pass their own. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** Read only for variables the user named (`--password-env`). */
  env: Readonly<Record<string, string | undefined>>;
  /** Whether stderr is a terminal, which is when progress lines are drawn. */
  isTTY: boolean;
  signal?: AbortSignal | undefined;
}

/** A usage mistake: printed with a hint and exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
