import { describe, expect, it } from 'vitest';
import {
  APPROVAL_DECISIONS,
  ApprovalDecisionSchema,
  ApprovalRequestSchema,
  ExecutableGrantSchema,
} from './approval.ts';

const id = (n: number): string => `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`;

const REQUEST = {
  id: id(1),
  serial: 'accc8e-012345',
  verb: 'factory-default-soft',
  siteId: id(2),
  agentId: id(3),
  requestedBy: id(4),
  requestedAt: '2025-06-01T09:00:00Z',
  reason: ' Inherited camera, admin password unknown. ',
};

describe('ApprovalRequestSchema', () => {
  it('binds a request to a canonical serial, a verb, a site and an agent', () => {
    expect(ApprovalRequestSchema.parse(REQUEST)).toEqual({
      ...REQUEST,
      serial: 'ACCC8E012345',
      requestedAt: new Date('2025-06-01T09:00:00Z'),
      reason: 'Inherited camera, admin password unknown.',
    });
  });

  it('requires a reason and a known verb', () => {
    const blank = ApprovalRequestSchema.safeParse({ ...REQUEST, reason: '   ' });
    expect(blank.success).toBe(false);
    expect(blank.error?.issues[0]?.message).toBe('A reason is required.');
    expect(ApprovalRequestSchema.safeParse({ ...REQUEST, verb: 'wipe' }).success).toBe(false);
    const { agentId: _omitted, ...withoutAgent } = REQUEST;
    expect(ApprovalRequestSchema.safeParse(withoutAgent).success).toBe(false);
  });
});

describe('ApprovalDecisionSchema', () => {
  const DECISION = {
    requestId: id(1),
    approverId: id(5),
    decision: 'approve',
    decidedAt: '2025-06-01T09:10:00Z',
  };

  it('accepts approve and deny, with an optional comment', () => {
    expect(APPROVAL_DECISIONS).toEqual(['approve', 'deny']);
    expect(ApprovalDecisionSchema.parse(DECISION).comment).toBe('');
    expect(
      ApprovalDecisionSchema.parse({ ...DECISION, decision: 'deny', comment: 'No.' }),
    ).toMatchObject({
      decision: 'deny',
      comment: 'No.',
    });
    expect(ApprovalDecisionSchema.safeParse({ ...DECISION, decision: 'abstain' }).success).toBe(
      false,
    );
  });
});

describe('ExecutableGrantSchema', () => {
  const GRANT = {
    requestId: id(1),
    serial: 'ACCC8E012345',
    verb: 'factory-default-soft',
    siteId: id(2),
    agentId: id(3),
    approvedBy: [id(5)],
    issuedAt: '2025-06-01T09:10:00Z',
    expiresAt: '2025-06-01T09:25:00Z',
    usedAt: null,
  };

  it('accepts an unused grant and a used one', () => {
    expect(ExecutableGrantSchema.safeParse(GRANT).success).toBe(true);
    expect(
      ExecutableGrantSchema.parse({ ...GRANT, usedAt: '2025-06-01T09:12:00Z' }).usedAt,
    ).toEqual(new Date('2025-06-01T09:12:00Z'));
  });

  it('needs at least one approver', () => {
    expect(ExecutableGrantSchema.safeParse({ ...GRANT, approvedBy: [] }).success).toBe(false);
  });
});
