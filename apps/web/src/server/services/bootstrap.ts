import type { Database } from '@custody/db';
import { authAccounts, memberships, organisations, users } from '@custody/db/schema';
import { and, eq, sql } from 'drizzle-orm';
import { createPasswordUser, CREDENTIAL_PROVIDER, generateOneTimePassword } from './accounts.ts';

export const FIRST_ORGANISATION_NAME = 'Integrator';
export const FIRST_ADMIN_NAME = 'Administrator';

export type FirstAdminOutcome =
  /** The database had no user: the first administrator now exists with this password. */
  | { kind: 'created'; email: string; oneTimePassword: string; organisationName: string }
  /** Users exist; the first administrator has not replaced the one-time password yet. */
  | { kind: 'awaiting-first-sign-in'; email: string }
  | { kind: 'ready' };

// Two processes starting together on one PostgreSQL must not both create an administrator.
const BOOTSTRAP_LOCK = sql`select pg_advisory_xact_lock(hashtext('custody.bootstrap-first-admin'))`;

/**
 * On a database without users, creates an integrator organisation and its first
 * integrator-admin with a generated one-time password that must be replaced at first sign-in.
 * The password is returned to be printed once and is stored only as a hash.
 */
export async function bootstrapFirstAdmin(
  db: Database,
  options: { email: string },
): Promise<FirstAdminOutcome> {
  return db.transaction(async (tx) => {
    await tx.execute(BOOTSTRAP_LOCK);
    const [existing] = await tx.select({ id: users.id }).from(users).limit(1);
    if (existing) {
      const [pending] = await tx
        .select({ email: users.email })
        .from(users)
        .innerJoin(authAccounts, eq(authAccounts.userId, users.id))
        .innerJoin(memberships, eq(memberships.userId, users.id))
        .where(
          and(
            eq(authAccounts.providerId, CREDENTIAL_PROVIDER),
            eq(authAccounts.passwordChangeRequired, true),
            eq(memberships.role, 'integrator-admin'),
          ),
        )
        .orderBy(users.createdAt)
        .limit(1);
      return pending ? { kind: 'awaiting-first-sign-in', email: pending.email } : { kind: 'ready' };
    }
    const oneTimePassword = generateOneTimePassword();
    const [org] = await tx
      .insert(organisations)
      .values({ name: FIRST_ORGANISATION_NAME, kind: 'integrator' })
      .returning();
    if (!org) throw new Error('Inserting the first organisation returned no row');
    const user = await createPasswordUser(tx, {
      email: options.email,
      name: FIRST_ADMIN_NAME,
      password: oneTimePassword,
      passwordChangeRequired: true,
    });
    await tx
      .insert(memberships)
      .values({ userId: user.id, orgId: org.id, role: 'integrator-admin' });
    return {
      kind: 'created',
      email: user.email,
      oneTimePassword,
      organisationName: org.name,
    };
  });
}

/** The start banner's sign-in lines for a bootstrap outcome; the password appears only here. */
export function firstAdminBannerLines(outcome: FirstAdminOutcome, signInUrl: string): string[] {
  switch (outcome.kind) {
    case 'created':
      return [
        `  sign in:  ${signInUrl}`,
        `            first administrator: ${outcome.email}`,
        `            one-time password:   ${outcome.oneTimePassword}`,
        '            (shown only now; you choose your own password at first sign-in)',
      ];
    case 'awaiting-first-sign-in':
      return [
        `  sign in:  ${signInUrl}`,
        `            ${outcome.email} has not signed in yet: use the one-time password`,
        '            printed when Custody first started',
      ];
    case 'ready':
      return [`  sign in:  ${signInUrl}`];
  }
}
