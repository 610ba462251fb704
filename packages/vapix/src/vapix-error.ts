import { VAPIX_ERROR_CODES, type VapixErrorCode } from './error-codes.ts';
import type { AttemptBudget } from './attempt-budget.ts';

export interface VapixErrorContext {
  /** HTTP or RTSP method of the call that failed. */
  method?: string;
  /** Request path; any query string is dropped so secrets in it can never surface. */
  path?: string;
  cause?: unknown;
  /** Overrides the table default when the instance knows better (e.g. a 503). */
  retryable?: boolean;
}

function pathWithoutQuery(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  const end = path.search(/[?#]/);
  return end === -1 ? path : path.slice(0, end);
}

/**
 * Base class for every failure this package reports. It deliberately holds no request
 * headers, bodies or query strings: credentials only ever live in the client's memory.
 */
export class VapixError extends Error {
  readonly code: VapixErrorCode;
  readonly retryable: boolean;
  readonly method: string | undefined;
  readonly path: string | undefined;

  constructor(code: VapixErrorCode, message: string, context: VapixErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = context.retryable ?? VAPIX_ERROR_CODES[code].retryable;
    this.method = context.method;
    this.path = pathWithoutQuery(context.path);
  }
}

export type TransportErrorCode =
  | 'VAPIX_UNREACHABLE'
  | 'VAPIX_TIMEOUT'
  | 'VAPIX_ABORTED'
  | 'VAPIX_TLS_UNTRUSTED'
  | 'VAPIX_TLS_PIN_MISMATCH';

export class VapixTransportError extends VapixError {
  declare readonly code: TransportErrorCode;
  constructor(code: TransportErrorCode, message: string, context: VapixErrorContext = {}) {
    super(code, message, context);
  }
}

export class VapixCertificateError extends VapixTransportError {
  declare readonly code: 'VAPIX_TLS_UNTRUSTED' | 'VAPIX_TLS_PIN_MISMATCH';
  /** SHA-256 fingerprint of the certificate the device presented, when known. */
  readonly fingerprint256: string | undefined;
  constructor(
    code: 'VAPIX_TLS_UNTRUSTED' | 'VAPIX_TLS_PIN_MISMATCH',
    message: string,
    context: VapixErrorContext & { fingerprint256?: string } = {},
  ) {
    super(code, message, context);
    this.fingerprint256 = context.fingerprint256;
  }
}

export type AuthErrorCode = 'VAPIX_AUTH_REQUIRED' | 'VAPIX_LOGIN_FAILED' | 'VAPIX_AUTH_UNSUPPORTED';

export class VapixAuthError extends VapixError {
  declare readonly code: AuthErrorCode;
  /** Realm of the device's challenge, `AXIS_<serial>` on AXIS devices. */
  readonly realm: string | undefined;
  constructor(
    code: AuthErrorCode,
    message: string,
    context: VapixErrorContext & { realm?: string } = {},
  ) {
    super(code, message, context);
    this.realm = context.realm;
  }
}

export class VapixInsecureAuthError extends VapixError {
  declare readonly code: 'VAPIX_INSECURE_AUTH';
  constructor(message: string, context: VapixErrorContext = {}) {
    super('VAPIX_INSECURE_AUTH', message, context);
  }
}

export class VapixBudgetExhaustedError extends VapixError {
  declare readonly code: 'VAPIX_BUDGET_EXHAUSTED';
  /** When the oldest counted failure leaves the window. */
  readonly retryAfterMs: number;
  constructor(message: string, context: VapixErrorContext & { retryAfterMs: number }) {
    super('VAPIX_BUDGET_EXHAUSTED', message, context);
    this.retryAfterMs = context.retryAfterMs;
  }
}

export class VapixLockedOutError extends VapixError {
  declare readonly code: 'VAPIX_LOCKED_OUT';
  readonly retryAfterMs: number;
  constructor(message: string, context: VapixErrorContext & { retryAfterMs: number }) {
    super('VAPIX_LOCKED_OUT', message, context);
    this.retryAfterMs = context.retryAfterMs;
  }
}

export class VapixUnsupportedError extends VapixError {
  declare readonly code: 'VAPIX_UNSUPPORTED';
  constructor(message: string, context: VapixErrorContext = {}) {
    super('VAPIX_UNSUPPORTED', message, context);
  }
}

export class VapixHttpError extends VapixError {
  declare readonly code: 'VAPIX_HTTP_ERROR' | 'VAPIX_SERVER_ERROR' | 'VAPIX_FORBIDDEN';
  readonly status: number;
  constructor(status: number, message: string, context: VapixErrorContext = {}) {
    const code =
      status === 403
        ? 'VAPIX_FORBIDDEN'
        : status >= 500
          ? 'VAPIX_SERVER_ERROR'
          : 'VAPIX_HTTP_ERROR';
    super(code, message, context);
    this.status = status;
  }
}

export class VapixApiError extends VapixError {
  declare readonly code: 'VAPIX_API_ERROR';
  /** The JSON-RPC `error.code`, e.g. 2004 (basicdeviceinfo), 421 (fwmgr), 4001 (time). */
  readonly apiCode: number;
  readonly apiMessage: string;
  constructor(apiCode: number, apiMessage: string, context: VapixErrorContext = {}) {
    super('VAPIX_API_ERROR', `device API error ${apiCode}: ${apiMessage}`, context);
    this.apiCode = apiCode;
    this.apiMessage = apiMessage;
  }
}

export class VapixCgiError extends VapixError {
  declare readonly code: 'VAPIX_CGI_ERROR';
  /** The device's text after `Error:`, e.g. "this user name already exists, ...". */
  readonly cgiMessage: string;
  constructor(cgiMessage: string, context: VapixErrorContext = {}) {
    super('VAPIX_CGI_ERROR', `device CGI error: ${cgiMessage}`, context);
    this.cgiMessage = cgiMessage;
  }
}

export class VapixMalformedResponseError extends VapixError {
  declare readonly code: 'VAPIX_MALFORMED_RESPONSE';
  constructor(message: string, context: VapixErrorContext = {}) {
    super('VAPIX_MALFORMED_RESPONSE', message, context);
  }
}

export class VapixPreconditionError extends VapixError {
  declare readonly code: 'VAPIX_PRECONDITION_FAILED';
  constructor(message: string, context: VapixErrorContext = {}) {
    super('VAPIX_PRECONDITION_FAILED', message, context);
  }
}

export function isVapixError(value: unknown): value is VapixError {
  return value instanceof VapixError;
}

/**
 * The error for a 403. AXIS does not document the status of a brute-force block; a 403 right
 * after rejected attempts (or a previous block) is taken for one and recorded in the budget
 * (reference §2), any other 403 means "not privileged". `what` names the refused call and status.
 */
export function forbiddenError(
  budget: AttemptBudget,
  cameraKey: string,
  what: string,
  context: VapixErrorContext,
): VapixError {
  if (budget.isBlockSuspected(cameraKey)) {
    budget.recordLockout(cameraKey);
    return new VapixLockedOutError(`the device refused ${what} after authentication failures`, {
      ...context,
      retryAfterMs: budget.blockPeriodMs,
    });
  }
  return new VapixHttpError(403, `the device refused ${what}`, context);
}
