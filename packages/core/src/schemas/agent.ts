import { z } from 'zod';
import { IdSchema, TextSchema, TimestampSchema } from './common.ts';

export const AGENT_STATUSES = ['pending', 'online', 'offline', 'revoked'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

export const AgentSchema = z.object({
  id: IdSchema,
  siteId: IdSchema,
  name: TextSchema,
  /** The agent's public signing key, as sent at enrollment (PEM or base64 SPKI). */
  publicKey: z.string().trim().min(1).max(10_000),
  status: z.enum(AGENT_STATUSES),
  lastSeenAt: TimestampSchema.nullable(),
  version: z.string().trim().min(1).max(100).nullable(),
});
export type Agent = z.infer<typeof AgentSchema>;
