import type { DatabaseHandle, Unlisten } from '@custody/db';
import { parseNotification } from '../../gateway/notifications.ts';
import { ROTATION_CHANNEL, RotationNotificationSchema } from './rotation-notify.ts';

/** "Job `jobId` changed at `at`: read it again." Sent first on subscribing, too. */
export interface RotationLiveEvent {
  jobId: string;
  at: Date;
}

export interface RotationFeed {
  /**
   * Changes to one job, as an async iterable that ends when `signal` aborts or the consumer
   * returns. The first event comes at once (so a page loads what is there); after that, one per
   * burst of changes: a consumer that reads slowly gets the latest, not a backlog.
   */
  subscribe(jobId: string, signal?: AbortSignal): AsyncIterable<RotationLiveEvent>;
  readonly subscriberCount: number;
  close(): Promise<void>;
}

type Wake = () => void;

/**
 * One LISTEN on the rotation channel for the whole process, fanned out to the subscribers of
 * each job. After a lost connection every subscriber is told to re-read, since what changed
 * meanwhile cannot be replayed.
 */
export async function startRotationFeed(database: DatabaseHandle): Promise<RotationFeed> {
  const subscribers = new Map<string, Set<Wake>>();
  let count = 0;
  let closed = false;
  const wakeAll = (jobId?: string) => {
    const targets = jobId === undefined ? [...subscribers.values()] : [subscribers.get(jobId)];
    for (const set of targets) for (const wake of set ?? []) wake();
  };
  const unlisten: Unlisten = await database.listen(
    ROTATION_CHANNEL,
    (payload) => {
      const event = parseNotification(RotationNotificationSchema, payload);
      if (event !== null) wakeAll(event.jobId);
    },
    () => wakeAll(),
  );

  async function* stream(jobId: string, signal?: AbortSignal): AsyncGenerator<RotationLiveEvent> {
    let dirty = true;
    let resume: (() => void) | null = null;
    const wake: Wake = () => {
      dirty = true;
      resume?.();
    };
    const onAbort = () => resume?.();
    const set = subscribers.get(jobId) ?? new Set<Wake>();
    set.add(wake);
    subscribers.set(jobId, set);
    count += 1;
    signal?.addEventListener('abort', onAbort);
    try {
      while (!closed && signal?.aborted !== true) {
        if (!dirty) {
          await new Promise<void>((resolve) => {
            resume = resolve;
          });
          resume = null;
          continue;
        }
        dirty = false;
        yield { jobId, at: new Date() };
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      set.delete(wake);
      if (set.size === 0) subscribers.delete(jobId);
      count -= 1;
    }
  }

  return {
    subscribe: (jobId, signal) => stream(jobId, signal),
    get subscriberCount() {
      return count;
    },
    async close() {
      closed = true;
      await unlisten();
      wakeAll();
    },
  };
}
