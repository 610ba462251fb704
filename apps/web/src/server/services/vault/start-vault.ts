import { unwatchFile, watchFile } from 'node:fs';
import type { Database } from '@custody/db';
import { safeErrorMessage } from '@custody/db/errors';
import { retireUnusedKeys, rewrapSealedRows } from './key-rotation.ts';
import { loadMasterKeys } from './master-keys.ts';
import { createVault, type Vault } from './vault.ts';

/** What the vault writes to the server log: ids and counts, never key material. */
export interface VaultLogger {
  info(message: string): void;
  warn(message: string): void;
}

export const consoleVaultLogger: VaultLogger = {
  info: (message) => console.log(`vault: ${message}`),
  warn: (message) => console.warn(`vault: ${message}`),
};

export interface StartVaultOptions {
  db: Database;
  /** `CUSTODY_MASTER_KEY`; without it the key file is used. */
  masterKey?: string | undefined;
  /** The key file, created at first start when there is no `masterKey`. */
  keyFile: string;
  log?: VaultLogger | undefined;
  /** How often the key file is checked for a rotation. */
  watchIntervalMs?: number | undefined;
}

export interface VaultService {
  vault: Vault;
  /** The maintenance pass under way (or the last one): tests and shutdown wait for it. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Loads the master keys and keeps the vault in step with a rotation while the server runs: the
 * key file is watched, and at start and after every change of keys, data keys still wrapped
 * with an older key are re-wrapped in the background; then keys a rotation marked as retiring
 * are dropped from the key file once no row uses them.
 */
export async function startVault(options: StartVaultOptions): Promise<VaultService> {
  const log = options.log ?? consoleVaultLogger;
  const keys = await loadMasterKeys({
    envValue: options.masterKey,
    file: options.keyFile,
    warn: (message) => log.warn(message.replace(/^vault: /, '')),
  });
  const vault = createVault({ keys });
  const abort = new AbortController();
  let running: Promise<void> = Promise.resolve();
  let again = false;
  let busy = false;

  async function maintain(): Promise<void> {
    const result = await rewrapSealedRows(options.db, vault, { signal: abort.signal });
    if (result.done > 0) {
      log.info(`re-wrapped ${result.done} data keys with master key ${result.activeKeyId}.`);
    }
    if (result.failed > 0) {
      log.warn(
        `${result.failed} sealed secrets could not be re-wrapped (first: ${result.failures
          .slice(0, 3)
          .map((failure) => `${failure.table} ${failure.id} ${failure.code}`)
          .join(', ')}).`,
      );
    }
    if (keys.kind === 'file' && result.failed === 0 && !abort.signal.aborted) {
      const retired = await retireUnusedKeys(options.db, options.keyFile);
      if (retired.length > 0) {
        await keys.reload();
        log.info(`retired master key ${retired.join(', ')}: no secret uses it any more.`);
      }
    }
  }

  function schedule(): void {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    running = (async () => {
      do {
        again = false;
        try {
          await maintain();
        } catch (error) {
          log.warn(
            `key maintenance failed and is retried at the next key change or start: ${safeErrorMessage(error)}`,
          );
        }
      } while (again && !abort.signal.aborted);
      busy = false;
    })();
  }

  const onChange = () => {
    keys.reload().then(
      (changed) => {
        if (changed) {
          log.info(`master keys changed in ${keys.source}; active key ${keys.active().id}.`);
          schedule();
        }
      },
      (error: unknown) =>
        log.warn(
          `could not re-read ${keys.source}, keeping the keys loaded: ${(error as Error).message}`,
        ),
    );
  };
  if (keys.kind === 'file') {
    watchFile(
      options.keyFile,
      { interval: options.watchIntervalMs ?? 2_000, persistent: false },
      onChange,
    );
  }
  schedule();

  return {
    vault,
    settled: () => running,
    close: async () => {
      if (keys.kind === 'file') unwatchFile(options.keyFile, onChange);
      abort.abort();
      await running;
    },
  };
}
