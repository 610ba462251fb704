import { describe, expect, it } from 'vitest';
import { COMMAND_STATUSES, CommandSchema } from './command.ts';

const COMMAND = {
  id: '00000000-0000-4000-8000-000000000001',
  agentId: '00000000-0000-4000-8000-000000000002',
  serial: 'accc8e012345',
  verb: 'verify',
  status: 'queued',
  createdAt: '2025-06-01T09:00:00Z',
};
const APPROVAL = '00000000-0000-4000-8000-000000000003';

describe('CommandSchema', () => {
  it('accepts a non-destructive command without an approval', () => {
    expect(CommandSchema.parse(COMMAND)).toEqual({
      ...COMMAND,
      serial: 'ACCC8E012345',
      params: {},
      approvalId: null,
      createdAt: new Date('2025-06-01T09:00:00Z'),
    });
  });

  it.each(['factory-default-soft', 'factory-default-hard'])(
    'refuses the destructive verb %s without an approval',
    (verb) => {
      const result = CommandSchema.safeParse({ ...COMMAND, verb });
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]).toMatchObject({
        path: ['approvalId'],
        message: 'A destructive command must reference an approval.',
      });
      expect(CommandSchema.safeParse({ ...COMMAND, verb, approvalId: APPROVAL }).success).toBe(
        true,
      );
    },
  );

  it('accepts each status and rejects unknown ones', () => {
    for (const status of COMMAND_STATUSES) {
      expect(CommandSchema.safeParse({ ...COMMAND, status }).success).toBe(true);
    }
    expect(CommandSchema.safeParse({ ...COMMAND, status: 'running' }).success).toBe(false);
  });
});
