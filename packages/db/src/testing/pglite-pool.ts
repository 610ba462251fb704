import type { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import {
  createDb,
  MIGRATIONS_FOLDER,
  type Database,
  type DatabaseHandle,
  type Unlisten,
} from '../create-db.ts';
import * as schema from '../schema/index.ts';
import { TEST_PGLITE_SIZING } from './pglite-template.ts';

interface Engine {
  handle: DatabaseHandle;
  client: PGlite;
}

/** Enough for the tests that hold two databases at once; each engine holds 128 MB or more. */
const MAX_IDLE = 2;
const idle: Engine[] = [];

async function openEngine(template: Blob): Promise<Engine> {
  const handle = await createDb({ loadDataDir: template, pgliteSizing: TEST_PGLITE_SIZING });
  return { handle, client: (handle.db as unknown as { $client: PGlite }).$client };
}

const LIST_TABLES = `
  select format('%I.%I', schemaname, tablename) as name from pg_tables
  where schemaname not in ('pg_catalog', 'information_schema', 'drizzle')`;
const LIST_SEQUENCES = `
  select format('%I.%I', schemaname, sequencename) as name from pg_sequences
  where schemaname not in ('pg_catalog', 'information_schema', 'drizzle')`;

/**
 * Returns the engine to the state of the template: every table emptied (truncate gives new
 * empty files, as a fresh load has), every sequence at its start, no listeners, session
 * settings, locks or prepared statements left behind.
 */
async function resetEngine(engine: Engine, unlistens: readonly Unlisten[]): Promise<void> {
  // One by one: PGlite's unlisten of a whole channel leaves its callbacks registered.
  for (const unlisten of unlistens) await unlisten();
  const tables = (await engine.client.query<{ name: string }>(LIST_TABLES)).rows;
  const sequences = (await engine.client.query<{ name: string }>(LIST_SEQUENCES)).rows;
  const statements = [
    ...(tables.length > 0 ? [`truncate table ${tables.map((t) => t.name).join(', ')}`] : []),
    ...sequences.map((sequence) => `alter sequence ${sequence.name} restart`),
  ];
  await engine.client.exec(statements.join(';\n'));
  // Not in the batch above: a batch runs as one transaction, and DISCARD refuses to run in one.
  await engine.client.exec('discard all');
}

async function release(engine: Engine, unlistens: readonly Unlisten[]): Promise<void> {
  if (idle.length < MAX_IDLE) {
    try {
      await resetEngine(engine, unlistens);
      idle.push(engine);
      return;
    } catch {
      // An engine that cannot be reset is closed rather than handed to another test.
    }
  }
  await engine.handle.close();
}

/**
 * A migrated PGlite database for one test. Starting an engine from the template costs a second
 * or two, so a closed database's engine is emptied and handed to the next test of the file. The
 * handle a test held stops working when it closes it, as a closed PGlite does: queries through
 * it, from a timer the test left running say, throw instead of reaching the next test's data.
 */
export async function leasePgliteDatabase(template: () => Promise<Blob>): Promise<DatabaseHandle> {
  const engine = idle.pop() ?? (await openEngine(await template()));
  const { proxy, revoke } = Proxy.revocable(engine.client, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      // PGlite's methods use private fields, which only the engine itself can reach.
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
  const db = drizzle({ client: proxy, schema }) as unknown as Database;
  const unlistens: Unlisten[] = [];
  let closed = false;
  const assertOpen = () => {
    if (closed) throw new Error('This test database is closed.');
  };
  return {
    db,
    engine: 'pglite',
    migrate: async () => {
      assertOpen();
      await migrate(db as never, { migrationsFolder: MIGRATIONS_FOLDER });
    },
    info: async () => {
      assertOpen();
      return engine.handle.info();
    },
    listen: async (channel, onNotify, onListen) => {
      assertOpen();
      const unlisten = await engine.client.listen(channel, onNotify);
      unlistens.push(() => unlisten());
      onListen?.();
      return () => unlisten();
    },
    close: async () => {
      if (closed) return;
      closed = true;
      revoke();
      await release(engine, unlistens);
    },
  };
}
