import { isDomainError, type DomainErrorCode } from '@custody/core';
import type { Database } from '@custody/db';
import { safeErrorMessage } from '@custody/db/errors';
import type { Auth } from '../auth/create-auth.ts';
import { loadActor, type Actor } from '../services/actor.ts';
import { retryAfterOf } from './error-table.ts';

/** Who a route handler acts for: null when nobody is signed in (or still on a one-time password). */
export type ActorOfRequest = (request: Request) => Promise<Actor | null>;

export interface RouteDependencies {
  db: Database;
  /** The origins browsers reach Custody at (see auth/public-origins.ts). */
  origins: readonly string[];
  actorOf: ActorOfRequest;
}

/** The better-auth session of a request, as an actor with a password of its own choosing. */
export function sessionActorResolver(auth: Auth, db: Database): ActorOfRequest {
  return async (request) => {
    const session = await auth.api.getSession({ headers: request.headers });
    if (!session) return null;
    const actor = await loadActor(db, session.user.id, session.session.id);
    return actor === null || actor.passwordChangeRequired ? null : actor;
  };
}

const STATUS: Readonly<Record<DomainErrorCode, number>> = {
  'invalid-serial': 400,
  'invalid-input': 400,
  'invalid-transition': 409,
  conflict: 409,
  'approval-refused': 403,
  forbidden: 403,
  'not-found': 404,
  'rate-limited': 429,
  'chain-broken': 500,
};

/** Upload refusals about what the file is, rather than how big. */
const UNSUPPORTED_MEDIA = new Set(['unsupported-type', 'unrecognised-content', 'type-mismatch']);

/** A JSON error body of the same shape for every route handler; never a stack or a secret. */
export function errorResponse(status: number, message: string, extra: object = {}): Response {
  return Response.json(
    { error: { message, ...extra } },
    { status, headers: { 'cache-control': 'no-store' } },
  );
}

/** Domain errors become their status; anything else is logged and answered with a bare 500. */
export function responseForError(error: unknown, what: string): Response {
  if (isDomainError(error)) {
    const reason = error.details.reason;
    const status =
      reason === 'too-large'
        ? 413
        : typeof reason === 'string' && UNSUPPORTED_MEDIA.has(reason)
          ? 415
          : STATUS[error.code];
    const response = errorResponse(status, error.message, {
      code: error.code,
      ...(typeof error.details.field === 'string' ? { field: error.details.field } : {}),
      ...(typeof reason === 'string' ? { reason } : {}),
      ...(typeof error.details.refusal === 'string' ? { refusal: error.details.refusal } : {}),
    });
    const retryAfter = retryAfterOf(error);
    if (retryAfter !== null) response.headers.set('retry-after', String(retryAfter));
    return response;
  }
  console.error(`${what} failed: ${safeErrorMessage(error)}`);
  return errorResponse(500, `${what} failed on the server.`);
}

/**
 * A Content-Disposition header naming `filename`: an ASCII fallback for old clients and the
 * exact name in RFC 5987 form.
 */
export function contentDisposition(kind: 'attachment' | 'inline', filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

/**
 * Why a state-changing request that is not JSON (an upload) is refused, or null: it must be a
 * POST from one of Custody's origins (Origin, or failing that Sec-Fetch-Site), carrying the
 * custom header `x-custody-upload`. A cross-site page cannot add that header, nor a non-form
 * content type, without a CORS preflight this server never grants.
 */
export function refuseCrossSiteUpload(
  request: Request,
  origins: readonly string[],
): { status: number; message: string } | null {
  if (request.method !== 'POST') return { status: 405, message: 'Uploads are POST requests.' };
  if (request.headers.get('x-custody-upload') !== '1') {
    return { status: 403, message: 'Uploads must come from the Custody page.' };
  }
  const origin = request.headers.get('origin');
  if (origin !== null) {
    return origins.includes(origin)
      ? null
      : { status: 403, message: 'Cross-site request refused.' };
  }
  if (request.headers.get('sec-fetch-site') === 'same-origin') return null;
  return { status: 403, message: 'Cross-site request refused: no Origin header.' };
}
