import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDb, dumpPgliteDataDir } from '../create-db.ts';
import { templateDigest } from './template-digest.ts';

// Vitest runs each test file in a fresh process, so a template kept in memory would be built
// again (a cold PGlite, initdb and every migration: seconds) by every file that opens a
// database. The migrated data directory is written once to this checkout's cache instead.
const CACHE_DIR = fileURLToPath(
  new URL('../../node_modules/.cache/custody-test-db/', import.meta.url),
);

async function buildPgliteTemplate(): Promise<Blob> {
  const handle = await createDb();
  try {
    await handle.migrate();
    return await dumpPgliteDataDir(handle);
  } finally {
    await handle.close();
  }
}

/** A dump of a freshly migrated PGlite data directory, built at most once per migration set. */
export async function loadPgliteTemplate(): Promise<Blob> {
  const file = join(CACHE_DIR, `pglite-${await templateDigest()}.tar`);
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
  return template;
}
