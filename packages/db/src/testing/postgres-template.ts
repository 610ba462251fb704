import postgres from 'postgres';
import { createDb } from '../create-db.ts';
import { templateDigest } from './template-digest.ts';

/** `url` with its database replaced by `database`. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/**
 * The name of a migrated template database on the server at `url`, named after the migrations
 * so that every worker and every later run clones the same one instead of migrating its own.
 * One builder at a time (an advisory lock); it migrates under a scratch name and renames the
 * result, so a template under the final name is always complete, even after a crashed run.
 */
export async function ensurePostgresTemplate(url: string): Promise<string> {
  const name = `custody_template_${await templateDigest()}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await admin`select pg_advisory_lock(hashtext('custody test template'))`;
    const [existing] = await admin`select 1 from pg_database where datname = ${name}`;
    if (existing) return name;
    const scratch = `${name}_building`;
    await admin.unsafe(`drop database if exists "${scratch}"`);
    await admin.unsafe(`create database "${scratch}"`);
    const handle = await createDb({ url: withDatabase(url, scratch), maxConnections: 1 });
    try {
      await handle.migrate();
    } finally {
      await handle.close();
    }
    await admin.unsafe(`alter database "${scratch}" rename to "${name}"`);
    return name;
  } finally {
    // Ending the session releases the advisory lock.
    await admin.end();
  }
}
