import { DomainError, type DhcpRange } from '@custody/core';
import type { Database } from '@custody/db';
import { integratorClients, organisations, siteGrants, sites } from '@custody/db/schema';
import { asc, eq } from 'drizzle-orm';
import {
  accessibleSitesCondition,
  grantedIntegratorOrgIds,
  hasRoleIn,
  requireAccessibleSite,
} from './access.ts';
import type { Actor } from './actor.ts';
import { appendAuditEvent } from './audit-log.ts';
import { actingIntegratorOrg, servingAdminIntegrators } from './organisations.ts';

export interface SiteFields {
  name: string;
  address: string;
  networkNotes: string;
  dhcpRange?: DhcpRange | null | undefined;
  approvalQuorum?: number | undefined;
}

type SiteRow = typeof sites.$inferSelect;

function toSite(row: SiteRow, ownerName: string) {
  return {
    id: row.id,
    name: row.name,
    ownerOrgId: row.ownerOrgId,
    ownerName,
    address: row.address,
    networkNotes: row.networkNotes,
    dhcpRange:
      row.dhcpRangeStart && row.dhcpRangeEnd
        ? { start: row.dhcpRangeStart, end: row.dhcpRangeEnd }
        : null,
    approvalQuorum: row.approvalQuorum,
    createdAt: row.createdAt,
  };
}

export type SiteView = ReturnType<typeof toSite>;

export async function listSites(db: Database, actor: Actor): Promise<SiteView[]> {
  const rows = await db
    .select({ site: sites, ownerName: organisations.name })
    .from(sites)
    .innerJoin(organisations, eq(organisations.id, sites.ownerOrgId))
    .where(accessibleSitesCondition(db, actor))
    .orderBy(asc(sites.name), asc(sites.id));
  return rows.map((row) => toSite(row.site, row.ownerName));
}

async function ownerName(db: Database, orgId: string): Promise<string> {
  const [org] = await db
    .select({ name: organisations.name })
    .from(organisations)
    .where(eq(organisations.id, orgId));
  return org?.name ?? '';
}

export async function getSite(db: Database, actor: Actor, siteId: string): Promise<SiteView> {
  const site = await requireAccessibleSite(db, actor, siteId);
  return toSite(site, await ownerName(db, site.ownerOrgId));
}

function dhcpColumns(range: DhcpRange | null | undefined) {
  if (range === undefined) return {};
  return { dhcpRangeStart: range?.start ?? null, dhcpRangeEnd: range?.end ?? null };
}

/** Whose site it is: an owner organisation by id, or a new client organisation by name. */
export type SiteOwnerChoice = { ownerOrgId: string } | { newOwnerName: string };

/**
 * An owner approver creates a site for its own organisation; an integrator admin creates one
 * for a client it serves (or for a new client organisation, created in the same transaction),
 * and its integrator receives the site grant at once (the owner can revoke it like any other).
 */
