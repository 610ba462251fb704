import { DomainError, type Role } from '@custody/core';
import type { Database } from '@custody/db';
import { initTRPC, TRPCError } from '@trpc/server';
import superjson from 'superjson';
import type { Auth } from '../auth/create-auth.ts';
import { loadActor, type Actor } from '../services/actor.ts';
import type { FleetFeed } from '../services/fleet-feed.ts';
import type { RotationFeed } from '../services/rotation/rotation-feed.ts';
import type { Vault } from '../services/vault/vault.ts';
import { fieldErrorsOf, retryAfterOf, toTRPCError } from './error-table.ts';

export interface TRPCContext {
  db: Database;
  /** The signed-in user, or null for an anonymous request. */
  actor: Actor | null;
  /** Live fleet changes for subscriptions; null where no gateway runs. */
  fleetFeed: FleetFeed | null;
  /** The origin the caller reached Custody at, for commands shown to it (agent enrollment). */
  origin: string | null;
  /** The credential vault; null where none is loaded (reveals then fail). */
  vault: Vault | null;
  /** Live rotation progress for subscriptions; null where no rotation feed runs. */
  rotationFeed: RotationFeed | null;
}

export interface InnerContextOptions {
  db: Database;
  actor: Actor | null;
  fleetFeed?: FleetFeed | null | undefined;
  origin?: string | null | undefined;
  vault?: Vault | null | undefined;
  rotationFeed?: RotationFeed | null | undefined;
}

/** The context without HTTP: what tests and server-side callers build directly. */
export function createInnerTRPCContext(options: InnerContextOptions): TRPCContext {
  return {
    db: options.db,
    actor: options.actor,
    fleetFeed: options.fleetFeed ?? null,
    origin: options.origin ?? null,
    vault: options.vault ?? null,
    rotationFeed: options.rotationFeed ?? null,
  };
}

/** The context of an HTTP request: the better-auth session in its cookies, and the database. */
export async function createTRPCContext(options: {
  headers: Headers;
  db: Database;
  auth: Auth;
  fleetFeed?: FleetFeed | null | undefined;
  origin?: string | null | undefined;
  vault?: Vault | null | undefined;
  rotationFeed?: RotationFeed | null | undefined;
}): Promise<TRPCContext> {
  const session = await options.auth.api.getSession({ headers: options.headers });
  const actor = session ? await loadActor(options.db, session.user.id, session.session.id) : null;
  return createInnerTRPCContext({
    db: options.db,
    actor,
    fleetFeed: options.fleetFeed,
    origin: options.origin,
    vault: options.vault,
    rotationFeed: options.rotationFeed,
  });
}

/** What a caller is told of an unexplained server failure; the server log has the details. */
export const INTERNAL_FAILURE =
  'The server could not complete this request; the failure is in its log.';

const t = initTRPC.context<TRPCContext>().create({
  transformer: superjson,
  sse: {
    // Comments keep proxies from closing a quiet stream; a client that hears nothing for
    // longer than that reconnects (and resyncs).
    ping: { enabled: true, intervalMs: 15_000 },
    client: { reconnectAfterInactivityMs: 40_000 },
  },
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    // A failure the services did not name (a lost database, a bug) is logged, not explained:
    // its message can hold a failed query and the values bound to it.
    const unexplained = error.code === 'INTERNAL_SERVER_ERROR' && !(cause instanceof DomainError);
    const { stack: _stack, ...data } = shape.data;
    return {
      ...shape,
      message: unexplained ? INTERNAL_FAILURE : shape.message,
      data: {
        ...(unexplained ? data : shape.data),
        domainCode: cause instanceof DomainError ? cause.code : null,
        fieldErrors: fieldErrorsOf(cause),
        retryAfterSeconds: retryAfterOf(cause),
      },
    };
  },
});

export const createCallerFactory = t.createCallerFactory;
export const router = t.router;

/** Domain errors thrown by services become the tRPC error the table names. */
const domainErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof DomainError) {
    throw toTRPCError(result.error.cause);
  }
  return result;
});

export const publicProcedure = t.procedure.use(domainErrors);

/** Signed in, even with a one-time password still to replace (for `me` only). */
export const sessionProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.actor) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in first.' });
  return next({ ctx: { actor: ctx.actor } });
});

/** Signed in with a password of the user's own choosing. */
export const protectedProcedure = sessionProcedure.use(({ ctx, next }) => {
  if (ctx.actor.passwordChangeRequired) {
    throw new DomainError('forbidden', 'Choose a new password before doing anything else.', {
      details: { reason: 'password-change-required' },
    });
  }
  return next({ ctx: { actor: ctx.actor } });
});

/**
 * Signed in and holding at least one of `roles` in some organisation. Which organisation the
 * role must be held in depends on the object, so services check that against the data.
 */
export function roleProcedure(...roles: [Role, ...Role[]]) {
  return protectedProcedure.use(({ ctx, next }) => {
    if (!ctx.actor.memberships.some((m) => roles.includes(m.role))) {
      throw new TRPCError({
        code: 'FORBIDDEN',
        message: `This needs the role ${roles.join(' or ')}.`,
      });
    }
    return next({ ctx: { actor: ctx.actor } });
  });
}
