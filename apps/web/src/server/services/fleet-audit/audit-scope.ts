import { DomainError, type OrgKind, type Role } from '@custody/core';
import type { SQL } from 'drizzle-orm';
import { accessibleSitesCondition } from '../access.ts';
import type { Actor } from '../actor.ts';
import type { Executor } from '../executor.ts';

/** The organisation an audit is run for: its settings, its snapshots, the sites it may see. */
export interface AuditOrg {
  id: string;
  name: string;
  kind: OrgKind;
}

/** Every role reads its organisation's audit; the auditor role exists for it. */
export const AUDIT_READER_ROLES: readonly Role[] = [
  'integrator-admin',
  'technician',
  'owner-approver',
  'auditor',
];

/** Who changes an organisation's audit settings and takes snapshots on demand. */
export const AUDIT_ADMIN_ROLES: Readonly<Record<OrgKind, readonly Role[]>> = {
  integrator: ['integrator-admin'],
  owner: ['owner-approver'],
};

/** Who records that cameras are in the VMS: the people who put them there, and the owner. */
export const VMS_WRITER_ROLES: readonly Role[] = [
  'integrator-admin',
  'technician',
  'owner-approver',
];

/**
 * The organisation whose audit the actor asks for: `orgId`, or its first organisation where it
 * holds a role that reads the audit. An organisation the actor is not a member of is reported
 * like a missing one, so ids cannot be probed.
 */
export function resolveAuditOrg(
  actor: Actor,
  orgId: string | undefined,
  roles: readonly Role[] = AUDIT_READER_ROLES,
  action = 'see the fleet audit',
): AuditOrg {
  const memberships = actor.memberships.filter((m) => orgId === undefined || m.orgId === orgId);
  if (orgId !== undefined && memberships.length === 0) {
    throw new DomainError('not-found', 'No such organisation.', { details: { orgId } });
  }
  const allowed = memberships.find((m) => roles.includes(m.role));
  if (allowed === undefined) {
    throw new DomainError('forbidden', `You need to be ${roles.join(' or ')} to ${action}.`, {
      details: { orgId: orgId ?? null, roles },
    });
  }
  return { id: allowed.orgId, name: allowed.orgName, kind: allowed.orgKind };
}

/** The organisation where the actor may change the audit's settings or take a snapshot. */
export function resolveAuditAdminOrg(actor: Actor, orgId: string | undefined, action: string) {
  const org = resolveAuditOrg(actor, orgId);
  const roles = AUDIT_ADMIN_ROLES[org.kind];
  if (!actor.memberships.some((m) => m.orgId === org.id && roles.includes(m.role))) {
    throw new DomainError('forbidden', `You need to be ${roles.join(' or ')} to ${action}.`, {
      details: { orgId: org.id, roles },
    });
  }
  return org;
}

/** The organisations an actor may read the audit of, for a chooser. */
export function auditOrgsOf(actor: Actor): (AuditOrg & { canAdminister: boolean })[] {
  const seen = new Map<string, AuditOrg & { canAdminister: boolean }>();
  for (const m of actor.memberships) {
    if (!AUDIT_READER_ROLES.includes(m.role)) continue;
    const entry = seen.get(m.orgId) ?? {
      id: m.orgId,
      name: m.orgName,
      kind: m.orgKind,
      canAdminister: false,
    };
    if (AUDIT_ADMIN_ROLES[m.orgKind].includes(m.role)) entry.canAdminister = true;
    seen.set(m.orgId, entry);
  }
  return [...seen.values()];
}

/**
 * The sites an organisation may see, as a condition on `sites`: those it owns, or those granted
 * to it and not revoked. The same definition the actor's own queries use (access.ts), applied
 * to one organisation, so a scheduled snapshot without a signed-in user sees what its members
 * would.
 */
export function orgSitesCondition(db: Executor, org: AuditOrg): SQL {
  const member: Actor = {
    userId: '',
    email: '',
    name: org.name,
    sessionId: null,
    passwordChangeRequired: false,
    // accessibleSitesCondition reads only the organisation and its kind.
    memberships: [
      {
        orgId: org.id,
        orgName: org.name,
        orgKind: org.kind,
        role: org.kind === 'owner' ? 'owner-approver' : 'integrator-admin',
      },
    ],
  };
  return accessibleSitesCondition(db, member);
}
