import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createDb, type Database } from '@custody/db';
import { safeErrorMessage } from '@custody/db/errors';
import { readEnv } from '../env.ts';
import {
  addMasterKeyToFile,
  countSealedRowsByKey,
  retireUnusedKeys,
  rewrapSealedRows,
} from '../server/services/vault/key-rotation.ts';
import { MasterKeyError, loadMasterKeys } from '../server/services/vault/master-keys.ts';
import { createVault } from '../server/services/vault/vault.ts';

export interface RotateMasterKeyOptions {
  /** The database to re-wrap in; null for the embedded one, which the running server owns. */
  db: Database | null;
  /** `CUSTODY_MASTER_KEY`, when the keys come from the environment. */
  masterKey?: string | undefined;
  keyFile: string;
  /** How long running servers get to load a new key before data keys move to it. */
  graceMs?: number;
  batchSize?: number;
  /** Continue an interrupted rotation instead of adding another key. */
  resume?: boolean;
  print: (line: string) => void;
  sleep?: (ms: number) => Promise<void>;
}

export interface RotateMasterKeyResult {
  activeKeyId: string;
  rewrapped: number;
  failed: number;
  /** Keys dropped from the key file because no secret uses them any more. */
  retired: string[];
  /** Keys from the environment that no secret uses any more: the operator removes them. */
  unused: string[];
}

const wait = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/**
 * Rotates the vault's master key without stopping Custody.
 *
 * Key file: adds a new active key (older ones are marked retiring); running servers notice
 * within seconds and hold both. Then every data key is re-wrapped with the new key, one row per
 * transaction, and the old keys are dropped from the file once no row uses them. With the
 * embedded database, the running server does the re-wrapping itself (or does it at its next
 * start), since only one process can open it.
 *
 * `CUSTODY_MASTER_KEY`: the operator has already put the new key first on every process; this
 * re-wraps and says which old keys can go.
 */
export async function rotateMasterKey(
  options: RotateMasterKeyOptions,
): Promise<RotateMasterKeyResult> {
  const { print } = options;
  const sleep = options.sleep ?? wait;
  const fromEnv = options.masterKey !== undefined && options.masterKey.trim() !== '';
  const keys = await loadMasterKeys({
    envValue: options.masterKey,
    file: options.keyFile,
    create: false,
  });
  const vault = createVault({ keys });

  if (!fromEnv && options.resume !== true) {
    const added = await addMasterKeyToFile(options.keyFile);
    await keys.reload();
    print(`Added master key ${added.id} to ${options.keyFile}; it is now the active key.`);
    print('Back up the key file again: secrets are about to move to the new key.');
  } else if (fromEnv) {
    print(`Active master key ${keys.active().id} (the first in CUSTODY_MASTER_KEY).`);
  }
  const activeKeyId = keys.active().id;

  if (options.db === null) {
    print(
      'The embedded database belongs to the running server: it re-wraps every secret with the new key ' +
        'in the background and then drops the old key from the key file (or does so at its next start). ' +
        'Watch its log for "re-wrapped" and "retired master key".',
    );
    return { activeKeyId, rewrapped: 0, failed: 0, retired: [], unused: [] };
  }
  const db = options.db;

  if (!fromEnv && options.resume !== true && (options.graceMs ?? 5_000) > 0) {
    const seconds = Math.round((options.graceMs ?? 5_000) / 1000);
    print(`Waiting ${seconds} s for running servers to load the new key…`);
    await sleep(options.graceMs ?? 5_000);
  }

  const result = await rewrapSealedRows(db, vault, {
    batchSize: options.batchSize ?? 200,
    onProgress: ({ done, total, failed }) => {
      const percent = total === 0 ? 100 : Math.floor(((done + failed) / total) * 100);
      print(
        `Re-wrapping data keys: ${done}/${total} (${percent}%)${failed > 0 ? `, ${failed} failed` : ''}`,
      );
    },
  });
  for (const failure of result.failures) {
    print(`  could not re-wrap ${failure.table} ${failure.id}: ${failure.code}`);
  }

  const remaining = await countSealedRowsByKey(db);
  let retired: string[] = [];
  let unused: string[] = [];
  if (fromEnv) {
    unused = keys.ids().filter((id) => id !== activeKeyId && (remaining.get(id) ?? 0) === 0);
    for (const id of unused) {
      print(
        `No secret uses master key ${id} any more: remove it from CUSTODY_MASTER_KEY on every process.`,
      );
    }
  } else if (result.failed === 0) {
    // A server that had not loaded the new key yet may have sealed with an old one meanwhile:
    // one more pass before the old keys go.
    await rewrapSealedRows(db, vault, { batchSize: options.batchSize ?? 200 });
    retired = await retireUnusedKeys(db, options.keyFile);
    for (const id of retired) print(`Retired master key ${id}: removed from ${options.keyFile}.`);
  } else {
    print(
      'Old keys are kept until every secret is re-wrapped; fix the failures and run again with --resume.',
    );
  }
  print(
    `Done: ${result.done} re-wrapped, ${result.failed} failed; active master key ${activeKeyId}.`,
  );
  return { activeKeyId, rewrapped: result.done, failed: result.failed, retired, unused };
}

function option(args: readonly string[], name: string): string | undefined {
  const index = args.indexOf(name);
  return index === -1 ? undefined : args[index + 1];
}

async function main(args: readonly string[]): Promise<number> {
  if (args.includes('--help')) {
    console.log(
      [
        'Usage: pnpm --filter @custody/web rotate-master-key [--resume] [--batch-size N] [--grace-seconds S]',
        '',
        "Rotates the credential vault's master key while Custody keeps running. Run it with the",
        "server's environment (DATABASE_URL, CUSTODY_DATA_DIR, CUSTODY_MASTER_KEY(_FILE)).",
      ].join('\n'),
    );
    return 0;
  }
  const env = readEnv();
  const dataDir = resolve(process.cwd(), env.CUSTODY_DATA_DIR);
  const keyFile = env.CUSTODY_MASTER_KEY_FILE
    ? resolve(process.cwd(), env.CUSTODY_MASTER_KEY_FILE)
    : join(dataDir, 'master-keys.json');
  const batchSize = Number(option(args, '--batch-size') ?? 200);
  const graceSeconds = Number(option(args, '--grace-seconds') ?? 5);
  if (
    !Number.isInteger(batchSize) ||
    batchSize < 1 ||
    !Number.isFinite(graceSeconds) ||
    graceSeconds < 0
  ) {
    console.error('--batch-size takes a positive integer and --grace-seconds a number of seconds.');
    return 2;
  }
  const database = env.DATABASE_URL
    ? await createDb({ url: env.DATABASE_URL, maxConnections: 2 })
    : null;
  try {
    const result = await rotateMasterKey({
      db: database?.db ?? null,
      masterKey: env.CUSTODY_MASTER_KEY,
      keyFile,
      graceMs: graceSeconds * 1000,
      batchSize,
      resume: args.includes('--resume'),
      print: (line) => console.log(line),
    });
    return result.failed === 0 ? 0 : 1;
  } catch (error) {
    // Anything else is told without the values of a failed query (wrapped keys among them).
    console.error(error instanceof MasterKeyError ? error.message : safeErrorMessage(error));
    return 1;
  } finally {
    await database?.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
