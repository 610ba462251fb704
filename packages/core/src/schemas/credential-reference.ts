import { z } from 'zod';
import { SerialSchema } from '../serial.ts';
import { IdSchema, TimestampSchema } from './common.ts';

/** admin: the owner's administrator; service: Custody's own per-camera account; vms: the VMS. */
export const CREDENTIAL_ACCOUNTS = ['admin', 'service', 'vms'] as const;
export type CredentialAccount = (typeof CREDENTIAL_ACCOUNTS)[number];

/**
 * Points at a vault entry. Strict on purpose: an object carrying a password (or any unknown key)
 * fails to parse, so a secret cannot ride along into documents, logs or the agent protocol.
 */
export const CredentialReferenceSchema = z.strictObject({
  id: IdSchema,
  serial: SerialSchema,
  account: z.enum(CREDENTIAL_ACCOUNTS),
  username: z.string().trim().min(1).max(64),
  version: z.int().min(1),
  createdAt: TimestampSchema,
});
export type CredentialReference = z.infer<typeof CredentialReferenceSchema>;
