import { describe, expect, it } from 'vitest';
import { AuditEventContentSchema, AuditEventSchema, HashSchema } from './audit-event.ts';

const CONTENT = {
  at: '2025-06-01T09:00:00Z',
  actor: { kind: 'user', id: '00000000-0000-4000-8000-000000000001' },
  action: 'credential.revealed',
  subject: { kind: 'credential', id: '00000000-0000-4000-8000-000000000002' },
};
const HASH = 'a'.repeat(64);

describe('AuditEventContentSchema', () => {
  it('defaults the data and turns the time into a Date', () => {
    expect(AuditEventContentSchema.parse(CONTENT)).toEqual({
      ...CONTENT,
      at: new Date('2025-06-01T09:00:00Z'),
      data: {},
    });
  });

  it.each(['case.opened', 'case.transitioned', 'approval.grant.used', 'agent-link.lost'])(
    'accepts the dotted action %s',
    (action) => {
      expect(AuditEventContentSchema.safeParse({ ...CONTENT, action }).success).toBe(true);
    },
  );

  it.each(['opened', 'Case.Opened', 'case..opened', 'case.', '.case', 'case.1st'])(
    'rejects the action %j',
    (action) => {
      expect(AuditEventContentSchema.safeParse({ ...CONTENT, action }).success).toBe(false);
    },
  );

  it('rejects unknown actor kinds', () => {
    expect(
      AuditEventContentSchema.safeParse({ ...CONTENT, actor: { kind: 'robot', id: 'x' } }).success,
    ).toBe(false);
  });
});

describe('AuditEventSchema', () => {
  it('accepts lower-case SHA-256 hashes and a non-negative whole sequence number', () => {
    const event = { seq: 0, prevHash: '0'.repeat(64), hash: HASH, content: CONTENT };
    expect(AuditEventSchema.safeParse(event).success).toBe(true);
    expect(AuditEventSchema.safeParse({ ...event, seq: -1 }).success).toBe(false);
    expect(AuditEventSchema.safeParse({ ...event, seq: 1.5 }).success).toBe(false);
  });

  it('rejects hashes that are upper-case or the wrong length', () => {
    expect(HashSchema.safeParse(HASH).success).toBe(true);
    expect(HashSchema.safeParse(HASH.toUpperCase()).success).toBe(false);
    expect(HashSchema.safeParse(HASH.slice(1)).success).toBe(false);
    expect(HashSchema.safeParse(`${HASH}0`).success).toBe(false);
  });
});
