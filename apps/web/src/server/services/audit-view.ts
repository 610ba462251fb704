import type { Role } from '@custody/core';
import type { Database } from '@custody/db';
import { organisations, sites, users } from '@custody/db/schema';
import { inArray } from 'drizzle-orm';
import { orgIdsOf } from './access.ts';
import type { Actor } from './actor.ts';
import {
  listAuditEvents,
  verifyAuditLog,
  type AuditChainReport,
  type AuditScope,
} from './audit-log.ts';

/** Roles that read their organisations' audit log; anyone else sees only their own events. */
export const AUDIT_READER_ROLES: readonly Role[] = [
  'integrator-admin',
  'owner-approver',
  'auditor',
];
export const AUDIT_PAGE_SIZE = 50;

export interface AuditEventView {
  seq: number;
  at: Date;
  actor: { kind: string; id: string; name: string | null };
  action: string;
  subject: { kind: string; id: string };
  data: Record<string, unknown>;
  org: { id: string; name: string } | null;
  site: { id: string; name: string } | null;
  hash: string;
}

export interface AuditPage {
  events: AuditEventView[];
  /** Pass as `beforeSeq` for the next (older) page; null on the last one. */
  nextBeforeSeq: number | null;
}

/**
 * What the actor may read of the audit log. Admins, owner approvers and auditors read the events
 * acted for their organisations; on the owner side also every event on their organisations'
 * sites, so an owner sees what integrators did there. Everyone reads their own events (a
 * technician sees nothing else), including failed sign-ins on their account.
 */
export async function auditScopeFor(db: Database, actor: Actor): Promise<AuditScope> {
  const orgIds = orgIdsOf(actor, { roles: AUDIT_READER_ROLES });
  const ownerOrgIds = orgIdsOf(actor, { roles: AUDIT_READER_ROLES, kind: 'owner' });
  const siteIds =
    ownerOrgIds.length === 0
      ? []
      : (
          await db
            .select({ id: sites.id })
            .from(sites)
            .where(inArray(sites.ownerOrgId, ownerOrgIds))
        ).map((site) => site.id);
  return { orgIds, siteIds, userIds: [actor.userId] };
}

async function namesById<T extends { id: string; name: string }>(
  rows: Promise<T[]>,
): Promise<Map<string, string>> {
  return new Map((await rows).map((row) => [row.id, row.name]));
}

/** One page of the events the actor may read, newest first, with names for the ids. */
export async function listAuditPage(
  db: Database,
  actor: Actor,
  input: {
    action?: string | undefined;
    subject?: { kind: string; id: string } | undefined;
    beforeSeq?: number | undefined;
    limit?: number | undefined;
  },
): Promise<AuditPage> {
  const limit = input.limit ?? AUDIT_PAGE_SIZE;
  const events = await listAuditEvents(db, {
    scope: await auditScopeFor(db, actor),
    action: input.action,
    subject: input.subject,
    beforeSeq: input.beforeSeq,
    limit: limit + 1,
  });
  const page = events.slice(0, limit);
  const userIds = [
    ...new Set(page.filter((e) => e.content.actor.kind === 'user').map((e) => e.content.actor.id)),
  ];
  const orgIds = [...new Set(page.flatMap((e) => (e.orgId === null ? [] : [e.orgId])))];
  const siteIds = [...new Set(page.flatMap((e) => (e.siteId === null ? [] : [e.siteId])))];
  const [userNames, orgNames, siteNames] = await Promise.all([
    userIds.length === 0
      ? new Map<string, string>()
      : namesById(
          db
            .select({ id: users.id, name: users.name })
            .from(users)
            .where(inArray(users.id, userIds)),
        ),
    orgIds.length === 0
      ? new Map<string, string>()
      : namesById(
          db
            .select({ id: organisations.id, name: organisations.name })
            .from(organisations)
            .where(inArray(organisations.id, orgIds)),
        ),
    siteIds.length === 0
      ? new Map<string, string>()
      : namesById(
          db
            .select({ id: sites.id, name: sites.name })
            .from(sites)
            .where(inArray(sites.id, siteIds)),
        ),
  ]);
  return {
    events: page.map((event) => {
      const { actor: who, action, subject, data, at } = event.content;
      return {
        seq: event.seq,
        at: new Date(at),
        actor: {
          kind: who.kind,
          id: who.id,
          name: who.kind === 'user' ? (userNames.get(who.id) ?? null) : null,
        },
        action,
        subject,
        data,
        org:
          event.orgId === null ? null : { id: event.orgId, name: orgNames.get(event.orgId) ?? '' },
        site:
          event.siteId === null
            ? null
            : { id: event.siteId, name: siteNames.get(event.siteId) ?? '' },
        hash: event.hash,
      };
    }),
    nextBeforeSeq: events.length > limit ? (page.at(-1)?.seq ?? null) : null,
  };
}

/** Recomputes the whole chain: one log for the installation, so its integrity is one answer. */
export function verifyAuditChainFor(db: Database): Promise<AuditChainReport> {
  return verifyAuditLog(db);
}
