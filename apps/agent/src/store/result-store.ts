import { join } from 'node:path';
import { COMMAND_OUTCOMES } from '@custody/core';
import { z } from 'zod';
import { JournalFile } from './journal-file.ts';
import type { JournalRecovery } from './journal-lines.ts';
import { StoreError } from './store-error.ts';
import type { ResultStore, StoredResult } from './store-contracts.ts';
import { ensureDirectory, nodeStoreFs, type StoreFs } from './store-fs.ts';

export const RESULT_STORE_FILE = 'results.jsonl';
const DEFAULT_RETAIN_MS = 30 * 24 * 60 * 60_000;

const CommandIdSchema = z.string().min(1).max(200);

export const StoredResultSchema = z.object({
  commandId: CommandIdSchema,
  outcome: z.enum(COMMAND_OUTCOMES),
  result: z.record(z.string(), z.json()).nullable(),
  error: z.object({ code: z.string().max(200), message: z.string().max(10_000) }).nullable(),
  finishedAt: z.iso.datetime({ offset: true }),
}) satisfies z.ZodType<StoredResult>;

const ResultRecordSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('started'), commandId: CommandIdSchema, at: z.int().min(0) }),
  z.object({ op: z.literal('finished'), result: StoredResultSchema }),
]);
type ResultRecord =
  { op: 'started'; commandId: string; at: number } | { op: 'finished'; result: StoredResult };

type Entry = { state: 'started'; at: number } | { state: 'finished'; result: StoredResult };

export interface ResultStoreOptions {
  fs?: StoreFs;
  now?: () => number;
  /** How long a finished command's result is kept (default 30 days); pruned on open. */
  retainMs?: number;
}

export interface OpenResultStore extends ResultStore {
  readonly size: number;
  readonly recovery: JournalRecovery;
}

function entryTime(entry: Entry): number {
  return entry.state === 'started' ? entry.at : Date.parse(entry.result.finishedAt);
}

function toRecord(commandId: string, entry: Entry): ResultRecord {
  return entry.state === 'started'
    ? { op: 'started', commandId, at: entry.at }
    : { op: 'finished', result: entry.result };
}

/**
 * Command outcomes by id in `results.jsonl`. The first finish wins: a result that may already have
 * been reported is the one a re-delivered command gets back. A command started and never finished
 * (the agent died mid-run) stays `started`, so it is reported as interrupted and never re-run.
 * Entries older than `retainMs` (by finish, or by start for an unfinished one) go on open.
 */
export async function openResultStore(
  dir: string,
  options: ResultStoreOptions = {},
): Promise<OpenResultStore> {
  const fs = options.fs ?? nodeStoreFs;
  const now = options.now ?? Date.now;
  const retainMs = options.retainMs ?? DEFAULT_RETAIN_MS;
  await ensureDirectory(fs, dir);
  const opened = await JournalFile.open(fs, join(dir, RESULT_STORE_FILE), ResultRecordSchema);
  const { journal } = opened;
  const entries = new Map<string, Entry>();
  for (const record of opened.records) {
    if (record.op === 'finished') {
      if (entries.get(record.result.commandId)?.state !== 'finished') {
        entries.set(record.result.commandId, { state: 'finished', result: record.result });
      }
    } else if (!entries.has(record.commandId)) {
      entries.set(record.commandId, { state: 'started', at: record.at });
    }
  }
  const cutoff = now() - retainMs;
  for (const [commandId, entry] of entries) {
    if (entryTime(entry) < cutoff) entries.delete(commandId);
  }
  if (journal.lineCount > entries.size) {
    await journal.rewrite(() =>
      [...entries].map(([commandId, entry]) => toRecord(commandId, entry)),
    );
  }

  /** Applies the change in memory, then journals it; a write that fails is undone in memory. */
  const change = async (commandId: string, entry: Entry): Promise<void> => {
    const previous = entries.get(commandId);
    entries.set(commandId, entry);
    try {
      await journal.append(toRecord(commandId, entry));
    } catch (error) {
      if (entries.get(commandId) === entry) {
        if (previous === undefined) entries.delete(commandId);
        else entries.set(commandId, previous);
      }
      throw error;
    }
  };

  return {
    get size() {
      return entries.size;
    },
    recovery: opened.recovery,
    get(commandId) {
      const entry = entries.get(commandId);
      if (entry === undefined) return undefined;
      return entry.state === 'started' ? 'started' : entry.result;
    },
    async markStarted(commandId) {
      if (!CommandIdSchema.safeParse(commandId).success) {
        throw new StoreError('invalid-record', 'A command id is 1 to 200 characters');
      }
      if (entries.has(commandId)) return;
      await change(commandId, { state: 'started', at: now() });
    },
    async finish(result) {
      const parsed = StoredResultSchema.safeParse(result);
      if (!parsed.success) {
        const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.')))];
        throw new StoreError('invalid-record', `Invalid result (fields: ${fields.join(', ')})`);
      }
      if (entries.get(result.commandId)?.state === 'finished') return;
      await change(result.commandId, { state: 'finished', result: parsed.data });
    },
    close: () => journal.close(),
  };
}
