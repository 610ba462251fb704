import { join } from 'node:path';
import { CameraSightingSchema } from '@custody/core';
import { z } from 'zod';
import type { PersistedCamera } from '../cameras/inventory.ts';
import { StoreError } from './store-error.ts';
import {
  ensureDirectory,
  nodeStoreFs,
  readJsonFile,
  PRIVATE_FILE_MODE,
  writeFileAtomic,
  type StoreFs,
} from './store-fs.ts';

export const INVENTORY_FILE = 'inventory.json';
const FORMAT = 1;

const PersistedCameraSchema = z.object({
  sighting: CameraSightingSchema,
  lastSeenAt: z.int().min(0),
  lost: z.boolean(),
  sentKey: z.string().max(10_000).nullable(),
  sentAt: z.int().min(0),
}) satisfies z.ZodType<PersistedCamera>;

const FileSchema = z.object({ format: z.literal(FORMAT), cameras: z.array(z.unknown()) });

export interface InventoryFileOptions {
  fs?: StoreFs;
}

/**
 * The inventory as the last run left it, so a restart does not report every camera as appeared
 * again. It is a cache: a missing or unreadable file means starting from scratch (`skipped` counts
 * what could not be read), never a failure to start.
 */
export async function loadInventory(
  dataDir: string,
  options: InventoryFileOptions = {},
): Promise<{ cameras: PersistedCamera[]; skipped: number }> {
  const fs = options.fs ?? nodeStoreFs;
  let read: { json: unknown } | null;
  try {
    read = await readJsonFile(fs, join(dataDir, INVENTORY_FILE));
  } catch (error) {
    if (error instanceof StoreError && error.code === 'file-malformed') {
      return { cameras: [], skipped: 1 };
    }
    throw error;
  }
  if (read === null) return { cameras: [], skipped: 0 };
  const parsed = FileSchema.safeParse(read.json);
  if (!parsed.success) return { cameras: [], skipped: 1 };
  const file = parsed.data;
  const cameras: PersistedCamera[] = [];
  let skipped = 0;
  for (const item of file.cameras) {
    const camera = PersistedCameraSchema.safeParse(item);
    if (camera.success) cameras.push(camera.data);
    else skipped += 1;
  }
  return { cameras, skipped };
}

/** Replaces the file atomically (0600): a crash leaves the previous inventory or this one. */
export async function saveInventory(
  dataDir: string,
  cameras: readonly PersistedCamera[],
  options: InventoryFileOptions = {},
): Promise<void> {
  const fs = options.fs ?? nodeStoreFs;
  await ensureDirectory(fs, dataDir);
  const text = JSON.stringify({ format: FORMAT, cameras });
  await writeFileAtomic(fs, join(dataDir, INVENTORY_FILE), Buffer.from(text), PRIVATE_FILE_MODE);
}
