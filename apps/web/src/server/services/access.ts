import { DomainError, type OrgKind, type Role } from '@custody/core';
import type { Database } from '@custody/db';
import { siteGrants, sites } from '@custody/db/schema';
import { and, eq, exists, inArray, isNull, or, sql, type SQL } from 'drizzle-orm';
import type { Actor } from './actor.ts';
import type { Executor } from './executor.ts';

/** The organisations where the actor holds one of `roles` (any role when omitted). */
export function orgIdsOf(
  actor: Actor,
  filter: { roles?: readonly Role[]; kind?: OrgKind } = {},
): string[] {
  const ids = actor.memberships
    .filter((m) => (filter.roles ? filter.roles.includes(m.role) : true))
    .filter((m) => (filter.kind ? m.orgKind === filter.kind : true))
    .map((m) => m.orgId);
  return [...new Set(ids)];
}

export function hasRoleIn(actor: Actor, orgId: string, roles: readonly Role[]): boolean {
  return actor.memberships.some((m) => m.orgId === orgId && roles.includes(m.role));
}

export function requireRoleIn(
  actor: Actor,
  orgId: string,
  roles: readonly Role[],
  action: string,
): void {
  if (!hasRoleIn(actor, orgId, roles)) {
    throw new DomainError('forbidden', `You need to be ${roles.join(' or ')} there to ${action}.`, {
      details: { orgId, roles },
    });
  }
}

/**
 * The one definition of which sites an actor may see, as a condition on `sites`: the sites its
 * owner organisations own, and the sites an owner has granted to its integrator organisations
 * by a grant that is not revoked. It is evaluated inside each query, so a revocation takes
 * effect on the next query, in every process.
 */
export function accessibleSitesCondition(db: Executor, actor: Actor): SQL {
  const ownerOrgIds = orgIdsOf(actor, { kind: 'owner' });
  const integratorOrgIds = orgIdsOf(actor, { kind: 'integrator' });
  const conditions: SQL[] = [];
  if (ownerOrgIds.length > 0) conditions.push(inArray(sites.ownerOrgId, ownerOrgIds));
  if (integratorOrgIds.length > 0) {
    conditions.push(
      exists(
        db
          .select({ one: sql`1` })
          .from(siteGrants)
          .where(
            and(
              eq(siteGrants.siteId, sites.id),
              isNull(siteGrants.revokedAt),
              inArray(siteGrants.integratorOrgId, integratorOrgIds),
            ),
          ),
      ),
    );
  }
  return or(...conditions) ?? sql`false`;
}

export async function accessibleSiteIds(db: Database, actor: Actor): Promise<string[]> {
  const rows = await db
    .select({ id: sites.id })
    .from(sites)
    .where(accessibleSitesCondition(db, actor));
  return rows.map((row) => row.id);
}

/**
 * The site, if the actor may see it. A site outside the actor's tenancy is reported exactly
 * like a missing one, so ids cannot be probed across tenants.
 */
export async function requireAccessibleSite(db: Executor, actor: Actor, siteId: string) {
  const [site] = await db
    .select()
    .from(sites)
    .where(and(eq(sites.id, siteId), accessibleSitesCondition(db, actor)));
  if (!site) throw new DomainError('not-found', 'No such site.', { details: { siteId } });
  return site;
}

/** Integrator organisations of the actor holding an active grant on the site. */
export async function grantedIntegratorOrgIds(
  db: Executor,
  actor: Actor,
  siteId: string,
  roles: readonly Role[],
): Promise<string[]> {
  const candidates = orgIdsOf(actor, { roles, kind: 'integrator' });
  if (candidates.length === 0) return [];
  const rows = await db
    .select({ orgId: siteGrants.integratorOrgId })
    .from(siteGrants)
    .where(
      and(
        eq(siteGrants.siteId, siteId),
        isNull(siteGrants.revokedAt),
        inArray(siteGrants.integratorOrgId, candidates),
      ),
    );
  return rows.map((row) => row.orgId);
}
