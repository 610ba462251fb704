import { and, eq } from 'drizzle-orm';
import { DomainError, type Role } from '@custody/core';
import * as schema from '@custody/db/schema';
import { accessibleSitesCondition, grantedIntegratorOrgIds, hasRoleIn } from '../access.ts';
import type { Actor } from '../actor.ts';
import type { Executor } from '../executor.ts';
import { toCaseRecord, type CaseRecord } from './case-store.ts';

const { cases, sites } = schema;

/** Who may drive a case: the integrator's people on a granted site. */
export const CASE_WORKER_ROLES = [
  'technician',
  'integrator-admin',
] as const satisfies readonly Role[];
/** Who may cancel a case (core's CANCEL actors). */
export const CASE_CANCEL_ROLES = [
  'integrator-admin',
  'owner-approver',
] as const satisfies readonly Role[];

export interface CaseSite {
  id: string;
  name: string;
  ownerOrgId: string;
  dhcpRangeStart: string | null;
  dhcpRangeEnd: string | null;
}

export interface AccessibleCase {
  record: CaseRecord;
  site: CaseSite;
}

/**
 * The case, if the actor may see its site. A case of another tenant is reported exactly like a
 * missing one, so ids cannot be probed across tenants.
 */
export async function requireVisibleCase(
  db: Executor,
  actor: Actor,
  caseId: string,
): Promise<AccessibleCase> {
  const [row] = await db
    .select({
      caseRow: cases,
      site: {
        id: sites.id,
        name: sites.name,
        ownerOrgId: sites.ownerOrgId,
        dhcpRangeStart: sites.dhcpRangeStart,
        dhcpRangeEnd: sites.dhcpRangeEnd,
      },
    })
    .from(cases)
    .innerJoin(sites, eq(sites.id, cases.siteId))
    .where(and(eq(cases.id, caseId), accessibleSitesCondition(db, actor)));
  if (row === undefined) {
    throw new DomainError('not-found', 'No such case.', { details: { caseId } });
  }
  return { record: toCaseRecord(row.caseRow), site: row.site };
}

/**
 * The organisation on whose behalf the actor may act at the site with one of `roles`: an
 * integrator organisation holding an active grant, or the owner organisation. Null when none.
 */
export async function actingOrgAt(
  db: Executor,
  actor: Actor,
  site: Pick<CaseSite, 'id' | 'ownerOrgId'>,
  roles: readonly Role[],
): Promise<string | null> {
  const [integratorOrgId] = await grantedIntegratorOrgIds(db, actor, site.id, roles);
  if (integratorOrgId !== undefined) return integratorOrgId;
  return hasRoleIn(actor, site.ownerOrgId, roles) ? site.ownerOrgId : null;
}

export async function requireActingOrg(
  db: Executor,
  actor: Actor,
  site: Pick<CaseSite, 'id' | 'ownerOrgId'>,
  roles: readonly Role[],
  action: string,
): Promise<string> {
  const orgId = await actingOrgAt(db, actor, site, roles);
  if (orgId === null) {
    throw new DomainError('forbidden', `You need to be ${roles.join(' or ')} here to ${action}.`, {
      details: { siteId: site.id, roles },
    });
  }
  return orgId;
}

export interface CaseWork extends AccessibleCase {
  orgId: string;
}

/** The visible case and the organisation the actor drives it for, or 'forbidden'. */
export async function requireCaseWork(
  db: Executor,
  actor: Actor,
  caseId: string,
  action: string,
  roles: readonly Role[] = CASE_WORKER_ROLES,
): Promise<CaseWork> {
  const visible = await requireVisibleCase(db, actor, caseId);
  const orgId = await requireActingOrg(db, actor, visible.site, roles, action);
  return { ...visible, orgId };
}
