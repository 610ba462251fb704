import { randomBytes } from 'node:crypto';
import type { Database } from '@custody/db';
import { authSecrets } from '@custody/db/schema';
import { eq } from 'drizzle-orm';

const SESSION_SECRET = 'session-signing';

/**
 * The secret that signs session cookies: the configured one, or one generated on first start
 * and kept in the database, so that restarts and every process sharing the database agree.
 */
export async function resolveAuthSecret(db: Database, configured?: string): Promise<string> {
  if (configured) return configured;
  await db
    .insert(authSecrets)
    .values({ name: SESSION_SECRET, value: randomBytes(32).toString('base64url') })
    .onConflictDoNothing();
  const [row] = await db.select().from(authSecrets).where(eq(authSecrets.name, SESSION_SECRET));
  if (!row) throw new Error('The session secret could not be stored');
  return row.value;
}
