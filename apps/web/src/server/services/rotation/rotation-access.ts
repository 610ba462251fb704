import { DomainError, type OrgKind, type Role } from '@custody/core';
import { rotationJobs, siteGrants, sites } from '@custody/db/schema';
import { and, eq, exists, isNull, sql, type SQL } from 'drizzle-orm';
import type { Actor } from '../actor.ts';
import type { Executor } from '../executor.ts';

/**
 * Who may start and steer a rotation, by the kind of organisation running it: an integrator's
 * admins on the sites granted to it, an owner's approvers on the sites it owns. Technicians and
 * auditors may watch their organisation's rotations, not start or steer them.
 */
export const ROTATION_ROLE_BY_KIND: Readonly<Record<OrgKind, Role>> = {
  integrator: 'integrator-admin',
  owner: 'owner-approver',
};
export const ROTATION_ROLES: readonly Role[] = Object.values(ROTATION_ROLE_BY_KIND);

export interface RotationOrg {
  orgId: string;
  orgKind: OrgKind;
}

/** The organisations the actor may run rotations for. */
export function rotationOrgsOf(actor: Actor): RotationOrg[] {
  const orgs = new Map<string, RotationOrg>();
  for (const membership of actor.memberships) {
    if (membership.role === ROTATION_ROLE_BY_KIND[membership.orgKind]) {
      orgs.set(membership.orgId, { orgId: membership.orgId, orgKind: membership.orgKind });
    }
  }
  return [...orgs.values()];
}

function roleRefusal(kind: OrgKind | undefined, action: string): DomainError {
  const role = kind === undefined ? ROTATION_ROLES.join(' or ') : ROTATION_ROLE_BY_KIND[kind];
  return new DomainError('forbidden', `You need to be ${role} to ${action}.`, {
    details: { reason: 'rotation-role', roles: ROTATION_ROLES },
  });
}

/** The organisation a new rotation runs for: the one named, or the actor's only one. */
export function chooseRotationOrg(actor: Actor, orgId: string | undefined): RotationOrg {
  const orgs = rotationOrgsOf(actor);
  if (orgId !== undefined) {
    const chosen = orgs.find((org) => org.orgId === orgId);
    if (chosen !== undefined) return chosen;
    const member = actor.memberships.find((membership) => membership.orgId === orgId);
    if (member === undefined) {
      throw new DomainError('not-found', 'No such organisation.', { details: { orgId } });
    }
    throw roleRefusal(member.orgKind, 'rotate camera passwords');
  }
  const [only, ...others] = orgs;
  if (only === undefined) throw roleRefusal(undefined, 'rotate camera passwords');
  if (others.length > 0) {
    throw new DomainError(
      'invalid-input',
      'You rotate for several organisations: say which one runs this rotation.',
      { details: { field: 'orgId' } },
    );
  }
  return only;
}

/**
 * SQL on `sites`: the sites whose cameras the organisation may rotate, evaluated when the
 * statement runs (a grant revoked a moment ago already counts).
 */
export function rotatableSitesCondition(db: Executor, org: RotationOrg): SQL {
  if (org.orgKind === 'owner') return eq(sites.ownerOrgId, org.orgId);
  return exists(
    db
      .select({ one: sql`1` })
      .from(siteGrants)
      .where(
        and(
          eq(siteGrants.siteId, sites.id),
          eq(siteGrants.integratorOrgId, org.orgId),
          isNull(siteGrants.revokedAt),
        ),
      ),
  );
}

export type RotationJobRow = typeof rotationJobs.$inferSelect;

export interface JobAccess {
  job: RotationJobRow;
  org: RotationOrg;
  /** The actor may pause, resume, cancel and retry it. */
  canManage: boolean;
}

/**
 * The job, if the actor is a member of the organisation running it (anyone else is told it does
 * not exist). `manage` also requires the rotation role there; `lock` takes the job's row lock,
 * which every change to a job and the engine take first.
 */
export async function requireJobAccess(
  tx: Executor,
  actor: Actor,
  jobId: string,
  options: { manage?: string; lock?: boolean } = {},
): Promise<JobAccess> {
  const query = tx.select().from(rotationJobs).where(eq(rotationJobs.id, jobId));
  const [job] = options.lock === true ? await query.for('update') : await query;
  const membership = actor.memberships.find((entry) => entry.orgId === job?.orgId);
  if (job === undefined || membership === undefined) {
    throw new DomainError('not-found', 'No such rotation.', { details: { jobId } });
  }
  const org = { orgId: job.orgId, orgKind: membership.orgKind };
  const canManage = rotationOrgsOf(actor).some((entry) => entry.orgId === job.orgId);
  if (options.manage !== undefined && !canManage) {
    throw roleRefusal(membership.orgKind, options.manage);
  }
  return { job, org, canManage };
}
