import type { LinkLogger } from './link/link-logger.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

function formatField(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return /[\s"=]/.test(text) ? JSON.stringify(text) : text;
}

/**
 * One line per event on the given stream (stderr under systemd lands in the journal), as
 * `time level message key=value…`. Callers pass only secret-free fields: ids, codes, counts.
 */
export function createLogger(
  level: LogLevel,
  stream: { write(text: string): unknown },
  now: () => Date = () => new Date(),
): LinkLogger {
  const write = (at: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (RANK[at] < RANK[level]) return;
    const extra = Object.entries(fields ?? {})
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => ` ${key}=${formatField(value)}`)
      .join('');
    stream.write(`${now().toISOString()} ${at} ${message.replace(/\n/g, ' ')}${extra}\n`);
  };
  return { info: write('info'), warn: write('warn'), error: write('error') };
}
