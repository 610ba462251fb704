import type {
  NonceJournal,
  ResultStore,
  StoredResult,
  UnreportedCommand,
} from '../store-contracts.ts';

type MemoryEntry =
  | { state: 'accepted' | 'started'; serial: string | undefined }
  | { state: 'finished'; result: StoredResult; reported: boolean };

/** A NonceJournal in memory, for tests of what uses one. */
export function createMemoryNonceJournal(): NonceJournal & { seen: Set<string> } {
  const seen = new Set<string>();
  return {
    seen,
    record(nonce) {
      if (seen.has(nonce)) return Promise.resolve(false);
      seen.add(nonce);
      return Promise.resolve(true);
    },
    close: () => Promise.resolve(),
  };
}

/** A ResultStore in memory with the same rules as the journaled one (first finish wins). */
export function createMemoryResultStore(): ResultStore & {
  entries: Map<string, MemoryEntry>;
  /** Puts a command in a state as a previous run of the agent would have left it. */
  seed(commandId: string, entry: MemoryEntry): void;
} {
  const entries = new Map<string, MemoryEntry>();
  return {
    entries,
    seed: (commandId, entry) => void entries.set(commandId, entry),
    get(commandId) {
      const entry = entries.get(commandId);
      if (entry === undefined) return undefined;
      return entry.state === 'finished' ? entry.result : entry.state;
    },
    markAccepted(commandId, details = {}) {
      if (!entries.has(commandId)) {
        entries.set(commandId, { state: 'accepted', serial: details.serial });
      }
      return Promise.resolve();
    },
    markStarted(commandId) {
      const entry = entries.get(commandId);
      if (entry === undefined || entry.state === 'accepted') {
        entries.set(commandId, { state: 'started', serial: entry?.serial });
      }
      return Promise.resolve();
    },
    finish(result) {
      if (entries.get(result.commandId)?.state !== 'finished') {
        entries.set(result.commandId, { state: 'finished', result, reported: false });
      }
      return Promise.resolve();
    },
    markReported(commandId) {
      const entry = entries.get(commandId);
      if (entry?.state === 'finished') entry.reported = true;
      return Promise.resolve();
    },
    forget(commandId) {
      if (entries.get(commandId)?.state !== 'finished') entries.delete(commandId);
      return Promise.resolve();
    },
    unreported() {
      const items: UnreportedCommand[] = [];
      for (const [commandId, entry] of entries) {
        if (entry.state !== 'finished') {
          items.push({
            state: entry.state,
            commandId,
            ...(entry.serial === undefined ? {} : { serial: entry.serial }),
          });
        } else if (!entry.reported) {
          items.push({ state: 'finished', commandId, result: entry.result });
        }
      }
      return items;
    },
    close: () => Promise.resolve(),
  };
}
