import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import * as schema from './schema/index.ts';

export type Schema = typeof schema;
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
export type DatabaseEngine = 'pglite' | 'postgresql';

export interface DatabaseInfo {
  engine: DatabaseEngine;
  serverVersion: string;
  migrationsApplied: number;
  migrationsKnown: number;
  latestMigration: string | null;
}

/** Stops a `listen` subscription. */
export type Unlisten = () => Promise<void>;

export interface DatabaseHandle {
  db: Database;
  engine: DatabaseEngine;
  migrate(): Promise<void>;
  info(): Promise<DatabaseInfo>;
  /**
   * LISTEN on a channel: `onNotify` receives each NOTIFY payload sent to it (by any process on
   * PostgreSQL, in-process on PGlite), after the sending transaction commits. `onListen` runs
   * every time the subscription is (re)established: postgres.js re-subscribes after a lost
   * connection, and notifications sent meanwhile are gone, so a caller catches up there.
   * Resolves once listening.
   */
  listen(
    channel: string,
    onNotify: (payload: string) => void,
    onListen?: () => void,
  ): Promise<Unlisten>;
  close(): Promise<void>;
}

export interface CreateDbOptions {
  /** A postgres:// URL. Without one, the embedded PGlite engine is used. */
  url?: string | undefined;
  /** PGlite only: a data directory; omitted means an in-memory database. */
  dataDir?: string | undefined;
  /** PGlite only: start from a dump made by `dumpPgliteDataDir` (used to clone test databases). */
  loadDataDir?: Blob | undefined;
  /** postgres.js pool size. */
  maxConnections?: number | undefined;
  /** PGlite only: smaller than the defaults, for short-lived databases that start often. */
  pgliteSizing?: PgliteSizing | undefined;
}

export interface PgliteSizing {
  /** The WAL segment size a new data directory gets (initdb's default is 16). */
  walSegmentMb: number;
  /** The buffer cache (PostgreSQL's default is 128): allocating it is much of a start. */
  sharedBuffersMb: number;
}

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../migrations/', import.meta.url));

interface JournalEntry {
  tag: string;
  when: number;
}

async function readJournal(): Promise<JournalEntry[]> {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(`${MIGRATIONS_FOLDER}meta/_journal.json`, 'utf8');
  return (JSON.parse(text) as { entries: JournalEntry[] }).entries;
}

/**
 * The rows of a raw `db.execute(sql)` result on either engine: PGlite returns
 * `{ rows }`, postgres.js returns the rows array itself.
 */
export function rowsOf<T>(result: unknown): T[] {
  const rows = Array.isArray(result) ? result : (result as { rows?: unknown[] }).rows;
  return (rows ?? []) as T[];
}

function firstRow<T>(result: unknown): T | undefined {
  return rowsOf<T>(result)[0];
}

async function describe(db: Database, engine: DatabaseEngine): Promise<DatabaseInfo> {
  const journal = await readJournal();
  const version = firstRow<{ server_version: string }>(await db.execute(sql`show server_version`));
  const row = firstRow<{ applied: number; latest: string | null }>(
    await db.execute(sql`
      select count(*)::int as applied, max(created_at)::text as latest
      from drizzle.__drizzle_migrations`),
  );
  const latestWhen = row?.latest == null ? null : Number(row.latest);
  const latest = journal.find((entry) => entry.when === latestWhen)?.tag ?? null;
  return {
    engine,
    serverVersion: version?.server_version ?? 'unknown',
    migrationsApplied: row?.applied ?? 0,
    migrationsKnown: journal.length,
    latestMigration: latest,
  };
}

/**
 * Opens the database: PostgreSQL when a URL is given, otherwise PGlite.
 * Callers get the same drizzle API either way and must call `close()`.
 */
export async function createDb(options: CreateDbOptions = {}): Promise<DatabaseHandle> {
  if (options.url) {
    const client = postgres(options.url, {
      max: options.maxConnections ?? 10,
      onnotice: () => {},
    });
    const db = drizzlePostgres(client, { schema }) as unknown as Database;
    return {
      db,
      engine: 'postgresql',
      migrate: () => migratePostgres(db as never, { migrationsFolder: MIGRATIONS_FOLDER }),
      info: () => describe(db, 'postgresql'),
      listen: async (channel, onNotify, onListen) => {
        // postgres.js holds one extra connection for all of this pool's subscriptions.
        const subscription = await client.listen(channel, onNotify, onListen);
        return () => subscription.unlisten();
      },
      close: () => client.end({ timeout: 5 }),
    };
  }
  // PGlite creates the data directory itself but not its parents.
  if (options.dataDir) await mkdir(options.dataDir, { recursive: true });
  const sizing = options.pgliteSizing;
  const client = await PGlite.create({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
    ...(sizing
      ? {
          initDbStartParams: [`--wal-segsize=${sizing.walSegmentMb}`],
          startParams: [
            ...PGlite.defaultStartParams,
            '-c',
            `shared_buffers=${sizing.sharedBuffersMb}MB`,
          ],
        }
      : {}),
    extensions: { pg_trgm },
  });
  const db = drizzlePglite(client, { schema }) as unknown as Database;
  return {
    db,
    engine: 'pglite',
    migrate: () => migratePglite(db as never, { migrationsFolder: MIGRATIONS_FOLDER }),
    info: () => describe(db, 'pglite'),
    listen: async (channel, onNotify, onListen) => {
      const unlisten = await client.listen(channel, onNotify);
      onListen?.();
      return () => unlisten();
    },
    close: () => client.close(),
  };
}

/** Dumps a PGlite handle's data directory so that later handles can start from it. */
export async function dumpPgliteDataDir(handle: DatabaseHandle): Promise<Blob> {
  if (handle.engine !== 'pglite') throw new Error('dumpPgliteDataDir needs a PGlite handle');
  const client = (handle.db as unknown as { $client: PGlite }).$client;
  return client.dumpDataDir('none');
}
