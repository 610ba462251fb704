import type { OrgKind, Role } from '@custody/core';
import type { Database } from '@custody/db';
import { authAccounts, memberships, organisations, users } from '@custody/db/schema';
import { and, asc, eq } from 'drizzle-orm';

export interface ActorMembership {
  orgId: string;
  orgName: string;
  orgKind: OrgKind;
  role: Role;
}

/** The signed-in user a request acts for, with every role it holds. */
export interface Actor {
  userId: string;
  email: string;
  name: string;
  /** The better-auth session, when the actor came from one. */
  sessionId: string | null;
  /** A one-time password is still in use: only the password change is allowed. */
  passwordChangeRequired: boolean;
  memberships: ActorMembership[];
}

export async function loadActor(
  db: Database,
  userId: string,
  sessionId: string | null,
): Promise<Actor | null> {
  const [user] = await db.select().from(users).where(eq(users.id, userId));
  if (!user) return null;
  const rows = await db
    .select({
      orgId: memberships.orgId,
      orgName: organisations.name,
      orgKind: organisations.kind,
      role: memberships.role,
    })
    .from(memberships)
    .innerJoin(organisations, eq(organisations.id, memberships.orgId))
    .where(eq(memberships.userId, userId))
    .orderBy(asc(organisations.name), asc(memberships.role));
  const [credential] = await db
    .select({ passwordChangeRequired: authAccounts.passwordChangeRequired })
    .from(authAccounts)
    .where(and(eq(authAccounts.userId, userId), eq(authAccounts.providerId, 'credential')));
  return {
    userId: user.id,
    email: user.email,
    name: user.name,
    sessionId,
    passwordChangeRequired: credential?.passwordChangeRequired ?? false,
    memberships: rows,
  };
}
