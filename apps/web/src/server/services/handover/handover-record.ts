import { DomainError, TERMINAL_CASE_STATES, type CasePath, type CaseStatus } from '@custody/core';
import type { Database } from '@custody/db';
import {
  approvalRequests,
  auditEvents,
  cameras,
  cases,
  credentials,
  documents,
  organisations,
  ownershipRecords,
  sites,
  users,
  verifications,
} from '@custody/db/schema';
import { and, asc, desc, eq, inArray, or, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { accessibleSitesCondition, requireAccessibleSite } from '../access.ts';
import type { Actor } from '../actor.ts';
import { appendAuditEvent } from '../audit-log.ts';
import { loadApprovalRequestViews } from '../approvals/approval-views.ts';
import { requireCaseWork, requireVisibleCase } from '../cases/case-access.ts';
import { applyCaseEvent, toCaseRecord, type CaseRecord } from '../cases/case-store.ts';
import type { Executor } from '../executor.ts';
import { findCurrentOwnership } from '../ownership/ownership-records.ts';

/**
 * What a handover states about one case: the camera, its owner and the evidence for it, where
 * the new credentials are kept (a reference: id, version and username, never a password), the
 * VMS, the proof it works, the approvals and the full audited timeline. One shape feeds the
 * page and the PDF, CSV and JSON exports.
 */
export interface HandoverRecord {
  generatedAt: Date;
  case: {
    id: string;
    status: CaseStatus;
    /** The case's path, or triage's verdict ("blocked") before one was taken. */
    path: CasePath | 'blocked' | null;
    openedAt: Date;
    openedBy: string;
    updatedAt: Date;
    /** Set once the technician has confirmed the handover (the case is documented). */
    handedOver: { by: string; at: Date } | null;
  };
  camera: {
    serial: string;
    mac: string | null;
    model: string | null;
    productName: string | null;
    firmware: string | null;
    address: string | null;
    /** The static address of the recommission plan, or "DHCP". */
    plannedAddress: string | null;
  };
  site: { id: string; name: string; address: string };
  owner: {
    orgId: string;
    name: string;
    record: {
      id: string;
      circumstance: string;
      attestedBy: string;
      attestedAt: Date;
      evidence: {
        kind: string;
        reference: string;
        document: { id: string; filename: string; mediaType: string; sha256: string } | null;
      }[];
    } | null;
  };
  credentials: {
    account: string;
    credentialId: string;
    version: number;
    username: string;
    status: string;
    createdAt: Date;
  }[];
  vms: {
    platform: string | null;
    username: string | null;
    confirmation: { platform: string; note: string; confirmedBy: string; confirmedAt: Date } | null;
  };
  verification: {
    id: string;
    passed: boolean;
    at: Date;
    checks: { kind: string; outcome: string; summary: string }[];
    snapshot: { documentId: string; sha256: string; sizeBytes: number } | null;
    recordingAttestation: { statement: string; attestedBy: string; attestedAt: Date } | null;
  } | null;
  approvals: {
    requestId: string;
    verb: string;
    reason: string;
    status: string;
    requestedBy: string;
    requestedAt: Date;
    decisions: { approver: string; decision: string; reason: string; decidedAt: Date }[];
    grant: { id: string; issuedAt: Date; expiresAt: Date; usedAt: Date | null } | null;
  }[];
  resets: { method: string; startedAt: Date; startedBy: string; observation: string | null }[];
  /** Every audit event about the case, its approvals, its credentials and its ownership, oldest first. */
  timeline: {
    seq: number;
    at: Date;
    actor: string;
    action: string;
    subject: string;
    detail: string;
  }[];
}

const HandoverDetailsSchema = z.object({
  confirmedBy: z.object({ id: z.string(), name: z.string() }),
  confirmedAt: z.iso.datetime({ offset: true }),
  note: z.string().default(''),
});

const CheckSchema = z.looseObject({
  kind: z.string(),
  outcome: z.string(),
  summary: z.string().default(''),
});

function parseChecks(value: unknown): { kind: string; outcome: string; summary: string }[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item) => {
    const parsed = CheckSchema.safeParse(item);
    return parsed.success
      ? [{ kind: parsed.data.kind, outcome: parsed.data.outcome, summary: parsed.data.summary }]
      : [];
  });
}