export async function createSite(
  db: Database,
  actor: Actor,
  input: SiteFields & SiteOwnerChoice & { integratorOrgId?: string | undefined },
): Promise<SiteView> {
  let owner: { id: string; name: string; kind: string } | undefined;
  let grantTo: string | undefined;
  if ('newOwnerName' in input) {
    grantTo = actingIntegratorOrg(actor, input.integratorOrgId);
  } else {
    owner = (
      await db.select().from(organisations).where(eq(organisations.id, input.ownerOrgId))
    )[0];
    const isOwnerApprover = owner !== undefined && hasRoleIn(actor, owner.id, ['owner-approver']);
    const serving =
      owner && !isOwnerApprover ? await servingAdminIntegrators(db, actor, owner.id) : [];
    if (!owner || (!isOwnerApprover && serving.length === 0)) {
      throw new DomainError('not-found', 'No such owner organisation.', {
        details: { field: 'ownerOrgId' },
      });
    }
    if (owner.kind !== 'owner') {
      throw new DomainError('invalid-input', 'A site belongs to an owner organisation.', {
        details: { field: 'ownerOrgId' },
      });
    }
    grantTo = isOwnerApprover ? undefined : serving[0];
  }
  const { row, ownerName } = await db.transaction(async (tx) => {
    let ownerRow = owner;
    if ('newOwnerName' in input && grantTo) {
      const [created] = await tx
        .insert(organisations)
        .values({ name: input.newOwnerName, kind: 'owner' })
        .returning();
      if (!created) throw new Error('Inserting an organisation returned no row');
      await tx
        .insert(integratorClients)
        .values({ integratorOrgId: grantTo, ownerOrgId: created.id, createdBy: actor.userId });
      ownerRow = created;
      await appendAuditEvent(tx, {
        orgId: grantTo,
        actor: { kind: 'user', id: actor.userId },
        action: 'organisation.created',
        subject: { kind: 'organisation', id: created.id },
        data: { name: created.name, kind: created.kind },
      });
    }
    if (!ownerRow) throw new Error('createSite: no owner organisation');
    const [site] = await tx
      .insert(sites)
      .values({
        ownerOrgId: ownerRow.id,
        name: input.name,
        address: input.address,
        networkNotes: input.networkNotes,
        ...dhcpColumns(input.dhcpRange),
        ...(input.approvalQuorum === undefined ? {} : { approvalQuorum: input.approvalQuorum }),
      })
      .returning();
    if (!site) throw new Error('Inserting a site returned no row');
    if (grantTo) {
      await tx
        .insert(siteGrants)
        .values({ siteId: site.id, integratorOrgId: grantTo, grantedBy: actor.userId });
    }
    await appendAuditEvent(tx, {
      orgId: grantTo ?? ownerRow.id,
      siteId: site.id,
      actor: { kind: 'user', id: actor.userId },
      action: 'site.created',
      subject: { kind: 'site', id: site.id },
      data: { name: site.name, ownerOrgId: ownerRow.id, grantedTo: grantTo ?? null },
    });
    return { row: site, ownerName: ownerRow.name };
  });
  return toSite(row, ownerName);
}

/** The site's owner approvers and the admins of integrators holding a grant on it. */
export async function updateSite(
  db: Database,
  actor: Actor,
  siteId: string,
  patch: Partial<SiteFields>,
): Promise<SiteView> {
  const site = await requireAccessibleSite(db, actor, siteId);
  const actingOrgId = hasRoleIn(actor, site.ownerOrgId, ['owner-approver'])
    ? site.ownerOrgId
    : (await grantedIntegratorOrgIds(db, actor, site.id, ['integrator-admin'])).sort()[0];
  if (actingOrgId === undefined) {
    throw new DomainError(
      'forbidden',
      'Only an owner approver or a granted integrator admin can edit this site.',
    );
  }
  const changes = {
    ...(patch.name === undefined ? {} : { name: patch.name }),
    ...(patch.address === undefined ? {} : { address: patch.address }),
    ...(patch.networkNotes === undefined ? {} : { networkNotes: patch.networkNotes }),
    ...(patch.approvalQuorum === undefined ? {} : { approvalQuorum: patch.approvalQuorum }),
    ...dhcpColumns(patch.dhcpRange),
  };
  if (Object.keys(changes).length === 0) return toSite(site, await ownerName(db, site.ownerOrgId));
  const row = await db.transaction(async (tx) => {
    const [updated] = await tx.update(sites).set(changes).where(eq(sites.id, site.id)).returning();
    if (!updated) throw new DomainError('not-found', 'No such site.', { details: { siteId } });
    await appendAuditEvent(tx, {
      orgId: actingOrgId,
      siteId: site.id,
      actor: { kind: 'user', id: actor.userId },
      action: 'site.updated',
      subject: { kind: 'site', id: site.id },
      // The fields, not their values: network notes can be long and are the owner's business.
      data: { fields: Object.keys(changes).sort(), name: updated.name },
    });
    return updated;
  });
  return toSite(row, await ownerName(db, row.ownerOrgId));
}
