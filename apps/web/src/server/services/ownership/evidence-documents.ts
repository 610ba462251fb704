import { DomainError } from '@custody/core';
import type { Database } from '@custody/db';
import {
  cameras,
  cases,
  documents,
  ownershipEvidence,
  ownershipRecords,
  sites,
  verifications,
} from '@custody/db/schema';
import { and, eq, exists, inArray, or, sql } from 'drizzle-orm';
import { accessibleSitesCondition, orgIdsOf, requireRoleIn } from '../access.ts';
import type { Actor } from '../actor.ts';
import { appendAuditEvent } from '../audit-log.ts';
import { requireAccessibleCamera } from './camera-scope.ts';
import { checkEvidenceDocument } from './evidence-document.ts';

export interface DocumentView {
  id: string;
  filename: string;
  mediaType: string;
  sizeBytes: number;
  sha256: string;
  uploadedAt: Date;
}

/**
 * Stores an evidence document for a camera's ownership record, on behalf of the organisation that
 * owns the camera's site: only its owner approvers attest ownership, so only they upload. Checked
 * for size and type by content before anything is written. Audited with its hash.
 */
export async function storeEvidenceDocument(
  db: Database,
  actor: Actor,
  input: { serial: string; filename: string; declaredType: string; content: Uint8Array },
): Promise<DocumentView> {
  const camera = await requireAccessibleCamera(db, actor, input.serial);
  requireRoleIn(
    actor,
    camera.site.ownerOrgId,
    ['owner-approver'],
    'upload ownership evidence for this camera',
  );
  const checked = checkEvidenceDocument(input);
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(documents)
      .values({
        orgId: camera.site.ownerOrgId,
        filename: checked.filename,
        mediaType: checked.mediaType,
        sizeBytes: checked.sizeBytes,
        sha256: checked.sha256,
        content: checked.content,
        uploadedBy: actor.userId,
      })
      .returning({
        id: documents.id,
        filename: documents.filename,
        mediaType: documents.mediaType,
        sizeBytes: documents.sizeBytes,
        sha256: documents.sha256,
        uploadedAt: documents.uploadedAt,
      });
    if (!row) throw new Error('the document insert returned no row');
    await appendAuditEvent(tx, {
      orgId: camera.site.ownerOrgId,
      siteId: camera.site.id,
      actor: { kind: 'user', id: actor.userId },
      action: 'document.uploaded',
      subject: { kind: 'document', id: row.id },
      data: {
        serial: camera.serial,
        filename: row.filename,
        mediaType: row.mediaType,
        sizeBytes: row.sizeBytes,
        sha256: row.sha256,
      },
    });
    return row;
  });
}

export interface DocumentContent extends DocumentView {
  content: Uint8Array;
}

/**
 * A document the actor may read: evidence of an ownership record of a camera at one of its
 * sites, a verification snapshot of a case at one of its sites, or a document its own
 * organisation uploaded and has not attached yet. Anything else is reported as missing.
 */
export async function readDocument(
  db: Database,
  actor: Actor,
  documentId: string,
): Promise<DocumentContent> {
  const ownOrgIds = orgIdsOf(actor);
  const asEvidence = db
    .select({ one: sql`1` })
    .from(ownershipEvidence)
    .innerJoin(ownershipRecords, eq(ownershipRecords.id, ownershipEvidence.recordId))
    .innerJoin(cameras, eq(cameras.serial, ownershipRecords.serial))
    .innerJoin(sites, eq(sites.id, cameras.siteId))
    .where(
      and(eq(ownershipEvidence.documentId, documents.id), accessibleSitesCondition(db, actor)),
    );
  const asSnapshot = db
    .select({ one: sql`1` })
    .from(verifications)
    .innerJoin(cases, eq(cases.id, verifications.caseId))
    .innerJoin(sites, eq(sites.id, cases.siteId))
    .where(
      and(eq(verifications.snapshotDocumentId, documents.id), accessibleSitesCondition(db, actor)),
    );
  const [row] = await db
    .select()
    .from(documents)
    .where(
      and(
        eq(documents.id, documentId),
        or(
          exists(asEvidence),
          exists(asSnapshot),
          ownOrgIds.length > 0 ? inArray(documents.orgId, ownOrgIds) : undefined,
        ),
      ),
    );
  if (!row) throw new DomainError('not-found', 'No such document.', { details: { documentId } });
  return {
    id: row.id,
    filename: row.filename,
    mediaType: row.mediaType,
    sizeBytes: row.sizeBytes,
    sha256: row.sha256,
    uploadedAt: row.uploadedAt,
    content: row.content,
  };
}
