import { describe, expect, it } from 'vitest';
import {
  VERIFICATION_CHECK_KINDS,
  VerificationCheckSchema,
  VerificationSchema,
} from './verification.ts';

const CHECK = { kind: 'snapshot-is-jpeg', outcome: 'passed', checkedAt: '2025-06-01T09:00:00Z' };

describe('VerificationCheckSchema', () => {
  it('defaults the summary and the evidence', () => {
    expect(VerificationCheckSchema.parse(CHECK)).toEqual({
      ...CHECK,
      summary: '',
      evidence: {},
      checkedAt: new Date('2025-06-01T09:00:00Z'),
    });
  });

  it('accepts each check kind and rejects unknown kinds and outcomes', () => {
    expect(VERIFICATION_CHECK_KINDS).toHaveLength(7);
    for (const kind of VERIFICATION_CHECK_KINDS) {
      expect(VerificationCheckSchema.safeParse({ ...CHECK, kind }).success).toBe(true);
    }
    expect(VerificationCheckSchema.safeParse({ ...CHECK, kind: 'looks-fine' }).success).toBe(false);
    expect(VerificationCheckSchema.safeParse({ ...CHECK, outcome: 'maybe' }).success).toBe(false);
  });
});

describe('VerificationSchema', () => {
  it('starts with no checks and no completion time', () => {
    const verification = VerificationSchema.parse({
      id: '00000000-0000-4000-8000-000000000001',
      caseId: '00000000-0000-4000-8000-000000000002',
      serial: 'b8:a4:4f:00:00:01',
    });
    expect(verification).toMatchObject({ serial: 'B8A44F000001', checks: [], completedAt: null });
  });

  it('rejects a verification for an invalid serial', () => {
    expect(
      VerificationSchema.safeParse({
        id: '00000000-0000-4000-8000-000000000001',
        caseId: '00000000-0000-4000-8000-000000000002',
        serial: 'B8A44F',
      }).success,
    ).toBe(false);
  });
});
