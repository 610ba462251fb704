import { safeErrorMessage } from '@custody/db/errors';

/**
 * What the gateway writes to the server log. Fields are small and secret-free: ids, codes,
 * counts, a site or agent name; never a frame, a payload, a token or a password.
 */
export interface GatewayLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

function line(message: string, fields: Record<string, unknown> | undefined): string {
  if (fields === undefined) return `gateway: ${message}`;
  const pairs = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return pairs.length === 0 ? `gateway: ${message}` : `gateway: ${message} ${pairs.join(' ')}`;
}

export const consoleGatewayLogger: GatewayLogger = {
  info: (message, fields) => console.log(line(message, fields)),
  warn: (message, fields) => console.warn(line(message, fields)),
  error: (message, fields) => console.error(line(message, fields)),
};

export const silentGatewayLogger: GatewayLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** An error for a log line: a failed query's values are left out (see safeErrorMessage). */
export function errorText(error: unknown): string {
  return safeErrorMessage(error);
}