/** A one-line, secret-free rendering of an audit event's scalar data. */
function detailOf(data: Record<string, unknown>): string {
  return Object.entries(data)
    .filter(([, value]) => ['string', 'number', 'boolean'].includes(typeof value))
    .map(([key, value]) => `${key}: ${String(value)}`)
    .join('; ')
    .slice(0, 500);
}

async function userNames(db: Executor, ids: readonly string[]): Promise<Map<string, string>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const rows = await db
    .select({ id: users.id, name: users.name })
    .from(users)
    .where(inArray(users.id, unique));
  return new Map(rows.map((row) => [row.id, row.name]));
}

async function credentialRefs(db: Executor, record: CaseRecord) {
  const ids = [
    record.details.credentials.admin,
    record.details.credentials.service,
    record.details.credentials.vms,
  ].filter((id): id is string => id !== null);
  const columns = {
    id: credentials.id,
    account: credentials.account,
    username: credentials.username,
    version: credentials.version,
    status: credentials.status,
    createdAt: credentials.createdAt,
  };
  // The case's own credentials when it made some; otherwise what the vault holds active.
  const rows =
    ids.length > 0
      ? await db.select(columns).from(credentials).where(inArray(credentials.id, ids))
      : await db
          .select(columns)
          .from(credentials)
          .where(and(eq(credentials.serial, record.serial), eq(credentials.status, 'active')));
  const order = ['admin', 'service', 'vms'];
  return rows
    .sort((a, b) => order.indexOf(a.account) - order.indexOf(b.account))
    .map((row) => ({
      account: row.account,
      credentialId: row.id,
      version: row.version,
      username: row.username,
      status: row.status,
      createdAt: row.createdAt,
    }));
}

function plannedAddressOf(
  network: { mode: 'dhcp' } | { mode: 'static'; address: string } | null,
): string | null {
  if (network === null) return null;
  return network.mode === 'static' ? network.address : 'DHCP';
}

