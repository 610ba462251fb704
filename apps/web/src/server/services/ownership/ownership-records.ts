import {
  DomainError,
  EVIDENCE_KINDS,
  OWNERSHIP_CIRCUMSTANCES,
  type EvidenceKind,
} from '@custody/core';
import type { Database } from '@custody/db';
import {
  cameras,
  documents,
  organisations,
  ownershipEvidence,
  ownershipRecords,
  users,
} from '@custody/db/schema';
import { and, asc, desc, eq, inArray, isNull } from 'drizzle-orm';
import { z } from 'zod';
import { hasRoleIn, requireRoleIn } from '../access.ts';
import type { Actor } from '../actor.ts';
import { appendAuditEvent } from '../audit-log.ts';
import { applyCaseEvent, findOpenCase } from '../cases/case-store.ts';
import type { Executor } from '../executor.ts';
import { requireAccessibleCamera, type ScopedCamera } from './camera-scope.ts';
import type { DocumentView } from './evidence-documents.ts';

export const MAX_EVIDENCE_ITEMS = 10;

export const OwnershipEvidenceInputSchema = z
  .object({
    kind: z.enum(EVIDENCE_KINDS),
    reference: z.string().trim().min(1, 'Say what the evidence is.').max(500),
    documentId: z.uuid().optional(),
  })
  .refine((item) => item.kind !== 'document' || item.documentId !== undefined, {
    message: 'A document needs its uploaded file.',
    path: ['documentId'],
  });

export const RecordOwnershipInputSchema = z.object({
  serial: z.string(),
  circumstance: z.enum(OWNERSHIP_CIRCUMSTANCES),
  evidence: z
    .array(OwnershipEvidenceInputSchema)
    .min(1, 'Ownership needs at least one piece of evidence.')
    .max(MAX_EVIDENCE_ITEMS),
});
export type RecordOwnershipInput = z.infer<typeof RecordOwnershipInputSchema>;

export interface EvidenceView {
  id: string;
  kind: EvidenceKind;
  reference: string;
  document: DocumentView | null;
}

export interface OwnershipRecordView {
  id: string;
  serial: string;
  ownerOrgId: string;
  ownerName: string;
  circumstance: string;
  attestedBy: { id: string; name: string };
  attestedAt: Date;
  supersededAt: Date | null;
  current: boolean;
  evidence: EvidenceView[];
}

export interface OwnershipHistory {
  camera: {
    serial: string;
    model: string | null;
    site: { id: string; name: string; ownerOrgId: string; ownerName: string };
  };
  /** Whether the actor may record ownership here (an owner approver of the site's owner). */
  canRecord: boolean;
  /** Newest first; the current record, if any, is the one with `current`. */
  records: OwnershipRecordView[];
}

async function evidenceOf(db: Executor, recordIds: string[]): Promise<Map<string, EvidenceView[]>> {
  const byRecord = new Map<string, EvidenceView[]>();
  if (recordIds.length === 0) return byRecord;
  const rows = await db
    .select({
      id: ownershipEvidence.id,
      recordId: ownershipEvidence.recordId,
      kind: ownershipEvidence.kind,
      reference: ownershipEvidence.reference,
      document: {
        id: documents.id,
        filename: documents.filename,
        mediaType: documents.mediaType,
        sizeBytes: documents.sizeBytes,
        sha256: documents.sha256,
        uploadedAt: documents.uploadedAt,
      },
    })
    .from(ownershipEvidence)
    .leftJoin(documents, eq(documents.id, ownershipEvidence.documentId))
    .where(inArray(ownershipEvidence.recordId, recordIds))
    .orderBy(asc(ownershipEvidence.reference), asc(ownershipEvidence.id));
  for (const row of rows) {
    const list = byRecord.get(row.recordId) ?? [];
    list.push({ id: row.id, kind: row.kind, reference: row.reference, document: row.document });
    byRecord.set(row.recordId, list);
  }
  return byRecord;
}

/** Every ownership record of a serial, newest first, with its evidence. No tenancy check. */
export async function listOwnershipRecords(
  db: Executor,
  serial: string,
): Promise<OwnershipRecordView[]> {
  const rows = await db
    .select({
      record: ownershipRecords,
      ownerName: organisations.name,
      attestedByName: users.name,
    })
    .from(ownershipRecords)
    .innerJoin(organisations, eq(organisations.id, ownershipRecords.ownerOrgId))
    .innerJoin(users, eq(users.id, ownershipRecords.attestedBy))
    .where(eq(ownershipRecords.serial, serial))
    .orderBy(desc(ownershipRecords.attestedAt), desc(ownershipRecords.id));
  const evidence = await evidenceOf(
    db,
    rows.map((row) => row.record.id),
  );
  return rows.map(({ record, ownerName, attestedByName }) => ({
    id: record.id,
    serial: record.serial,
    ownerOrgId: record.ownerOrgId,
    ownerName,
    circumstance: record.circumstances,
    attestedBy: { id: record.attestedBy, name: attestedByName },
    attestedAt: record.attestedAt,
    supersededAt: record.supersededAt,
    current: record.supersededAt === null,
    evidence: evidence.get(record.id) ?? [],
  }));
}

/**
 * The serial's current ownership record if it is held by `ownerOrgId` (the camera's site owner):
 * a record for another organisation, left from before the camera moved, does not count.
 */
