import type { DatabaseInfo } from '@custody/db';
import { safeErrorMessage } from '@custody/db/errors';
import { getRuntime } from './runtime.ts';

export interface Health {
  ok: boolean;
  database: DatabaseInfo | { engine: string; error: string };
  uptimeSeconds: number;
}

/** Reads the live database state; a failing database is reported, not thrown. */
export async function readHealth(): Promise<Health> {
  const runtime = getRuntime();
  const uptimeSeconds = Math.round((Date.now() - runtime.startedAt.getTime()) / 1000);
  try {
    const database = await runtime.database.info();
    const ok = database.migrationsApplied === database.migrationsKnown;
    return { ok, database, uptimeSeconds };
  } catch (error) {
    const message = safeErrorMessage(error);
    return {
      ok: false,
      database: { engine: runtime.database.engine, error: message },
      uptimeSeconds,
    };
  }
}
