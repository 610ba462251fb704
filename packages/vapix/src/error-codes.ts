/**
 * Every code a VapixError can carry, with its default retry hint. Callers switch on `code`,
 * never on messages or class names, so this table is the contract.
 */
export const VAPIX_ERROR_CODES = {
  VAPIX_UNREACHABLE: { retryable: true, summary: 'the device did not answer (connect/reset/DNS)' },
  VAPIX_TIMEOUT: { retryable: true, summary: 'the call did not finish within its time limit' },
  VAPIX_ABORTED: { retryable: false, summary: 'the caller aborted the call' },
  VAPIX_TLS_UNTRUSTED: { retryable: false, summary: 'certificate verification failed' },
  VAPIX_TLS_PIN_MISMATCH: { retryable: false, summary: 'certificate differs from the pinned one' },
  VAPIX_AUTH_REQUIRED: {
    retryable: false,
    summary: 'the device asked for credentials and none were given',
  },
  VAPIX_LOGIN_FAILED: { retryable: false, summary: 'the device rejected the credentials' },
  VAPIX_AUTH_UNSUPPORTED: {
    retryable: false,
    summary: 'no authentication scheme this client can use',
  },
  VAPIX_INSECURE_AUTH: { retryable: false, summary: 'only Basic was offered over plain HTTP' },
  VAPIX_BUDGET_EXHAUSTED: {
    retryable: false,
    summary: 'credential attempt budget for the device is spent',
  },
  VAPIX_LOCKED_OUT: { retryable: true, summary: 'the device is blocking us after auth failures' },
  VAPIX_FORBIDDEN: { retryable: false, summary: 'authenticated but not allowed (HTTP 403)' },
  VAPIX_UNSUPPORTED: { retryable: false, summary: 'the API is absent on this device (HTTP 404)' },
  VAPIX_HTTP_ERROR: { retryable: false, summary: 'unexpected HTTP status' },
  VAPIX_SERVER_ERROR: { retryable: true, summary: 'the device answered with a 5xx status' },
  VAPIX_API_ERROR: { retryable: false, summary: 'JSON-RPC error object in the response' },
  VAPIX_CGI_ERROR: { retryable: false, summary: 'CGI text error ("Error: ...") in the response' },
  VAPIX_MALFORMED_RESPONSE: {
    retryable: false,
    summary: 'the response does not have the expected shape',
  },
  VAPIX_PRECONDITION_FAILED: {
    retryable: false,
    summary: 'the device is not in the state the call requires',
  },
} as const satisfies Record<string, { retryable: boolean; summary: string }>;

export type VapixErrorCode = keyof typeof VAPIX_ERROR_CODES;
