import { join } from 'node:path';
import { z } from 'zod';
import { JournalFile } from './journal-file.ts';
import type { JournalRecovery } from './journal-lines.ts';
import { StoreError } from './store-error.ts';
import type { NonceJournal } from './store-contracts.ts';
import { ensureDirectory, nodeStoreFs, type StoreFs } from './store-fs.ts';

export const NONCE_JOURNAL_FILE = 'nonces.jsonl';
const DEFAULT_PRUNE_INTERVAL_MS = 10 * 60_000;

const NonceRecordSchema = z.object({
  nonce: z.string().min(1).max(200),
  /** Milliseconds since the epoch. */
  expiresAt: z.int().min(0),
});
type NonceRecord = z.infer<typeof NonceRecordSchema>;

export interface NonceJournalOptions {
  fs?: StoreFs;
  now?: () => number;
  /** How often expired nonces are dropped and the file rewritten without them. */
  pruneIntervalMs?: number;
}

export interface OpenNonceJournal extends NonceJournal {
  readonly size: number;
  readonly recovery: JournalRecovery;
  /** Forgets expired nonces and rewrites the file without them; returns how many were dropped. */
  prune(): Promise<number>;
}

/**
 * Nonces of the commands this agent accepted, one JSON line each in `nonces.jsonl`, kept until the
 * command expires. A nonce past its expiry may be forgotten because the command check refuses an
 * expired command before it asks the journal, so the file only ever holds live commands' nonces.
 */
export async function openNonceJournal(
  dir: string,
  options: NonceJournalOptions = {},
): Promise<OpenNonceJournal> {
  const fs = options.fs ?? nodeStoreFs;
  const now = options.now ?? Date.now;
  await ensureDirectory(fs, dir);
  const opened = await JournalFile.open(fs, join(dir, NONCE_JOURNAL_FILE), NonceRecordSchema);
  const { journal } = opened;
  const nonces = new Map<string, number>();
  for (const record of opened.records) {
    nonces.set(record.nonce, Math.max(record.expiresAt, nonces.get(record.nonce) ?? 0));
  }

  const snapshot = (): NonceRecord[] =>
    [...nonces].map(([nonce, expiresAt]) => ({ nonce, expiresAt }));

  const prune = async (): Promise<number> => {
    const time = now();
    let pruned = 0;
    for (const [nonce, expiresAt] of nonces) {
      if (expiresAt <= time) {
        nonces.delete(nonce);
        pruned += 1;
      }
    }
    if (journal.lineCount > nonces.size) await journal.rewrite(snapshot);
    return pruned;
  };

  await prune();
  const timer = setInterval(() => {
    // A failed rewrite leaves the old file in place and is tried again next time; a failure
    // the journal cannot undo makes the next record() reject, which is where it matters.
    prune().catch(() => undefined);
  }, options.pruneIntervalMs ?? DEFAULT_PRUNE_INTERVAL_MS);
  timer.unref();

  return {
    get size() {
      return nonces.size;
    },
    recovery: opened.recovery,
    prune,
    async record(nonce, expiresAt) {
      const expiry = expiresAt.getTime();
      if (nonce.length === 0 || nonce.length > 200 || !Number.isSafeInteger(expiry) || expiry < 0) {
        throw new StoreError(
          'invalid-record',
          'A nonce is 1 to 200 characters with a valid expiry',
        );
      }
      if (nonces.has(nonce)) return false;
      nonces.set(nonce, expiry);
      try {
        await journal.append({ nonce, expiresAt: expiry } satisfies NonceRecord);
      } catch (error) {
        // Not durable, so not recorded: a redelivery of the command may be accepted.
        if (nonces.get(nonce) === expiry) nonces.delete(nonce);
        throw error;
      }
      return true;
    },
    async close() {
      clearInterval(timer);
      await journal.close();
    },
  };
}
