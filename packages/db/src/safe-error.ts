import { DrizzleQueryError } from 'drizzle-orm/errors';

/** Causes followed at most: enough for a service error wrapping a query error wrapping a driver's. */
const MAX_CAUSES = 4;

/** drizzle appends the bound values to a failed query's message: "…\nparams: a,b,c". */
const PARAMS_TAIL = /\n?params: [\s\S]*$/;
/** PostgreSQL ends a message with the value it refused: `invalid input syntax for type uuid: "…"`. */
const QUOTED_VALUE_TAIL = /: "[\s\S]*"$/;
/** …or names it inside: `value "99999999999" is out of range for type integer`. */
const QUOTED_VALUE = /\bvalue "[^"]*"/g;

function ownMessage(error: unknown): string {
  if (error instanceof DrizzleQueryError) return `Failed query: ${error.query}`;
  const message = error instanceof Error ? error.message : String(error);
  return message
    .replace(PARAMS_TAIL, '')
    .replace(QUOTED_VALUE_TAIL, ': "…"')
    .replace(QUOTED_VALUE, 'value "…"');
}

/**
 * An error's message, and its causes', fit for a log line, a stored record or an API answer.
 * A failed query's message carries its bound values, which can be a session token, a token hash
 * or a person's email: they are dropped, the statement and the database's reason are kept.
 * Never reads other properties (a PostgreSQL error's `detail` quotes the row it refused).
 */
export function safeErrorMessage(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (
    let depth = 0;
    depth <= MAX_CAUSES && current !== undefined && current !== null;
    depth += 1
  ) {
    const message = ownMessage(current);
    // A wrapper that repeats its cause's message adds nothing.
    if (message !== '' && !parts.some((part) => part.includes(message))) parts.push(message);
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(': ') || 'unknown error';
}