export async function findCurrentOwnership(
  db: Executor,
  serial: string,
  ownerOrgId: string,
): Promise<OwnershipRecordView | null> {
  const records = await listOwnershipRecords(db, serial);
  return records.find((record) => record.current && record.ownerOrgId === ownerOrgId) ?? null;
}

export async function getOwnershipHistory(
  db: Database,
  actor: Actor,
  serial: string,
): Promise<OwnershipHistory> {
  const camera = await requireAccessibleCamera(db, actor, serial);
  return {
    camera: {
      serial: camera.serial,
      model: camera.model,
      site: {
        id: camera.site.id,
        name: camera.site.name,
        ownerOrgId: camera.site.ownerOrgId,
        ownerName: camera.site.ownerName,
      },
    },
    canRecord: hasRoleIn(actor, camera.site.ownerOrgId, ['owner-approver']),
    records: await listOwnershipRecords(db, camera.serial),
  };
}

async function checkDocuments(
  tx: Executor,
  camera: ScopedCamera,
  documentIds: string[],
): Promise<Map<string, { sha256: string }>> {
  const found = new Map<string, { sha256: string }>();
  if (documentIds.length === 0) return found;
  const rows = await tx
    .select({ id: documents.id, orgId: documents.orgId, sha256: documents.sha256 })
    .from(documents)
    .where(inArray(documents.id, documentIds));
  for (const row of rows) {
    if (row.orgId === camera.site.ownerOrgId) found.set(row.id, { sha256: row.sha256 });
  }
  const missing = documentIds.filter((id) => !found.has(id));
  if (missing.length > 0) {
    throw new DomainError(
      'invalid-input',
      "A document named as evidence was not uploaded for this camera's owner.",
      { details: { field: 'evidence', documentIds: missing } },
    );
  }
  return found;
}

/**
 * An owner approver of the camera's site owner attests who owns the camera and on what evidence.
 * The previous current record is superseded, never deleted. If the camera has an open case that
 * waits for ownership, the case moves on in the same transaction.
 */
export async function recordOwnership(
  db: Database,
  actor: Actor,
  input: RecordOwnershipInput,
): Promise<OwnershipRecordView> {
  const camera = await requireAccessibleCamera(db, actor, input.serial);
  requireRoleIn(
    actor,
    camera.site.ownerOrgId,
    ['owner-approver'],
    "attest the ownership of this site's cameras",
  );
  const ownerOrgId = camera.site.ownerOrgId;
  const recordId = await db.transaction(async (tx) => {
    // One writer per serial: the camera row is the lock, the partial unique index the backstop.
    await tx
      .select({ serial: cameras.serial })
      .from(cameras)
      .where(eq(cameras.serial, camera.serial))
      .for('update');
    const docs = await checkDocuments(tx, camera, [
      ...new Set(input.evidence.flatMap((item) => (item.documentId ? [item.documentId] : []))),
    ]);
    const now = new Date();
    const superseded = await tx
      .update(ownershipRecords)
      .set({ supersededAt: now })
      .where(and(eq(ownershipRecords.serial, camera.serial), isNull(ownershipRecords.supersededAt)))
      .returning({ id: ownershipRecords.id });
    const [record] = await tx
      .insert(ownershipRecords)
      .values({
        serial: camera.serial,
        ownerOrgId,
        circumstances: input.circumstance,
        attestedBy: actor.userId,
        attestedAt: now,
      })
      .returning({ id: ownershipRecords.id });
    if (!record) throw new Error('the ownership insert returned no row');
    await tx.insert(ownershipEvidence).values(
      input.evidence.map((item) => ({
        recordId: record.id,
        kind: item.kind,
        reference: item.reference,
        documentId: item.documentId ?? null,
      })),
    );
    await appendAuditEvent(tx, {
      orgId: ownerOrgId,
      siteId: camera.site.id,
      actor: { kind: 'user', id: actor.userId },
      action: 'ownership.recorded',
      subject: { kind: 'ownership-record', id: record.id },
      data: {
        serial: camera.serial,
        ownerOrgId,
        circumstance: input.circumstance,
        evidence: input.evidence.map((item) => ({
          kind: item.kind,
          reference: item.reference,
          ...(item.documentId
            ? { documentId: item.documentId, sha256: docs.get(item.documentId)?.sha256 ?? null }
            : {}),
        })),
        supersedes: superseded.map((row) => row.id),
      },
    });
    await advanceWaitingCase(tx, actor, camera, record.id);
    return record.id;
  });
  const records = await listOwnershipRecords(db, camera.serial);
  const created = records.find((record) => record.id === recordId);
  if (!created) throw new Error('the recorded ownership is not readable');
  return created;
}

/** An open case waiting for ownership (awaiting it, or a recommission fresh from triage). */
async function advanceWaitingCase(
  tx: Executor,
  actor: Actor,
  camera: ScopedCamera,
  recordId: string,
): Promise<void> {
  const open = await findOpenCase(tx, camera.serial);
  if (open === null) return;
  const waiting =
    open.state.status === 'awaiting-ownership' ||
    (open.state.status === 'triaged' && open.state.path === 'recommission');
  if (!waiting) return;
  await applyCaseEvent(tx, {
    caseId: open.id,
    event: { type: 'ownership-recorded', ownershipRecordId: recordId },
    actor: { kind: 'user', id: actor.userId },
    orgId: camera.site.ownerOrgId,
    details: (details) => ({ ...details, ownershipRecordId: recordId }),
  });
}
