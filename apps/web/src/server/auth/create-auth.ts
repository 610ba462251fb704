import type { Database } from '@custody/db';
import { authAccounts, authSessions, authVerifications, users } from '@custody/db/schema';
import { betterAuth } from 'better-auth';
import { drizzleAdapter } from 'better-auth/adapters/drizzle';
import { USER_PASSWORD_MAX_LENGTH, USER_PASSWORD_MIN_LENGTH } from '../services/accounts.ts';
import { createAuthAudit } from './auth-audit-plugin.ts';
import { authLogger } from './auth-logger.ts';
import { CLIENT_ADDRESS_HEADER } from './client-address.ts';
import { createLoginThrottle } from './login-throttle-plugin.ts';
import { passwordHasher } from './password-hasher.ts';

export interface CreateAuthOptions {
  db: Database;
  /** Signs session cookies; at least 32 characters. */
  secret: string;
  /** The origins browsers use to reach Custody; the first one is the base URL. */
  origins: readonly string[];
}

export const SESSION_COOKIE_PREFIX = 'custody';

/**
 * Everything better-auth offers beyond e-mail sign-in, sign-out and sessions is switched off:
 * accounts come from the first-run bootstrap and invitations, and passwords change through
 * the `me.changePassword` procedure, which also clears a one-time password's flag.
 */
const DISABLED_PATHS = [
  '/sign-up/email',
  '/sign-in/social',
  '/callback/:id',
  '/link-social',
  '/unlink-account',
  '/list-accounts',
  '/account-info',
  '/get-access-token',
  '/refresh-token',
  '/change-email',
  '/change-password',
  '/verify-password',
  '/update-user',
  '/delete-user',
  '/delete-user/callback',
  '/request-password-reset',
  '/reset-password',
  '/reset-password/:token',
  '/send-verification-email',
  '/verify-email',
];

export function createAuth({ db, secret, origins }: CreateAuthOptions) {
  const [baseURL] = origins;
  if (!baseURL) throw new Error('createAuth needs at least one public origin');
  return betterAuth({
    appName: 'Custody',
    secret,
    baseURL,
    basePath: '/api/auth',
    // better-auth refuses cookie-carrying requests whose Origin is not one of these (CSRF).
    trustedOrigins: [...origins],
    logger: authLogger,
    database: drizzleAdapter(db, {
      provider: 'pg',
      // better-auth's user is the domain's users table; its other models are schema/auth.ts.
      schema: {
        user: users,
        session: authSessions,
        account: authAccounts,
        verification: authVerifications,
      },
    }),
    emailAndPassword: {
      enabled: true,
      disableSignUp: true,
      minPasswordLength: USER_PASSWORD_MIN_LENGTH,
      maxPasswordLength: USER_PASSWORD_MAX_LENGTH,
      // better-auth's own scheme, through the hasher the account services use too.
      password: {
        hash: (password) => passwordHasher.hash(password),
        verify: (input) => passwordHasher.verify(input),
      },
    },
    session: {
      expiresIn: 60 * 60 * 24 * 7,
      updateAge: 60 * 60 * 24,
    },
    disabledPaths: DISABLED_PATHS,
    // Replaced by the database-backed throttle below: better-auth's memory store would give
    // every process its own count.
    rateLimit: { enabled: false },
    advanced: {
      // Explicit, because better-auth turns both checks off by default under NODE_ENV=test,
      // and the tests must see what production does.
      disableCSRFCheck: false,
      disableOriginCheck: false,
      cookiePrefix: SESSION_COOKIE_PREFIX,
      useSecureCookies: origins.every((origin) => origin.startsWith('https:')),
      database: { generateId: 'uuid' },
      ipAddress: { ipAddressHeaders: [CLIENT_ADDRESS_HEADER] },
    },
    telemetry: { enabled: false },
    plugins: [createLoginThrottle(db), createAuthAudit(db)],
  });
}

export type Auth = ReturnType<typeof createAuth>;
