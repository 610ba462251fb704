import type { Database } from '@custody/db';
import { authSessions } from '@custody/db/schema';
import type { BetterAuthPlugin } from 'better-auth';
import { APIError, createAuthMiddleware, getSessionFromCtx, isAPIError } from 'better-auth/api';
import { eq } from 'drizzle-orm';
import { appendAccountEvent } from '../services/account-audit.ts';
import { findUserByEmail } from '../services/accounts.ts';
import { appendAuditEvent } from '../services/audit-log.ts';
import { readClientAddress } from './client-address.ts';

const SIGN_IN_PATH = '/sign-in/email';
const SIGN_OUT_PATH = '/sign-out';
/** Who records a failed sign-in: nobody proved who tried. */
const SIGN_IN_SYSTEM = { kind: 'system', id: 'sign-in' } as const;

function emailOf(body: unknown): string | null {
  const email = (body as { email?: unknown } | undefined)?.email;
  return typeof email === 'string' && email.trim() !== '' ? email : null;
}

function unavailable(): APIError {
  return new APIError('SERVICE_UNAVAILABLE', {
    code: 'AUDIT_UNAVAILABLE',
    message: 'Signing in cannot be recorded right now, so it is refused. Try again shortly.',
  });
}

/**
 * Sign-ins (successful or refused for a wrong password), and sign-outs, in the audit log. The
 * data is the client address; never the password, and never the e-mail typed for an account that
 * does not exist (people type their password into the wrong field). A sign-in that cannot be
 * recorded is undone: its session is deleted and the request fails. Attempts the throttle refuses
 * before the password check are not recorded one by one, so a flood cannot fill the log.
 */
export function createAuthAudit(db: Database) {
  return {
    id: 'custody-auth-audit',
    hooks: {
      before: [
        {
          matcher: (context) => context.path === SIGN_OUT_PATH,
          handler: createAuthMiddleware(async (ctx) => {
            const current = await getSessionFromCtx(ctx, { disableRefresh: true });
            if (current === null) return;
            await db.transaction((tx) =>
              appendAccountEvent(tx, {
                userId: current.user.id,
                action: 'auth.signed-out',
                data: { address: readClientAddress(ctx.headers) },
              }),
            );
          }),
        },
      ],
      after: [
        {
          matcher: (context) => context.path === SIGN_IN_PATH,
          handler: createAuthMiddleware(async (ctx) => {
            const address = readClientAddress(ctx.headers);
            const returned: unknown = ctx.context.returned;
            const created = ctx.context.newSession;
            if (!isAPIError(returned) && created !== null) {
              try {
                await db.transaction((tx) =>
                  appendAccountEvent(tx, {
                    userId: created.user.id,
                    action: 'auth.signed-in',
                    data: { address },
                  }),
                );
              } catch (error) {
                await db.delete(authSessions).where(eq(authSessions.id, created.session.id));
                ctx.context.logger.error('A sign-in could not be audited; it was undone.', error);
                throw unavailable();
              }
              return;
            }
            if (!isAPIError(returned) || returned.statusCode !== 401) return;
            const email = emailOf(ctx.body);
            const user = email === null ? undefined : await findUserByEmail(db, email);
            await db.transaction(async (tx) => {
              if (user !== undefined) {
                await appendAccountEvent(tx, {
                  userId: user.id,
                  actor: SIGN_IN_SYSTEM,
                  action: 'auth.sign-in-failed',
                  data: { address },
                });
              } else {
                await appendAuditEvent(tx, {
                  orgId: null,
                  actor: SIGN_IN_SYSTEM,
                  action: 'auth.sign-in-failed',
                  subject: { kind: 'account', id: 'unknown' },
                  data: { address },
                });
              }
            });
          }),
        },
      ],
    },
  } satisfies BetterAuthPlugin;
}
