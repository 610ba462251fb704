import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDb, dumpPgliteDataDir, type PgliteSizing } from '../create-db.ts';
import { templateDigest } from './template-digest.ts';

// Vitest runs each test file in a fresh process, so a template kept in memory would be built
// again (a cold PGlite, initdb and every migration: seconds) by every file that opens a
// database. The migrated data directory is written once to this checkout's cache instead.
const CACHE_DIR = fileURLToPath(
  new URL('../../node_modules/.cache/custody-test-db/', import.meta.url),
);

/**
 * Test databases hold a few rows and start once per test file: a 1 MB WAL segment makes the dump
 * a quarter smaller, and small shared buffers halve the start. Neither changes what a query sees.
 */
export const TEST_PGLITE_SIZING: PgliteSizing = { walSegmentMb: 1, sharedBuffersMb: 16 };

async function buildPgliteTemplate(): Promise<Blob> {
  const handle = await createDb({ pgliteSizing: TEST_PGLITE_SIZING });
  try {
    await handle.migrate();
    return await dumpPgliteDataDir(handle);
  } finally {
    await handle.close();
  }
}

/** A dump of a freshly migrated PGlite data directory, built at most once per migration set. */
export async function loadPgliteTemplate(): Promise<Blob> {
  const sizing = `wal${TEST_PGLITE_SIZING.walSegmentMb}`;
  const file = join(CACHE_DIR, `pglite-${await templateDigest()}-${sizing}.tar`);
  const cached = await readFile(file).catch(() => null);
  if (cached) return new Blob([cached]);
  const template = await buildPgliteTemplate();
  // Written aside and renamed, so a test file in another worker reads all of it or nothing.
  await mkdir(CACHE_DIR, { recursive: true });
  const partial = `${file}.${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(partial, new Uint8Array(await template.arrayBuffer()));
    await rename(partial, file);
  } finally {
    await rm(partial, { force: true });
  }
  // Templates of earlier migration sets are 30 MB each and will not be read again.
  for (const name of await readdir(CACHE_DIR)) {
    if (/^pglite-.*\.tar$/.test(name) && name !== basename(file)) {
      await rm(join(CACHE_DIR, name), { force: true });
    }
  }
  return template;
}
