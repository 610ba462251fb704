import { DomainError } from '@custody/core';
import type { Database } from '@custody/db';
import { integratorClients, organisations, siteGrants } from '@custody/db/schema';
import { and, desc, eq, inArray, isNull } from 'drizzle-orm';
import { orgIdsOf, requireAccessibleSite, requireRoleIn } from './access.ts';
import { cancelCommandsForLostAccess } from '../gateway/command-access.ts';
import type { Actor } from './actor.ts';
import { appendAuditEvent } from './audit-log.ts';

export interface GrantView {
  id: string;
  siteId: string;
  integratorOrgId: string;
  integratorName: string;
  grantedAt: Date;
  revokedAt: Date | null;
}

/**
 * The grants on a site: all of them, revoked ones included, for the owner's members; for an
 * integrator, only its own.
 */
export async function listGrants(db: Database, actor: Actor, siteId: string): Promise<GrantView[]> {
  const site = await requireAccessibleSite(db, actor, siteId);
  const isOwnerMember = actor.memberships.some((m) => m.orgId === site.ownerOrgId);
  const mine = orgIdsOf(actor, { kind: 'integrator' });
  if (!isOwnerMember && mine.length === 0) return [];
  return db
    .select({
      id: siteGrants.id,
      siteId: siteGrants.siteId,
      integratorOrgId: siteGrants.integratorOrgId,
      integratorName: organisations.name,
      grantedAt: siteGrants.grantedAt,
      revokedAt: siteGrants.revokedAt,
    })
    .from(siteGrants)
    .innerJoin(organisations, eq(organisations.id, siteGrants.integratorOrgId))
    .where(
      and(
        eq(siteGrants.siteId, site.id),
        isOwnerMember ? undefined : inArray(siteGrants.integratorOrgId, mine),
      ),
    )
    .orderBy(desc(siteGrants.grantedAt));
}

/** An owner approver grants an integrator access to one of its sites. */
export async function grantSite(
  db: Database,
  actor: Actor,
  input: { siteId: string; integratorOrgId: string },
): Promise<GrantView> {
  const site = await requireAccessibleSite(db, actor, input.siteId);
  requireRoleIn(actor, site.ownerOrgId, ['owner-approver'], 'grant access to this site');
  const [integrator] = await db
    .select()
    .from(organisations)
    .where(eq(organisations.id, input.integratorOrgId));
  if (!integrator || integrator.kind !== 'integrator') {
    throw new DomainError('not-found', 'No such integrator organisation.', {
      details: { field: 'integratorOrgId' },
    });
  }
  return db.transaction(async (tx) => {
    const [active] = await tx
      .select({ id: siteGrants.id })
      .from(siteGrants)
      .where(
        and(
          eq(siteGrants.siteId, site.id),
          eq(siteGrants.integratorOrgId, integrator.id),
          isNull(siteGrants.revokedAt),
        ),
      );
    if (active) {
      throw new DomainError('conflict', `${integrator.name} already has access to this site.`, {
        details: { field: 'integratorOrgId' },
      });
    }
    const [grant] = await tx
      .insert(siteGrants)
      .values({ siteId: site.id, integratorOrgId: integrator.id, grantedBy: actor.userId })
      .returning();
    if (!grant) throw new Error('Inserting a site grant returned no row');
    await appendAuditEvent(tx, {
      orgId: site.ownerOrgId,
      siteId: site.id,
      actor: { kind: 'user', id: actor.userId },
      action: 'grant.created',
      subject: { kind: 'site-grant', id: grant.id },
      data: { integratorOrgId: integrator.id, integratorName: integrator.name },
    });
    await tx
      .insert(integratorClients)
      .values({
        integratorOrgId: integrator.id,
        ownerOrgId: site.ownerOrgId,
        createdBy: actor.userId,
      })
      .onConflictDoNothing();
    return {
      id: grant.id,
      siteId: grant.siteId,
      integratorOrgId: grant.integratorOrgId,
      integratorName: integrator.name,
      grantedAt: grant.grantedAt,
      revokedAt: grant.revokedAt,
    };
  });
}

/**
 * An owner approver revokes an integrator's access. Every tenancy check reads the grant inside
 * its own query, so the integrator loses the site on its very next request; in the same
 * transaction, the commands its members queued there that no agent has acknowledged yet are
 * cancelled (the dispatcher checks again before it sends one).
 */
export async function revokeGrant(
  db: Database,
  actor: Actor,
  input: { siteId: string; integratorOrgId: string },
  now: Date = new Date(),
): Promise<{ revokedAt: Date; cancelledCommands: number }> {
  const site = await requireAccessibleSite(db, actor, input.siteId);
  requireRoleIn(actor, site.ownerOrgId, ['owner-approver'], 'revoke access to this site');
  return db.transaction(async (tx) => {
    const [revoked] = await tx
      .update(siteGrants)
      .set({ revokedAt: now, revokedBy: actor.userId })
      .where(
        and(
          eq(siteGrants.siteId, site.id),
          eq(siteGrants.integratorOrgId, input.integratorOrgId),
          isNull(siteGrants.revokedAt),
        ),
      )
      .returning({ id: siteGrants.id });
    if (!revoked) {
      throw new DomainError('not-found', 'That integrator has no active grant on this site.', {
        details: { field: 'integratorOrgId' },
      });
    }
    const cancelled = await cancelCommandsForLostAccess(
      tx,
      { siteId: site.id, requesterOrgId: input.integratorOrgId },
      now,
    );
    await appendAuditEvent(tx, {
      orgId: site.ownerOrgId,
      siteId: site.id,
      actor: { kind: 'user', id: actor.userId },
      action: 'grant.revoked',
      subject: { kind: 'site-grant', id: revoked.id },
      data: { integratorOrgId: input.integratorOrgId, cancelledCommands: cancelled.length },
    });
    return { revokedAt: now, cancelledCommands: cancelled.length };
  });
}
