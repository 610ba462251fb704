export const DOMAIN_ERROR_CODES = [
  'invalid-serial',
  'invalid-transition',
  'approval-refused',
  'invalid-input',
  'chain-broken',
  'not-found',
  'forbidden',
  'conflict',
  // Too many attempts for now; `details.retryAfterSeconds` says when the next one is allowed.
  'rate-limited',
] as const;

export type DomainErrorCode = (typeof DOMAIN_ERROR_CODES)[number];

export interface DomainErrorOptions {
  cause?: unknown;
  /**
   * Structured, secret-free facts about the failure (for example the from-state and event type of
   * a refused transition) so callers can branch or render without parsing the message.
   */
  details?: Readonly<Record<string, unknown>>;
}

/**
 * The one error class of the domain. `code` is stable and drawn from a short closed list, so the
 * web layer can map it to transport errors in one table; messages are for humans and never carry
 * secrets.
 */
export class DomainError extends Error {
  override readonly name = 'DomainError';
  readonly code: DomainErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: DomainErrorCode, message: string, options: DomainErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }
}

export function isDomainError(value: unknown, code?: DomainErrorCode): value is DomainError {
  return value instanceof DomainError && (code === undefined || value.code === code);
}
