/** Gives back what was acquired; calling it twice is harmless. */
export type Release = () => void;

interface Waiter {
  grant: () => void;
}

/**
 * A FIFO queue of waiters in front of `capacity` places: the first `capacity` callers go through,
 * the rest wait in arrival order.
 */
class Gate {
  private holders = 0;
  private readonly waiters: Waiter[] = [];

  constructor(private readonly capacity: number) {}

  get busy(): boolean {
    return this.holders > 0 || this.waiters.length > 0;
  }

  get available(): boolean {
    return this.holders < this.capacity && this.waiters.length === 0;
  }

  acquire(): Promise<Release> {
    return new Promise((resolve) => {
      const grant = () => {
        this.holders += 1;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.holders -= 1;
          this.waiters.shift()?.grant();
        });
      };
      if (this.available) grant();
      else this.waiters.push({ grant });
    });
  }
}

export interface KeyedLock {
  /** Resolves once every earlier caller with the same key has released. */
  acquire(key: string): Promise<Release>;
  /** Whether a caller would have to wait for `key` now. */
  isBusy(key: string): boolean;
}

/** One holder per key at a time (one command per camera); others wait in arrival order. */
export function createKeyedLock(): KeyedLock {
  const gates = new Map<string, Gate>();
  return {
    async acquire(key) {
      let gate = gates.get(key);
      if (gate === undefined) {
        gate = new Gate(1);
        gates.set(key, gate);
      }
      const release = await gate.acquire();
      const owner = gate;
      return () => {
        release();
        // Forget idle keys, so a site's worth of serials does not pile up over months.
        if (!owner.busy && gates.get(key) === owner) gates.delete(key);
      };
    },
    isBusy: (key) => gates.get(key)?.busy ?? false,
  };
}

export interface Slots {
  acquire(): Promise<Release>;
  /** Whether a caller would have to wait now. */
  readonly full: boolean;
}

/** At most `capacity` holders at once, the rest served in arrival order. */
export function createSlots(capacity: number): Slots {
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }
  const gate = new Gate(capacity);
  return {
    acquire: () => gate.acquire(),
    get full() {
      return !gate.available;
    },
  };
}
