import { join } from 'node:path';
import { COMMAND_OUTCOMES } from '@custody/core';
import { z } from 'zod';
import { JournalFile } from './journal-file.ts';
import type { JournalRecovery } from './journal-lines.ts';
import { StoreError } from './store-error.ts';
import type { ResultStore, StoredResult, UnreportedCommand } from './store-contracts.ts';
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

const SerialFieldSchema = z.string().min(1).max(64).optional();

const ResultRecordSchema = z.discriminatedUnion('op', [
  z.object({
    op: z.literal('accepted'),
    commandId: CommandIdSchema,
    at: z.int().min(0),
    serial: SerialFieldSchema,
  }),
  z.object({
    op: z.literal('started'),
    commandId: CommandIdSchema,
    at: z.int().min(0),
    serial: SerialFieldSchema,
  }),
  // Records written before reports were tracked have no `reported`: they were queued at once.
  z.object({
    op: z.literal('finished'),
    result: StoredResultSchema,
    reported: z.boolean().optional(),
  }),
  z.object({ op: z.literal('reported'), commandId: CommandIdSchema }),
  z.object({ op: z.literal('forgotten'), commandId: CommandIdSchema }),
]);
type ResultRecord =
  | { op: 'accepted' | 'started'; commandId: string; at: number; serial?: string | undefined }
  | { op: 'finished'; result: StoredResult; reported?: boolean | undefined }
  | { op: 'reported' | 'forgotten'; commandId: string };

type Entry =
  | { state: 'accepted' | 'started'; at: number; serial: string | undefined }
  | { state: 'finished'; result: StoredResult; reported: boolean };

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
  return entry.state === 'finished' ? Date.parse(entry.result.finishedAt) : entry.at;
}

function toRecord(commandId: string, entry: Entry): ResultRecord {
  if (entry.state === 'finished') {
    return { op: 'finished', result: entry.result, reported: entry.reported };
  }
  return {
    op: entry.state,
    commandId,
    at: entry.at,
    ...(entry.serial === undefined ? {} : { serial: entry.serial }),
  };
}

/** Folds one journal record into the state; the first finish wins and is never undone. */
function apply(entries: Map<string, Entry>, record: ResultRecord): void {
  switch (record.op) {
    case 'finished': {
      const { commandId } = record.result;
      if (entries.get(commandId)?.state !== 'finished') {
        entries.set(commandId, {
          state: 'finished',
          result: record.result,
          reported: record.reported ?? true,
        });
      }
      return;
    }
    case 'accepted':
      if (!entries.has(record.commandId)) {
        entries.set(record.commandId, { state: 'accepted', at: record.at, serial: record.serial });
      }
      return;
    case 'started': {
      const existing = entries.get(record.commandId);
      if (existing === undefined || existing.state === 'accepted') {
        entries.set(record.commandId, {
          state: 'started',
          at: record.at,
          serial: record.serial ?? existing?.serial,
        });
      }
      return;
    }
    case 'reported': {
      const existing = entries.get(record.commandId);
      if (existing?.state === 'finished') existing.reported = true;
      return;
    }
    case 'forgotten':
      if (entries.get(record.commandId)?.state !== 'finished') entries.delete(record.commandId);
      return;
  }
}

/**
 * Command outcomes by id in `results.jsonl`. The first finish wins: a result that may already have
 * been reported is the one a re-delivered command gets back. A command accepted or started and
 * never finished (the agent died) stays so until the executor's recovery stores a result for it,
 * so it is never re-run. Entries older than `retainMs` (by finish, or by acceptance or start for an
 * unfinished one) go on open.
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
  for (const record of opened.records) apply(entries, record);
  const cutoff = now() - retainMs;
  for (const [commandId, entry] of entries) {
    if (entryTime(entry) < cutoff) entries.delete(commandId);
  }
  if (journal.lineCount > entries.size) {
    await journal.rewrite(() =>
      [...entries].map(([commandId, entry]) => toRecord(commandId, entry)),
    );
  }

  /**
   * Applies the record in memory, then journals it; a write that fails is undone in memory. The
   * entry is replaced, never mutated, so the undo can tell whether a later change came in between.
   */
  const change = async (commandId: string, record: ResultRecord): Promise<void> => {
    const previous = entries.get(commandId);
    const copy = new Map<string, Entry>(
      previous === undefined ? [] : [[commandId, { ...previous }]],
    );
    apply(copy, record);
    const next = copy.get(commandId);
    if (next === undefined) entries.delete(commandId);
    else entries.set(commandId, next);
    try {
      await journal.append(record);
    } catch (error) {
      if (entries.get(commandId) === next) {
        if (previous === undefined) entries.delete(commandId);
        else entries.set(commandId, previous);
      }
      throw error;
    }
  };

  const checkId = (commandId: string): void => {
    if (!CommandIdSchema.safeParse(commandId).success) {
      throw new StoreError('invalid-record', 'A command id is 1 to 200 characters');
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
      return entry.state === 'finished' ? entry.result : entry.state;
    },
    async markAccepted(commandId, details = {}) {
      checkId(commandId);
      if (entries.has(commandId)) return;
      const serial = SerialFieldSchema.safeParse(details.serial).success
        ? details.serial
        : undefined;
      await change(commandId, {
        op: 'accepted',
        commandId,
        at: now(),
        ...(serial === undefined ? {} : { serial }),
      });
    },
    async markStarted(commandId) {
      checkId(commandId);
      const state = entries.get(commandId)?.state;
      if (state === 'started' || state === 'finished') return;
      await change(commandId, { op: 'started', commandId, at: now() });
    },
    async finish(result) {
      const parsed = StoredResultSchema.safeParse(result);
      if (!parsed.success) {
        const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.')))];
        throw new StoreError('invalid-record', `Invalid result (fields: ${fields.join(', ')})`);
      }
      if (entries.get(result.commandId)?.state === 'finished') return;
      await change(result.commandId, { op: 'finished', result: parsed.data, reported: false });
    },
    async markReported(commandId) {
      const entry = entries.get(commandId);
      if (entry?.state !== 'finished' || entry.reported) return;
      await change(commandId, { op: 'reported', commandId });
    },
    async forget(commandId) {
      const entry = entries.get(commandId);
      if (entry === undefined || entry.state === 'finished') return;
      await change(commandId, { op: 'forgotten', commandId });
    },
    unreported() {
      const waiting: { at: number; item: UnreportedCommand }[] = [];
      for (const [commandId, entry] of entries) {
        if (entry.state === 'finished') {
          if (!entry.reported) {
            waiting.push({
              at: entryTime(entry),
              item: { state: 'finished', commandId, result: entry.result },
            });
          }
        } else {
          waiting.push({
            at: entry.at,
            item: {
              state: entry.state,
              commandId,
              ...(entry.serial === undefined ? {} : { serial: entry.serial }),
            },
          });
        }
      }
      return waiting.sort((a, b) => a.at - b.at).map(({ item }) => item);
    },
    close: () => journal.close(),
  };
}
