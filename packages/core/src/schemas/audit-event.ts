import { z } from 'zod';
import { TimestampSchema } from './common.ts';

export const ACTOR_KINDS = ['user', 'agent', 'system'] as const;
export type ActorKind = (typeof ACTOR_KINDS)[number];

export const HashSchema = z.string().regex(/^[0-9a-f]{64}$/, 'Expected a lower-case SHA-256 hex.');

/** The part of an audit event that is hashed. `data` must be canonical-JSON serialisable. */
export const AuditEventContentSchema = z.object({
  at: TimestampSchema,
  actor: z.object({ kind: z.enum(ACTOR_KINDS), id: z.string().min(1).max(200) }),
  /** Dotted verb phrase, e.g. "case.transitioned", "credential.revealed". */
  action: z.string().regex(/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/),
  subject: z.object({ kind: z.string().min(1).max(100), id: z.string().min(1).max(200) }),
  data: z.record(z.string(), z.unknown()).default({}),
});
export type AuditEventContent = z.infer<typeof AuditEventContentSchema>;

export const AuditEventSchema = z.object({
  seq: z.int().min(0),
  prevHash: HashSchema,
  hash: HashSchema,
  content: AuditEventContentSchema,
});
export type AuditEvent = z.infer<typeof AuditEventSchema>;
