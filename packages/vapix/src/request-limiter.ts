import { VapixTransportError } from './vapix-error.ts';

export interface RequestLimiter {
  readonly maxConcurrent: number;
  /** Waits for a slot on the camera; the returned function frees it (idempotent). */
  acquire(key: string, signal?: AbortSignal): Promise<() => void>;
  /** Calls currently holding a slot on the camera. */
  active(key: string): number;
}

interface Waiter {
  grant: () => void;
}

/**
 * A FIFO semaphore per camera. AXIS devices throttle bursts (reference §7.9, §7.10), so every
 * client in the process shares one limit per camera rather than one per connection pool.
 */
export function createRequestLimiter(options: { maxConcurrent?: number } = {}): RequestLimiter {
  const maxConcurrent = options.maxConcurrent ?? 2;
  const running = new Map<string, number>();
  const queues = new Map<string, Waiter[]>();

  const release = (key: string): void => {
    const queue = queues.get(key);
    const next = queue?.shift();
    if (queue !== undefined && queue.length === 0) queues.delete(key);
    if (next !== undefined) {
      next.grant();
      return;
    }
    const count = (running.get(key) ?? 1) - 1;
    if (count <= 0) running.delete(key);
    else running.set(key, count);
  };

  const releaserFor = (key: string): (() => void) => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release(key);
    };
  };

  return {
    maxConcurrent,
    active(key) {
      return running.get(key) ?? 0;
    },
    acquire(key, signal) {
      if (signal?.aborted) {
        return Promise.reject(
          new VapixTransportError('VAPIX_ABORTED', 'call aborted before it started', {
            cause: signal.reason,
          }),
        );
      }
      const count = running.get(key) ?? 0;
      if (count < maxConcurrent) {
        running.set(key, count + 1);
        return Promise.resolve(releaserFor(key));
      }
      return new Promise((resolve, reject) => {
        const waiter: Waiter = {
          grant: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve(releaserFor(key));
          },
        };
        const onAbort = (): void => {
          const queue = queues.get(key);
          const index = queue?.indexOf(waiter) ?? -1;
          if (queue !== undefined && index !== -1) queue.splice(index, 1);
          if (queue !== undefined && queue.length === 0) queues.delete(key);
          reject(
            new VapixTransportError('VAPIX_ABORTED', 'call aborted while queued', {
              cause: signal?.reason,
            }),
          );
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        const queue = queues.get(key) ?? [];
        queue.push(waiter);
        queues.set(key, queue);
      });
    },
  };
}

/** The process-wide limiter used when a client is not given one. */
export const defaultRequestLimiter: RequestLimiter = createRequestLimiter();
