import type { Database } from '@custody/db';
import { credentialCandidates, credentials } from '@custody/db/schema';
import { and, asc, eq, gt, ne, sql } from 'drizzle-orm';
import {
  fileEntryOf,
  generateMasterKey,
  readMasterKeyFile,
  writeMasterKeyFile,
  MasterKeyError,
  type MasterKey,
} from './master-keys.ts';
import { isVaultError, type Vault } from './vault.ts';

/** Every table holding vault-sealed secrets: a rotation re-wraps them all. */
const SEALED_TABLES = { credentials, credentialCandidates } as const;
type SealedTable = (typeof SEALED_TABLES)[keyof typeof SEALED_TABLES];

/** How many sealed rows use each master key, over every sealed table. */
export async function countSealedRowsByKey(db: Database): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const table of Object.values(SEALED_TABLES)) {
    const rows = await db
      .select({ keyId: table.keyId, count: sql<number>`count(*)::int` })
      .from(table)
      .groupBy(table.keyId);
    for (const row of rows) counts.set(row.keyId, (counts.get(row.keyId) ?? 0) + row.count);
  }
  return counts;
}

export interface RewrapProgress {
  /** Rows re-wrapped so far. */
  done: number;
  /** Rows not under the active key when the pass started. */
  total: number;
  /** Rows that could not be re-wrapped (their key is not loaded, or they do not authenticate). */
  failed: number;
}

export interface RewrapResult extends RewrapProgress {
  activeKeyId: string;
  /** Ids of rows left behind, with the vault error code; never more than 100. */
  failures: { table: string; id: string; code: string }[];
}

export interface RewrapOptions {
  /** Rows read per query; each row is still re-wrapped in its own transaction. */
  batchSize?: number;
  onProgress?: (progress: RewrapProgress) => void;
  /** Stops between rows (the server's shutdown). */
  signal?: AbortSignal;
}

async function rewrapRow(
  db: Database,
  vault: Vault,
  table: SealedTable,
  id: string,
  activeKeyId: string,
): Promise<boolean> {
  return db.transaction(async (tx) => {
    // Locked and re-read: another process may have re-wrapped it, or deleted it, meanwhile.
    const [row] = await tx
      .select({ keyId: table.keyId, wrappedKey: table.wrappedKey })
      .from(table)
      .where(eq(table.id, id))
      .for('update');
    if (!row || row.keyId === activeKeyId) return false;
    const wrapped = await vault.rewrap(row);
    await tx
      .update(table)
      .set({ wrappedKey: wrapped.wrappedKey, keyId: wrapped.keyId })
      .where(eq(table.id, id));
    return true;
  });
}

/**
 * Re-wraps every data key not wrapped with the vault's active master key. The secrets
 * themselves are not re-encrypted: only their 32-byte data keys are. Each row is its own short
 * transaction, so the server keeps serving throughout; reads work all along because the vault
 * holds the old and the new key.
 */
export async function rewrapSealedRows(
  db: Database,
  vault: Vault,
  options: RewrapOptions = {},
): Promise<RewrapResult> {
  const batchSize = options.batchSize ?? 200;
  const activeKeyId = vault.keys.active().id;
  let total = 0;
  for (const [keyId, count] of await countSealedRowsByKey(db)) {
    if (keyId !== activeKeyId) total += count;
  }
  const progress: RewrapProgress = { done: 0, total, failed: 0 };
  const failures: RewrapResult['failures'] = [];
  options.onProgress?.({ ...progress });
  for (const [name, table] of Object.entries(SEALED_TABLES)) {
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      if (options.signal?.aborted) return { ...progress, activeKeyId, failures };
      const batch = await db
        .select({ id: table.id })
        .from(table)
        .where(and(ne(table.keyId, activeKeyId), gt(table.id, after)))
        .orderBy(asc(table.id))
        .limit(batchSize);
      for (const { id } of batch) {
        if (options.signal?.aborted) return { ...progress, activeKeyId, failures };
        after = id;
        try {
          if (await rewrapRow(db, vault, table, id, activeKeyId)) progress.done += 1;
        } catch (error) {
          if (!isVaultError(error)) throw error;
          progress.failed += 1;
          if (failures.length < 100) failures.push({ table: name, id, code: error.code });
        }
      }
      options.onProgress?.({ ...progress });
      if (batch.length < batchSize) break;
    }
  }
  return { ...progress, activeKeyId, failures };
}

/**
 * Adds a new master key to the key file and makes it active; the keys it replaces are marked
 * `retiring`, to be dropped by `retireUnusedKeys` once no row uses them.
 */
export async function addMasterKeyToFile(path: string): Promise<MasterKey> {
  const file = await readMasterKeyFile(path);
  if (file === null) {
    throw new MasterKeyError('master-key-file-unavailable', `There is no master key file ${path}.`);
  }
  const key = generateMasterKey();
  await writeMasterKeyFile(path, {
    version: 1,
    active: key.id,
    keys: [fileEntryOf(key), ...file.keys.map((entry) => ({ ...entry, retiring: true }))],
  });
  return key;
}

/**
 * Drops from the key file the keys marked `retiring` that no sealed row uses any more. Read
 * again right before writing, so a key added meanwhile is kept. The ids dropped.
 */
export async function retireUnusedKeys(db: Database, path: string): Promise<string[]> {
  const used = await countSealedRowsByKey(db);
  const file = await readMasterKeyFile(path);
  if (file === null) return [];
  const retired = file.keys
    .filter((entry) => entry.retiring === true && entry.id !== file.active)
    .filter((entry) => (used.get(entry.id) ?? 0) === 0)
    .map((entry) => entry.id);
  if (retired.length === 0) return [];
  await writeMasterKeyFile(path, {
    ...file,
    keys: file.keys.filter((entry) => !retired.includes(entry.id)),
  });
  return retired;
}
