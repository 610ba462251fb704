interface Waiting<T> {
  item: T;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: items submitted while a commit is in flight wait and then go to disk together, so
 * a thousand concurrent appends cost a handful of write+fsync pairs instead of a thousand, while
 * each still resolves only once its own batch is durable. Batches run one at a time, in order.
 *
 * `commit` receives each batch synchronously after it is taken from the queue, before anything
 * else can be submitted, so it may snapshot in-memory state that matches exactly that batch.
 */
export class GroupCommit<T> {
  readonly #commit: (batch: T[]) => Promise<void>;
  #queue: Waiting<T>[] = [];
  #running: Promise<void> | null = null;

  constructor(commit: (batch: T[]) => Promise<void>) {
    this.#commit = commit;
  }

  /** Resolves when the batch holding the item is committed; rejects with that batch's error. */
  submit(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#running ??= this.#run();
    });
  }

  /** Resolves once everything submitted so far is committed or has failed. */
  async idle(): Promise<void> {
    while (this.#running !== null) await this.#running;
  }

  async #run(): Promise<void> {
    // One microtask of patience gathers every submit made in the same synchronous run of code.
    await Promise.resolve();
    while (this.#queue.length > 0) {
      const batch = this.#queue;
      this.#queue = [];
      try {
        await this.#commit(batch.map((waiting) => waiting.item));
        for (const waiting of batch) waiting.resolve();
      } catch (error) {
        for (const waiting of batch) waiting.reject(error);
      }
    }
    this.#running = null;
  }
}
