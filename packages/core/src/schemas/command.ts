import { z } from 'zod';
import { CommandVerbSchema, isDestructiveVerb } from '../command-verb.ts';
import { SerialSchema } from '../serial.ts';
import { IdSchema, TimestampSchema } from './common.ts';

export const COMMAND_STATUSES = [
  'queued',
  'dispatched',
  'acknowledged',
  'succeeded',
  'failed',
  'cancelled',
  'expired',
] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number];

/** Commands are idempotent by id: an agent that sees an id twice replays its recorded outcome. */
export const CommandSchema = z
  .object({
    id: IdSchema,
    agentId: IdSchema,
    serial: SerialSchema,
    verb: CommandVerbSchema,
    params: z.record(z.string(), z.unknown()).default({}),
    approvalId: IdSchema.nullable().default(null),
    status: z.enum(COMMAND_STATUSES),
    createdAt: TimestampSchema,
  })
  .refine((command) => !isDestructiveVerb(command.verb) || command.approvalId !== null, {
    message: 'A destructive command must reference an approval.',
    path: ['approvalId'],
  });
export type Command = z.infer<typeof CommandSchema>;