async function buildRecord(
  db: Database,
  actor: Actor,
  record: CaseRecord,
  site: { id: string; name: string; address: string; ownerOrgId: string; ownerName: string },
): Promise<HandoverRecord> {
  const { details } = record;
  const [camera] = await db.select().from(cameras).where(eq(cameras.serial, record.serial));
  const ownership = await findCurrentOwnership(db, record.serial, site.ownerOrgId);
  const credentialList = await credentialRefs(db, record);
  const approvals = await loadApprovalRequestViews(
    db,
    actor,
    eq(approvalRequests.caseId, record.id),
  );
  const [verification] = await db
    .select({
      row: verifications,
      snapshotSha256: documents.sha256,
      snapshotSize: documents.sizeBytes,
    })
    .from(verifications)
    .leftJoin(documents, eq(documents.id, verifications.snapshotDocumentId))
    .where(eq(verifications.caseId, record.id))
    .orderBy(desc(verifications.createdAt))
    .limit(1);

  const ownershipIds = (
    await db
      .select({ id: ownershipRecords.id })
      .from(ownershipRecords)
      .where(
        and(
          eq(ownershipRecords.serial, record.serial),
          eq(ownershipRecords.ownerOrgId, site.ownerOrgId),
        ),
      )
  ).map((row) => row.id);
  const subjects: SQL[] = [
    and(eq(auditEvents.subjectType, 'case'), eq(auditEvents.subjectId, record.id)) as SQL,
  ];
  const bySubject = (kind: string, ids: string[]) => {
    if (ids.length > 0) {
      subjects.push(
        and(eq(auditEvents.subjectType, kind), inArray(auditEvents.subjectId, ids)) as SQL,
      );
    }
  };
  bySubject(
    'approval-request',
    approvals.map((request) => request.id),
  );
  bySubject(
    'approval-grant',
    approvals.flatMap((request) => (request.grant ? [request.grant.id] : [])),
  );
  bySubject(
    'credential',
    credentialList.map((credential) => credential.credentialId),
  );
  bySubject('ownership-record', ownershipIds);
  const events = await db
    .select()
    .from(auditEvents)
    .where(or(...subjects))
    .orderBy(asc(auditEvents.seq))
    .limit(2_000);
  const names = await userNames(db, [
    record.openedBy,
    ...events.flatMap((event) => (event.actorId ? [event.actorId] : [])),
  ]);
  const actorName = (event: (typeof events)[number]): string => {
    if (event.actorId) return names.get(event.actorId) ?? 'a user';
    const kind = (event.payload as { actor?: { kind?: string } }).actor?.kind;
    return kind === 'agent' ? 'agent' : 'Custody';
  };

  const handover = HandoverDetailsSchema.safeParse(details.handover);
  const plan = details.plan;
  return {
    generatedAt: new Date(),
    case: {
      id: record.id,
      status: record.status,
      path: 'path' in record.state ? record.state.path : (details.triage?.path ?? null),
      openedAt: record.openedAt,
      openedBy: names.get(record.openedBy) ?? 'a user',
      updatedAt: record.updatedAt,
      handedOver: handover.success
        ? { by: handover.data.confirmedBy.name, at: new Date(handover.data.confirmedAt) }
        : null,
    },
    camera: {
      serial: record.serial,
      mac: camera?.mac ?? null,
      model: camera?.model ?? null,
      productName: camera?.productName ?? null,
      firmware: camera?.firmware ?? null,
      address: camera?.address ?? null,
      plannedAddress: plannedAddressOf(plan?.network ?? null),
    },
    site: { id: site.id, name: site.name, address: site.address },
    owner: {
      orgId: site.ownerOrgId,
      name: site.ownerName,
      record:
        ownership === null
          ? null
          : {
              id: ownership.id,
              circumstance: ownership.circumstance,
              attestedBy: ownership.attestedBy.name,
              attestedAt: ownership.attestedAt,
              evidence: ownership.evidence.map((item) => ({
                kind: item.kind,
                reference: item.reference,
                document: item.document
                  ? {
                      id: item.document.id,
                      filename: item.document.filename,
                      mediaType: item.document.mediaType,
                      sha256: item.document.sha256,
                    }
                  : null,
              })),
            },
    },
    credentials: credentialList,
    vms: {
      platform: details.vmsConfirmation?.platform ?? plan?.vms?.platform ?? null,
      username: plan?.vmsUsername ?? null,
      confirmation: details.vmsConfirmation
        ? {
            platform: details.vmsConfirmation.platform,
            note: details.vmsConfirmation.note,
            confirmedBy: details.vmsConfirmation.confirmedBy.name ?? 'a user',
            confirmedAt: new Date(details.vmsConfirmation.confirmedAt),
          }
        : null,
    },
    verification:
      verification === undefined
        ? null
        : {
            id: verification.row.id,
            passed: verification.row.passed,
            at: verification.row.createdAt,
            checks: parseChecks(verification.row.checks),
            snapshot:
              verification.row.snapshotDocumentId && verification.snapshotSha256
                ? {
                    documentId: verification.row.snapshotDocumentId,
                    sha256: verification.snapshotSha256,
                    sizeBytes: verification.snapshotSize ?? 0,
                  }
                : null,
            recordingAttestation: details.recordingAttestation
              ? {
                  statement: details.recordingAttestation.statement,
                  attestedBy: details.recordingAttestation.attestedBy.name ?? 'a user',
                  attestedAt: new Date(details.recordingAttestation.attestedAt),
                }
              : null,
          },
    approvals: approvals.map((request) => ({
      requestId: request.id,
      verb: request.verb,
      reason: request.reason,
      status: request.status,
      requestedBy: request.requestedBy.name,
      requestedAt: request.requestedAt,
      decisions: request.decisions.map((decision) => ({
        approver: decision.approverName,
        decision: decision.decision,
        reason: decision.reason,
        decidedAt: decision.decidedAt,
      })),
      grant: request.grant
        ? {
            id: request.grant.id,
            issuedAt: request.grant.issuedAt,
            expiresAt: request.grant.expiresAt,
            usedAt: request.grant.usedAt,
          }
        : null,
    })),
    resets: details.resetAttempts.map((attempt) => ({
      method: attempt.method,
      startedAt: new Date(attempt.startedAt),
      startedBy: attempt.startedBy.name ?? 'a user',
      observation: attempt.observation,
    })),
    timeline: events.map((event) => ({
      seq: event.seq,
      at: event.at,
      actor: actorName(event),
      action: event.action,
      subject: `${event.subjectType}:${event.subjectId}`,
      detail: detailOf((event.payload as { data?: Record<string, unknown> }).data ?? {}),
    })),
  };
}

async function siteWithOwner(db: Database, siteId: string) {
  const [row] = await db
    .select({
      id: sites.id,
      name: sites.name,
      address: sites.address,
      ownerOrgId: sites.ownerOrgId,
      ownerName: organisations.name,
    })
    .from(sites)
    .innerJoin(organisations, eq(organisations.id, sites.ownerOrgId))
    .where(eq(sites.id, siteId));
  if (!row) throw new DomainError('not-found', 'No such site.', { details: { siteId } });
  return row;
}

