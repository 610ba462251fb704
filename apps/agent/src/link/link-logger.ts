/**
 * What the link writes to the agent's log. Fields are small and secret-free: ids, codes, counts,
 * the gateway URL (which may not carry credentials); never a message body.
 */
export interface LinkLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: LinkLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
