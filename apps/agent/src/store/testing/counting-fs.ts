import { constants } from 'node:fs';
import { nodeStoreFs, type StoreFile, type StoreFs } from '../store-fs.ts';

export type FsOperation =
  | 'write'
  /** A write on a file opened O_DSYNC or O_SYNC, which is durable when it returns. */
  | 'syncedWrite'
  | 'datasync'
  | 'sync'
  | 'truncate'
  | 'rename'
  | 'unlink';

export interface CountingFs {
  fs: StoreFs;
  /** Calls by operation since it was made (or last reset). */
  counts: Record<FsOperation, number>;
  /** Operations that wait for the disk: fsync, fdatasync and synchronous-mode writes. */
  flushes(): number;
  reset(): void;
  /** Makes the next calls of `operation` on a path matching `pattern` fail with EIO. */
  failNext(operation: FsOperation, pattern?: RegExp, times?: number): void;
}

/** Real node:fs underneath, with every durable operation counted and failures injectable. */
export function countingFs(base: StoreFs = nodeStoreFs): CountingFs {
  const counts: Record<FsOperation, number> = {
    write: 0,
    syncedWrite: 0,
    datasync: 0,
    sync: 0,
    truncate: 0,
    rename: 0,
    unlink: 0,
  };
  const failures: { operation: FsOperation; pattern: RegExp; times: number }[] = [];
  const check = (operation: FsOperation, path: string): void => {
    counts[operation] += 1;
    const failure = failures.find((f) => f.operation === operation && f.pattern.test(path));
    if (failure === undefined) return;
    failure.times -= 1;
    if (failure.times === 0) failures.splice(failures.indexOf(failure), 1);
    throw Object.assign(new Error(`EIO: injected ${operation} failure, ${path}`), { code: 'EIO' });
  };
  const wrap = (file: StoreFile, path: string, synced: boolean): StoreFile => ({
    write: async (buffer, offset, length, position) => {
      check('write', path);
      if (synced) counts.syncedWrite += 1;
      return file.write(buffer, offset, length, position);
    },
    readFile: () => file.readFile(),
    stat: () => file.stat(),
    truncate: async (length) => {
      check('truncate', path);
      return file.truncate(length);
    },
    datasync: async () => {
      check('datasync', path);
      return file.datasync();
    },
    sync: async () => {
      check('sync', path);
      return file.sync();
    },
    close: () => file.close(),
  });
  return {
    counts,
    flushes: () => counts.syncedWrite + counts.datasync + counts.sync,
    reset() {
      for (const key of Object.keys(counts) as FsOperation[]) counts[key] = 0;
    },
    failNext(operation, pattern = /./, times = 1) {
      failures.push({ operation, pattern, times });
    },
    fs: {
      ...base,
      open: async (path, flags, mode) => {
        const synced = typeof flags === 'number' && (flags & constants.O_DSYNC) !== 0;
        return wrap(await base.open(path, flags, mode), path, synced);
      },
      rename: async (from, to) => {
        check('rename', to);
        return base.rename(from, to);
      },
      unlink: async (path) => {
        check('unlink', path);
        return base.unlink(path);
      },
    },
  };
}
