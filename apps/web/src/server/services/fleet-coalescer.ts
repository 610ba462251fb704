export type CoalescedBatch<V> = { type: 'items'; items: V[] } | { type: 'resync' };

export interface CoalescerOptions {
  /** Items pushed within this long of the first one waiting go out in one batch. */
  windowMs: number;
  /**
   * More distinct keys than this waiting means the consumer has fallen too far behind: what
   * waits is replaced by one resync, which tells the consumer to reload instead.
   */
  maxPending: number;
}

export interface Coalescer<V> {
  /** The latest value per key wins until the batch goes out. */
  push(key: string, value: V): void;
  /** Drops what waits; the next batch is a resync. */
  resync(): void;
  /** The next batch once it is due; null once closed or when `signal` aborts. */
  next(signal?: AbortSignal): Promise<CoalescedBatch<V> | null>;
  close(): void;
  /** Keys waiting now. */
  readonly size: number;
}

/**
 * Merges a stream of keyed updates for a consumer that pulls at its own pace: while it is busy
 * (a slow network, a slow database load), updates of the same key replace each other, and a
 * batch goes out at most once per window. Nothing is dropped silently: when too much waits,
 * the consumer is told to resync.
 */
export function createCoalescer<V>(options: CoalescerOptions): Coalescer<V> {
  let pending = new Map<string, V>();
  let resyncDue = false;
  let closed = false;
  /** When the batch now filling becomes due. */
  let dueAt = 0;
  let wake: (() => void) | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;

  function wakeConsumer(): void {
    clearTimeout(timer);
    timer = undefined;
    const resolve = wake;
    wake = null;
    resolve?.();
  }

  /** A waiting consumer sleeps until the batch is due. */
  function armTimer(): void {
    if (wake === null || timer !== undefined || pending.size === 0) return;
    const wait = dueAt - Date.now();
    if (wait <= 0) wakeConsumer();
    else timer = setTimeout(wakeConsumer, wait);
  }

  return {
    push(key, value) {
      if (closed || resyncDue) return;
      if (pending.size === 0) dueAt = Date.now() + options.windowMs;
      pending.set(key, value);
      if (pending.size > options.maxPending) {
        pending = new Map();
        resyncDue = true;
        wakeConsumer();
        return;
      }
      armTimer();
    },
    resync() {
      if (closed) return;
      pending = new Map();
      resyncDue = true;
      wakeConsumer();
    },
    async next(signal) {
      const onAbort = () => wakeConsumer();
      signal?.addEventListener('abort', onAbort);
      try {
        for (;;) {
          if (closed || signal?.aborted) return null;
          if (resyncDue) {
            resyncDue = false;
            return { type: 'resync' };
          }
          if (pending.size > 0 && Date.now() >= dueAt) {
            const items = [...pending.values()];
            pending = new Map();
            return { type: 'items', items };
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
            armTimer();
          });
        }
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    },
    close() {
      closed = true;
      pending = new Map();
      wakeConsumer();
    },
    get size() {
      return pending.size;
    },
  };
}