/** The handover record of one case the actor may see. */
export async function getHandover(
  db: Database,
  actor: Actor,
  caseId: string,
): Promise<HandoverRecord> {
  const { record } = await requireVisibleCase(db, actor, caseId);
  return buildRecord(db, actor, record, await siteWithOwner(db, record.siteId));
}

/** The statuses a site export includes by default: cases that reached verification. */
export const HANDOVER_EXPORT_STATUSES = ['verified', 'documented'] as const;
export const MAX_SITE_HANDOVERS = 500;

/**
 * The handover records of a site's cases, newest first: verified and documented ones unless
 * `statuses` says otherwise.
 */
export async function listSiteHandovers(
  db: Database,
  actor: Actor,
  siteId: string,
  statuses: readonly string[] = HANDOVER_EXPORT_STATUSES,
): Promise<{ site: { id: string; name: string }; records: HandoverRecord[] }> {
  await requireAccessibleSite(db, actor, siteId);
  const site = await siteWithOwner(db, siteId);
  const rows = await db
    .select({ row: cases })
    .from(cases)
    .innerJoin(sites, eq(sites.id, cases.siteId))
    .where(
      and(
        eq(cases.siteId, siteId),
        inArray(cases.status, [...statuses]),
        accessibleSitesCondition(db, actor),
      ),
    )
    .orderBy(desc(cases.updatedAt))
    .limit(MAX_SITE_HANDOVERS);
  const records: HandoverRecord[] = [];
  for (const { row } of rows) {
    records.push(await buildRecord(db, actor, toCaseRecord(row), site));
  }
  return { site: { id: site.id, name: site.name }, records };
}

export const ConfirmHandoverInputSchema = z.object({
  caseId: z.uuid(),
  note: z.string().trim().max(2000).default(''),
  expectedRevision: z.int().min(0).optional(),
});
export type ConfirmHandoverInput = z.input<typeof ConfirmHandoverInputSchema>;

/**
 * The technician confirms the handover of a verified case: the case becomes documented, with who
 * confirmed it and when kept in its details. Refused (invalid-transition) unless the case is
 * verified.
 */
export async function confirmHandover(
  db: Database,
  actor: Actor,
  input: ConfirmHandoverInput,
): Promise<HandoverRecord> {
  const parsed = ConfirmHandoverInputSchema.parse(input);
  const work = await requireCaseWork(db, actor, parsed.caseId, 'confirm the handover');
  if (work.record.status !== 'verified') {
    throw new DomainError(
      'invalid-transition',
      (TERMINAL_CASE_STATES as readonly string[]).includes(work.record.status)
        ? `The case is already ${work.record.status}.`
        : `Only a verified case can be handed over; this one is ${work.record.status}.`,
      { details: { from: work.record.status, event: 'documented' } },
    );
  }
  await db.transaction(async (tx) => {
    const confirmedAt = new Date().toISOString();
    const record = await applyCaseEvent(tx, {
      caseId: parsed.caseId,
      event: { type: 'documented' },
      actor: { kind: 'user', id: actor.userId },
      orgId: work.orgId,
      expectedRevision: parsed.expectedRevision,
      details: (current) => ({
        ...current,
        handover: {
          confirmedBy: { id: actor.userId, name: actor.name },
          confirmedAt,
          note: parsed.note,
        },
      }),
    });
    await appendAuditEvent(tx, {
      orgId: work.orgId,
      siteId: record.siteId,
      actor: { kind: 'user', id: actor.userId },
      action: 'handover.confirmed',
      subject: { kind: 'case', id: record.id },
      data: { serial: record.serial, note: parsed.note },
    });
  });
  return getHandover(db, actor, parsed.caseId);
}

/** Records that an export left Custody: what, in which format, by whom. */
export async function auditHandoverExport(
  db: Database,
  actor: Actor,
  input: { siteId: string; caseIds: string[]; format: string; scope: 'case' | 'site' },
): Promise<void> {
  await db.transaction((tx) =>
    appendAuditEvent(tx, {
      orgId: null,
      siteId: input.siteId,
      actor: { kind: 'user', id: actor.userId },
      action: 'handover.exported',
      subject:
        input.scope === 'case'
          ? { kind: 'case', id: input.caseIds[0] ?? input.siteId }
          : { kind: 'site', id: input.siteId },
      data: { format: input.format, cases: input.caseIds.length },
    }),
  );
}
