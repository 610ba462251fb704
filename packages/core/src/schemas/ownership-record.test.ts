import { describe, expect, it } from 'vitest';
import { EVIDENCE_KINDS, OwnershipRecordSchema } from './ownership-record.ts';

const RECORD = {
  id: '3f1c2a9e-8b4d-4c6e-9f00-1a2b3c4d5e6f',
  serial: 'B8A44F0A0B0C',
  ownerOrgId: '7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d',
  evidence: [{ kind: 'invoice', reference: 'INV-2023-0042' }],
  attestedBy: '7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5e',
  attestedAt: '2025-06-01T09:00:00Z',
  circumstance: 'inherited-from-another-installer',
};

describe('OwnershipRecordSchema', () => {
  it('accepts a record with evidence and defaults the notes', () => {
    expect(OwnershipRecordSchema.parse(RECORD)).toEqual({
      ...RECORD,
      attestedAt: new Date('2025-06-01T09:00:00Z'),
      notes: '',
    });
  });

  it('accepts every kind of evidence, optionally with a stored document', () => {
    expect(EVIDENCE_KINDS).toEqual(['order-number', 'invoice', 'document', 'other']);
    for (const kind of EVIDENCE_KINDS) {
      const evidence = [{ kind, reference: 'ref', documentId: RECORD.id }];
      expect(OwnershipRecordSchema.safeParse({ ...RECORD, evidence }).success).toBe(true);
    }
  });

  it('never accepts ownership without evidence, even for inherited cameras', () => {
    const result = OwnershipRecordSchema.safeParse({ ...RECORD, evidence: [] });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe(
      'Ownership needs at least one piece of evidence.',
    );
  });

  it('rejects evidence without a reference, unknown evidence kinds and circumstances', () => {
    const blank = [{ kind: 'invoice', reference: '  ' }];
    expect(OwnershipRecordSchema.safeParse({ ...RECORD, evidence: blank }).success).toBe(false);
    const hearsay = [{ kind: 'hearsay', reference: 'x' }];
    expect(OwnershipRecordSchema.safeParse({ ...RECORD, evidence: hearsay }).success).toBe(false);
    expect(OwnershipRecordSchema.safeParse({ ...RECORD, circumstance: 'found' }).success).toBe(
      false,
    );
  });
});
