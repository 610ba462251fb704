import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { createDb, type DatabaseHandle } from '../create-db.ts';
import { leasePgliteDatabase } from './pglite-pool.ts';
import { loadPgliteTemplate } from './pglite-template.ts';
import { ensurePostgresTemplate, withDatabase } from './postgres-template.ts';

export { providedDatabaseUrl } from './provided.ts';

export interface TestDatabaseOptions {
  /**
   * A PostgreSQL server URL whose role may create databases. Without one, the test
   * database is an in-memory PGlite.
   */
  url?: string | undefined;
}

let pgliteTemplate: Promise<Blob> | undefined;
const postgresTemplates = new Map<string, Promise<string>>();

/**
 * A fresh, fully migrated database for one test. `close()` disposes of it (on PostgreSQL the
 * database is dropped) and makes the handle unusable.
 */
export async function createTestDatabase(
  options: TestDatabaseOptions = {},
): Promise<DatabaseHandle> {
  const { url } = options;
  if (!url) {
    return leasePgliteDatabase(() => {
      pgliteTemplate ??= loadPgliteTemplate();
      return pgliteTemplate;
    });
  }
  let template = postgresTemplates.get(url);
  if (!template) {
    template = ensurePostgresTemplate(url);
    postgresTemplates.set(url, template);
  }
  const templateName = await template;
  const name = `custody_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}" template "${templateName}"`);
  } finally {
    await admin.end();
  }
  const handle = await createDb({ url: withDatabase(url, name), maxConnections: 4 });
  return {
    ...handle,
    close: async () => {
      await handle.close();
      const dropper = postgres(url, { max: 1, onnotice: () => {} });
      try {
        await dropper.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await dropper.end();
      }
    },
  };
}
