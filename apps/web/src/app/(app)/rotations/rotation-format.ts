import type { OrgKind, Role, RotationItemStatus, RotationJobStatus } from '@custody/core';

// Words for the rotation pages. Core is imported for types only, as elsewhere in the pages: the
// types make these tables fail to compile when core gains a status they lack.

export const ITEM_STATUSES = [
  'queued',
  'changing',
  'checking',
  'rotated',
  'failed',
  'skipped',
] as const satisfies readonly RotationItemStatus[];
export type ItemStatus = RotationItemStatus;

export const ITEM_STATUS_LABELS: Record<ItemStatus, string> = {
  queued: 'Queued',
  changing: 'Changing',
  checking: 'Checking',
  rotated: 'Rotated',
  failed: 'Failed',
  skipped: 'Skipped',
};

export const ITEM_STATUS_HINTS: Record<ItemStatus, string> = {
  queued: 'waiting for its wave',
  changing: 'the agent is changing the password',
  checking: 'outcome unknown: both passwords are being tested; both stay in the vault',
  rotated: 'new password proven to work, old one proven to fail',
  failed: 'not changed; the old password is still the vaulted one',
  skipped: 'not rotated, for the reason shown',
};

export const JOB_STATUS_LABELS: Record<RotationJobStatus, string> = {
  running: 'Running',
  paused: 'Paused',
  stopped: 'Stopped',
  completed: 'Completed',
  cancelled: 'Cancelled',
};

export const ACCOUNT_LABELS: Record<string, string> = {
  admin: 'Administrator account',
  service: 'Custody service account',
  vms: 'VMS account',
};

/** Wave 0 is the canary batch. */
export function waveName(wave: number): string {
  return wave === 0 ? 'Canary' : `Wave ${wave}`;
}

export function countsDone(counts: Partial<Record<ItemStatus, number>>): number {
  return (counts.rotated ?? 0) + (counts.failed ?? 0) + (counts.skipped ?? 0);
}

export function countsTotal(counts: Partial<Record<ItemStatus, number>>): number {
  return ITEM_STATUSES.reduce((sum, status) => sum + (counts[status] ?? 0), 0);
}

/**
 * Who may start and steer a rotation, by the kind of organisation running it (as the server's
 * rotation-access.ts decides): an integrator's admins, an owner's approvers.
 */
export const ROTATION_ROLE_BY_KIND: Record<OrgKind, Role> = {
  integrator: 'integrator-admin',
  owner: 'owner-approver',
};

/** The organisations a signed-in user may run rotations for. */
export function rotationOrgsOf(
  memberships: readonly { orgId: string; orgName: string; orgKind: OrgKind; role: Role }[],
): { orgId: string; orgName: string }[] {
  const orgs = new Map<string, { orgId: string; orgName: string }>();
  for (const membership of memberships) {
    if (membership.role === ROTATION_ROLE_BY_KIND[membership.orgKind]) {
      orgs.set(membership.orgId, { orgId: membership.orgId, orgName: membership.orgName });
    }
  }
  return [...orgs.values()];
}
