import type { Database } from '@custody/db';
import type { BetterAuthPlugin } from 'better-auth';
import { APIError, createAuthMiddleware, isAPIError } from 'better-auth/api';
import {
  ACCOUNT_RULE,
  ADDRESS_RULE,
  accountKey,
  addressKey,
  clearThrottle,
  hitThrottle,
  peekThrottle,
  type ThrottleVerdict,
} from '../services/login-throttle.ts';
import { readClientAddress } from './client-address.ts';

const SIGN_IN_PATH = '/sign-in/email';

function refuse(verdict: Extract<ThrottleVerdict, { allowed: false }>): APIError {
  const minutes = Math.ceil(verdict.retryAfterSeconds / 60);
  return new APIError(
    'TOO_MANY_REQUESTS',
    {
      code: 'TOO_MANY_SIGN_IN_ATTEMPTS',
      message: `Too many sign-in attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
    },
    { 'retry-after': String(verdict.retryAfterSeconds) },
  );
}

function emailOf(body: unknown): string | null {
  const email = (body as { email?: unknown } | undefined)?.email;
  return typeof email === 'string' && email.trim() !== '' ? email : null;
}

/**
 * Sign-in throttling kept in the database, so that every process shares the counts: every
 * attempt counts against the client address, and failed passwords count against the account
 * whatever address they come from. A refused attempt never reaches the password check.
 */
export function createLoginThrottle(db: Database) {
  return {
    id: 'custody-login-throttle',
    hooks: {
      before: [
        {
          matcher: (context) => context.path === SIGN_IN_PATH,
          handler: createAuthMiddleware(async (ctx) => {
            const address = readClientAddress(ctx.headers);
            if (address) {
              const verdict = await hitThrottle(db, addressKey(address), ADDRESS_RULE);
              if (!verdict.allowed) throw refuse(verdict);
            }
            const email = emailOf(ctx.body);
            if (email) {
              const verdict = await peekThrottle(db, accountKey(email), ACCOUNT_RULE);
              if (!verdict.allowed) throw refuse(verdict);
            }
          }),
        },
      ],
      after: [
        {
          matcher: (context) => context.path === SIGN_IN_PATH,
          handler: createAuthMiddleware(async (ctx) => {
            const email = emailOf(ctx.body);
            if (!email) return;
            const returned: unknown = ctx.context.returned;
            if (!isAPIError(returned)) {
              await clearThrottle(db, accountKey(email));
            } else if (returned.statusCode === 401) {
              await hitThrottle(db, accountKey(email), ACCOUNT_RULE);
            }
          }),
        },
      ],
    },
  } satisfies BetterAuthPlugin;
}
