import { join } from 'node:path';
import { Ed25519PublicKeySchema, IdSchema } from '@custody/core';
import { z } from 'zod';
import { StoreError } from './store-error.ts';
import type { AgentIdentity } from './store-contracts.ts';
import {
  ensureDirectory,
  nodeStoreFs,
  readJsonFile,
  PRIVATE_FILE_MODE,
  writeFileAtomic,
  type StoreFs,
} from './store-fs.ts';

export const IDENTITY_FILE = 'identity.json';
/** Far larger than any identity; a bigger file is not one, and is not read into memory. */
const MAX_IDENTITY_BYTES = 64 * 1024;

export const AgentIdentitySchema = z.object({
  agentId: IdSchema,
  siteId: IdSchema,
  gatewayUrl: z.url({ protocol: /^wss?$/ }).max(500),
  commandSigningKey: Ed25519PublicKeySchema,
  publicKey: Ed25519PublicKeySchema,
  privateKeyPem: z
    .string()
    .max(4_096)
    .regex(/^-----BEGIN PRIVATE KEY-----\r?\n[A-Za-z0-9+/=\r\n]+-----END PRIVATE KEY-----\r?\n?$/),
  enrolledAt: z.iso.datetime({ offset: true }),
}) satisfies z.ZodType<AgentIdentity>;

export interface IdentityStoreOptions {
  fs?: StoreFs;
}

/**
 * Names the fields that failed, never their values or zod's messages about them: this file holds
 * the private key, and an error message ends up in logs.
 */
function invalidFields(error: z.ZodError): string {
  const fields = [...new Set(error.issues.map((issue) => issue.path.join('.') || '(root)'))];
  return fields.join(', ');
}

/** The identity in `dataDir`, or null when this agent has not enrolled. */
export async function loadIdentity(
  dataDir: string,
  options: IdentityStoreOptions = {},
): Promise<AgentIdentity | null> {
  const fs = options.fs ?? nodeStoreFs;
  const path = join(dataDir, IDENTITY_FILE);
  const read = await readJsonFile(fs, path, (stats) => {
    if (!stats.isFile()) {
      throw new StoreError('file-malformed', `${path} is not a regular file`, { path });
    }
    // Like ssh with a private key: permissions that let anyone else read or replace it are
    // refused rather than silently used. Windows has no such mode bits.
    if (process.platform !== 'win32' && (stats.mode & 0o077) !== 0) {
      const mode = (stats.mode & 0o777).toString(8).padStart(4, '0');
      throw new StoreError(
        'file-insecure',
        `${path} holds this agent's private key but is accessible to group or others (mode ${mode}); restrict it with: chmod 600 ${path}`,
        { path },
      );
    }
    if (stats.size > MAX_IDENTITY_BYTES) {
      throw new StoreError('file-malformed', `${path} is too large to be an identity`, { path });
    }
  });
  if (read === null) return null;
  const parsed = AgentIdentitySchema.safeParse(read.json);
  if (!parsed.success) {
    throw new StoreError(
      'file-malformed',
      `${path} is not a valid identity (invalid fields: ${invalidFields(parsed.error)})`,
      { path },
    );
  }
  return parsed.data;
}

/**
 * Writes identity.json (0600) atomically: a crash leaves the old identity or the new one, never a
 * torn file. The data directory is created (0700) when it is missing.
 */
export async function saveIdentity(
  dataDir: string,
  identity: AgentIdentity,
  options: IdentityStoreOptions = {},
): Promise<void> {
  const fs = options.fs ?? nodeStoreFs;
  const path = join(dataDir, IDENTITY_FILE);
  const parsed = AgentIdentitySchema.safeParse(identity);
  if (!parsed.success) {
    throw new StoreError(
      'invalid-record',
      `Refusing to save an invalid identity to ${path} (invalid fields: ${invalidFields(parsed.error)})`,
      { path },
    );
  }
  await ensureDirectory(fs, dataDir);
  const text = `${JSON.stringify(parsed.data, null, 2)}\n`;
  await writeFileAtomic(fs, path, Buffer.from(text, 'utf8'), PRIVATE_FILE_MODE);
}
