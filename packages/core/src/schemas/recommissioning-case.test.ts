import { describe, expect, it } from 'vitest';
import { RecommissioningCaseSchema } from './recommissioning-case.ts';

const CASE = {
  id: '3f1c2a9e-8b4d-4c6e-9f00-1a2b3c4d5e6f',
  serial: '00408c123456',
  siteId: '7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d',
  openedBy: '7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5e',
  openedAt: '2025-06-01T09:00:00Z',
  state: { status: 'opened' },
  updatedAt: '2025-06-01T09:00:00Z',
};

describe('RecommissioningCaseSchema', () => {
  it('opens a case with no triage or ownership record yet', () => {
    expect(RecommissioningCaseSchema.parse(CASE)).toEqual({
      ...CASE,
      serial: '00408C123456',
      openedAt: new Date('2025-06-01T09:00:00Z'),
      updatedAt: new Date('2025-06-01T09:00:00Z'),
      triage: null,
      ownershipRecordId: null,
    });
  });

  it('keeps the triage decision with its reasons', () => {
    const triage = {
      path: 'recommission',
      resetRequired: true,
      reasons: ['Every known credential was rejected.'],
      decidedAt: '2025-06-01T09:05:00Z',
    };
    const parsed = RecommissioningCaseSchema.parse({
      ...CASE,
      state: { status: 'triaged', path: 'recommission', resetRequired: true },
      triage,
    });
    expect(parsed.triage).toEqual({ ...triage, decidedAt: new Date('2025-06-01T09:05:00Z') });
    expect(
      RecommissioningCaseSchema.safeParse({ ...CASE, triage: { ...triage, reasons: [] } }).success,
    ).toBe(false);
  });

  it('rejects a state the case machine does not know', () => {
    expect(
      RecommissioningCaseSchema.safeParse({ ...CASE, state: { status: 'limbo' } }).success,
    ).toBe(false);
    expect(
      RecommissioningCaseSchema.safeParse({ ...CASE, state: { status: 'triaged' } }).success,
    ).toBe(false);
  });
});
