export { providedDatabaseUrl } from './provided.ts';
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { createDb, dumpPgliteDataDir, type DatabaseHandle } from '../create-db.ts';

export interface TestDatabaseOptions {
  /**
   * A PostgreSQL server URL whose role may create databases. Without one, the test
   * database is an in-memory PGlite.
   */
  url?: string | undefined;
}

// Migrating costs seconds; each worker migrates once and clones the result per test.
let pgliteTemplate: Promise<Blob> | undefined;
const postgresTemplates = new Map<string, Promise<string>>();

async function buildPgliteTemplate(): Promise<Blob> {
  const handle = await createDb();
  try {
    await handle.migrate();
    return await dumpPgliteDataDir(handle);
  } finally {
    await handle.close();
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function buildPostgresTemplate(url: string): Promise<string> {
  const name = `custody_template_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const handle = await createDb({ url: withDatabase(url, name), maxConnections: 1 });
  try {
    await handle.migrate();
  } finally {
    await handle.close();
  }
  return name;
}

/**
 * A fresh, fully migrated database for one test. `close()` disposes of it
 * (on PostgreSQL the database is dropped).
 */
export async function createTestDatabase(
  options: TestDatabaseOptions = {},
): Promise<DatabaseHandle> {
  const { url } = options;
  if (!url) {
    pgliteTemplate ??= buildPgliteTemplate();
    return createDb({ loadDataDir: await pgliteTemplate });
  }
  let template = postgresTemplates.get(url);
  if (!template) {
    template = buildPostgresTemplate(url);
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
