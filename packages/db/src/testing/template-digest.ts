import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { MIGRATIONS_FOLDER } from '../create-db.ts';

let digest: Promise<string> | undefined;

async function computeTemplateDigest(): Promise<string> {
  const hash = createHash('sha256');
  // A PGlite data directory only loads into the PGlite build that wrote it.
  const pgliteEntry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const pglitePackage = JSON.parse(
    await readFile(join(dirname(pgliteEntry), '..', 'package.json'), 'utf8'),
  ) as { version?: unknown };
  hash.update(`pglite ${String(pglitePackage.version)}\n`);
  const entries = await readdir(MIGRATIONS_FOLDER, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
  for (const file of files) {
    hash.update(`${file.slice(MIGRATIONS_FOLDER.length)}\n`);
    hash.update(await readFile(file));
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * Names what a migrated template database depends on: every migration file and the PGlite
 * version. Templates named after it are reused until one of them changes.
 */
export function templateDigest(): Promise<string> {
  digest ??= computeTemplateDigest();
  return digest;
}
