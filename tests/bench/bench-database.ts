import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { createDb } from '@custody/db';

/** A PostgreSQL server the benchmarks may create databases on. */
export interface BenchPostgres {
  /** A URL whose role may create databases. */
  url: string;
  /** Where the server came from, for the printout. */
  origin: string;
  stop(): Promise<void>;
}

interface ProvisionedPostgres {
  url: string;
  stop: () => Promise<void>;
}

/**
 * The server named by CUSTODY_BENCH_DATABASE_URL or DATABASE_URL; without either, a throwaway
 * cluster on loopback started the way the test command starts one (scripts/provision.mjs, which
 * also honours CUSTODY_TEST_DATABASE_URL), so a benchmark runs on a fresh machine with no setup.
 */
export async function startBenchPostgres(): Promise<BenchPostgres> {
  const configured = process.env.CUSTODY_BENCH_DATABASE_URL || process.env.DATABASE_URL;
  if (configured) {
    return { url: configured, origin: 'configured server', stop: () => Promise.resolve() };
  }
  // A computed specifier: provision.mjs is plain JavaScript without type declarations.
  const provision = new URL('../../scripts/provision.mjs', import.meta.url).href;
  const { startPostgres } = (await import(provision)) as {
    startPostgres: () => Promise<ProvisionedPostgres>;
  };
  const server = await startPostgres();
  return {
    url: server.url,
    origin: process.env.CUSTODY_TEST_DATABASE_URL ? 'configured server' : 'throwaway cluster',
    stop: server.stop,
  };
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** The settings that decide what a commit costs, for the printout. */
export async function describeServer(url: string): Promise<string> {
  const client = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const rows = await client<{ name: string; setting: string }[]>`
      select name, setting from pg_settings
      where name in ('server_version', 'fsync', 'synchronous_commit', 'shared_buffers')
      order by name`;
    const settings = new Map(rows.map((row) => [row.name, row.setting]));
    const sharedMiB = (Number(settings.get('shared_buffers')) * 8) / 1024;
    return `PostgreSQL ${settings.get('server_version')}, fsync ${settings.get('fsync')}, synchronous_commit ${settings.get('synchronous_commit')}, shared_buffers ${sharedMiB} MiB`;
  } finally {
    await client.end();
  }
}

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A new, migrated database on `serverUrl`, named `<prefix>_<pid>_<random>`. */
export async function createBenchDatabase(
  serverUrl: string,
  prefix: string,
): Promise<BenchDatabase> {
  const name = `${prefix}_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(serverUrl, name);
  const drop = async () => {
    const dropper = postgres(serverUrl, { max: 1, onnotice: () => {} });
    try {
      await dropper.unsafe(`drop database if exists "${name}" with (force)`);
    } finally {
      await dropper.end();
    }
  };
  try {
    const handle = await createDb({ url, maxConnections: 1 });
    try {
      await handle.migrate();
    } finally {
      await handle.close();
    }
  } catch (error) {
    await drop();
    throw error;
  }
  return { name, url, drop };
}
