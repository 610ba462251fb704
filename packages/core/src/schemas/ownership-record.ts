import { z } from 'zod';
import { SerialSchema } from '../serial.ts';
import { IdSchema, TimestampSchema } from './common.ts';

export const EVIDENCE_KINDS = ['order-number', 'invoice', 'document', 'other'] as const;
export type EvidenceKind = (typeof EVIDENCE_KINDS)[number];

/**
 * Inheriting cameras from another installer is the everyday reason for a case; it is recorded as
 * a circumstance alongside the evidence, never accepted in place of it.
 */
export const OWNERSHIP_CIRCUMSTANCES = [
  'original-purchase',
  'inherited-from-another-installer',
  'acquired-with-premises',
  'other',
] as const;
export type OwnershipCircumstance = (typeof OWNERSHIP_CIRCUMSTANCES)[number];

export const OwnershipEvidenceSchema = z.object({
  kind: z.enum(EVIDENCE_KINDS),
  reference: z.string().trim().min(1).max(500),
  documentId: IdSchema.optional(),
});
export type OwnershipEvidence = z.infer<typeof OwnershipEvidenceSchema>;

export const OwnershipRecordSchema = z.object({
  id: IdSchema,
  serial: SerialSchema,
  ownerOrgId: IdSchema,
  evidence: z
    .array(OwnershipEvidenceSchema)
    .min(1, 'Ownership needs at least one piece of evidence.'),
  attestedBy: IdSchema,
  attestedAt: TimestampSchema,
  circumstance: z.enum(OWNERSHIP_CIRCUMSTANCES),
  notes: z.string().trim().max(5000).default(''),
});
export type OwnershipRecord = z.infer<typeof OwnershipRecordSchema>;
