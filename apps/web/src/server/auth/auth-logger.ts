import { safeErrorMessage } from '@custody/db/errors';

type AuthLogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * better-auth's log lines, with what it passes along (often the error of a failed query on the
 * session or account tables, whose values are session tokens and password hashes) reduced to
 * safe messages. Objects that are not errors are left out.
 */
export function authLogLine(
  level: AuthLogLevel,
  message: string,
  args: readonly unknown[],
): string {
  const extra = args
    .filter((arg) => arg instanceof Error || typeof arg === 'string')
    .map((arg) => safeErrorMessage(arg));
  return [`auth ${level}: ${message}`, ...extra].join(': ');
}

export const authLogger = {
  level: 'warn' as const,
  log(level: AuthLogLevel, message: string, ...args: unknown[]) {
    const line = authLogLine(level, message, args);
    if (level === 'error') console.error(line);
    else console.warn(line);
  },
};
