import { DomainError, type DomainErrorCode } from '@custody/core';
import { TRPCError, type TRPC_ERROR_CODE_KEY } from '@trpc/server';

/** The one place where domain error codes become tRPC (and so HTTP) errors. */
export const DOMAIN_TO_TRPC: Readonly<Record<DomainErrorCode, TRPC_ERROR_CODE_KEY>> = {
  'invalid-serial': 'BAD_REQUEST',
  'invalid-input': 'BAD_REQUEST',
  'invalid-transition': 'CONFLICT',
  conflict: 'CONFLICT',
  'approval-refused': 'FORBIDDEN',
  forbidden: 'FORBIDDEN',
  'not-found': 'NOT_FOUND',
  'rate-limited': 'TOO_MANY_REQUESTS',
  'chain-broken': 'INTERNAL_SERVER_ERROR',
};

export function toTRPCError(error: DomainError): TRPCError {
  return new TRPCError({ code: DOMAIN_TO_TRPC[error.code], message: error.message, cause: error });
}

/** Seconds until a rate-limited caller may try again, from the domain error behind a failure. */
export function retryAfterOf(cause: unknown): number | null {
  if (!(cause instanceof DomainError) || cause.code !== 'rate-limited') return null;
  const seconds = cause.details.retryAfterSeconds;
  return typeof seconds === 'number' && seconds > 0 ? Math.ceil(seconds) : null;
}

export type FieldErrors = Record<string, string[]>;

interface IssueLike {
  message: string;
  path?: readonly (PropertyKey | { key: PropertyKey })[];
}

function hasIssues(value: unknown): value is { issues: IssueLike[] } {
  return (
    typeof value === 'object' &&
    value !== null &&
    Array.isArray((value as { issues?: unknown }).issues)
  );
}

/**
 * Per-field messages for a form: from input validation issues (zod, or any standard schema),
 * or from a domain error that names its field. `''` holds messages about the whole input.
 */
export function fieldErrorsOf(cause: unknown): FieldErrors | null {
  if (cause instanceof DomainError) {
    const field = cause.details.field;
    return typeof field === 'string' ? { [field]: [cause.message] } : null;
  }
  if (!hasIssues(cause)) return null;
  const errors: FieldErrors = {};
  for (const issue of cause.issues) {
    const key = (issue.path ?? [])
      .map((part) => (typeof part === 'object' ? part.key : part))
      .map(String)
      .join('.');
    (errors[key] ??= []).push(issue.message);
  }
  return errors;
}
