/**
 * Bounds how many agent messages are applied at once across every connection of a process. Each
 * one holds a pooled database connection for a transaction; unbounded, thousands of agents
 * reporting together fill the pool's queue, and a command dispatch, a handshake or a dashboard
 * query waits behind all of it. Past the bound, messages wait here instead, first come first
 * served, and the rest of the pool stays free.
 */
export interface IngestGate {
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Messages being applied now, and waiting for a slot. */
  readonly active: number;
  readonly waiting: number;
}

export function createIngestGate(slots: number): IngestGate {
  if (!Number.isInteger(slots) || slots < 1) {
    throw new RangeError(`An ingest gate needs at least one slot, not ${slots}.`);
  }
  let active = 0;
  const queue: (() => void)[] = [];
  return {
    async run(work) {
      if (active < slots) active += 1;
      // The slot is handed over by the run that frees it, so `active` never dips meanwhile.
      else await new Promise<void>((resolve) => queue.push(resolve));
      try {
        return await work();
      } finally {
        const next = queue.shift();
        if (next === undefined) active -= 1;
        else next();
      }
    },
    get active() {
      return active;
    },
    get waiting() {
      return queue.length;
    },
  };
}
