import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Executor } from '../executor.ts';

/** Payload: RotationNotification as JSON. A rotation job or its items changed (committed). */
export const ROTATION_CHANNEL = 'custody_rotation';

export const RotationNotificationSchema = z.object({
  jobId: z.uuid(),
  /**
   * Who changed it: a person (created, paused, resumed, cancelled, retried), which the engines
   * act on, or an engine (results applied, cameras queued), which only live views care about.
   */
  source: z.enum(['user', 'engine']),
});
export type RotationNotification = z.infer<typeof RotationNotificationSchema>;

/** Queues the NOTIFY; inside a transaction it goes out on commit, and only then. */
export async function notifyRotation(tx: Executor, notification: RotationNotification) {
  await tx.execute(sql`select pg_notify(${ROTATION_CHANNEL}, ${JSON.stringify(notification)})`);
}
