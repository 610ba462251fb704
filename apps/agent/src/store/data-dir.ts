import { join } from 'node:path';
import { INVENTORY_FILE } from './inventory-file.ts';
import {
  errorCode,
  nodeStoreFs,
  PRIVATE_DIRECTORY_MODE,
  syncDirectory,
  type StoreFs,
} from './store-fs.ts';

/** Where the agent keeps its journals inside its data directory. */
export const OUTBOX_DIRECTORY = 'outbox';
/** The nonce journal and the result store. */
export const COMMANDS_DIRECTORY = 'commands';

/**
 * What belongs to one enrolled identity: its outbox (messages in its name), its command journals
 * and what its inventory reported. The TLS pins stay: they are about the cameras, not the agent.
 */
const PER_IDENTITY = [OUTBOX_DIRECTORY, COMMANDS_DIRECTORY, INVENTORY_FILE] as const;

/**
 * Moves the previous identity's journals into `replaced-<agentId>-<time>/`, so a new identity
 * starts empty and never replays messages in the old one's name; kept, not deleted, for diagnosis.
 * Returns the archive's name, or null when there was nothing to move.
 */
export async function archiveIdentityData(
  dataDir: string,
  previousAgentId: string,
  options: { fs?: StoreFs; now?: () => Date } = {},
): Promise<string | null> {
  const fs = options.fs ?? nodeStoreFs;
  const present = new Set(await fs.readdir(dataDir));
  const entries = PER_IDENTITY.filter((entry) => present.has(entry));
  if (entries.length === 0) return null;
  const stamp = (options.now ?? (() => new Date()))().toISOString().replace(/[:.]/g, '-');
  const name = `replaced-${previousAgentId}-${stamp}`;
  const archive = join(dataDir, name);
  await fs.mkdir(archive, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  for (const entry of entries) {
    try {
      await fs.rename(join(dataDir, entry), join(archive, entry));
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
    }
  }
  await syncDirectory(fs, dataDir);
  return name;
}
