import type { Database } from '@custody/db';
import { resolveAuthSecret } from '../services/auth-secret.ts';
import { bootstrapFirstAdmin, firstAdminBannerLines } from '../services/bootstrap.ts';
import { demoUsersBannerLines, seedDemoUsers } from '../services/demo-users.ts';
import { setAuthRuntime } from './auth-runtime.ts';
import { createAuth, type Auth } from './create-auth.ts';

export interface StartAuthOptions {
  db: Database;
  /** From resolvePublicOrigins; the first is where the banner sends people to sign in. */
  origins: readonly string[];
  /** CUSTODY_AUTH_SECRET; without it a secret kept in the database is used. */
  secret?: string | undefined;
  /** CUSTODY_ADMIN_EMAIL: the first administrator's address, used on an empty database. */
  adminEmail: string;
  /** CUSTODY_DEMO_USERS: create or reset one demo user per role. */
  demoUsers: boolean;
}

/**
 * Called by server.ts once the database is migrated: creates the better-auth instance that
 * route handlers use, creates the first administrator on an empty database, and returns the
 * lines for the start banner, the only place a generated password is ever shown.
 */
export async function startAuth(
  options: StartAuthOptions,
): Promise<{ auth: Auth; bannerLines: string[] }> {
  const secret = await resolveAuthSecret(options.db, options.secret);
  const auth = createAuth({ db: options.db, secret, origins: options.origins });
  setAuthRuntime({ auth, origins: options.origins });
  const outcome = await bootstrapFirstAdmin(options.db, { email: options.adminEmail });
  const bannerLines = firstAdminBannerLines(outcome, `${options.origins[0] ?? ''}/sign-in`);
  if (options.demoUsers) {
    bannerLines.push(...demoUsersBannerLines(await seedDemoUsers(options.db)));
  }
  return { auth, bannerLines };
}
