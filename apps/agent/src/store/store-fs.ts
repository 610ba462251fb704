import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { dirname } from 'node:path';
import { StoreError } from './store-error.ts';

/*
 * The few file operations the stores use, as an interface so tests can count fsyncs or make a
 * write fail. node:fs/promises provides them all (nodeStoreFs).
 */

export interface StoreFileStats {
  size: number;
  mode: number;
  isFile(): boolean;
}

export interface StoreFile {
  write(
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number | null,
  ): Promise<{ bytesWritten: number }>;
  readFile(): Promise<Buffer>;
  stat(): Promise<StoreFileStats>;
  truncate(length: number): Promise<void>;
  /** fdatasync: the data and the file size, which is all an append needs. */
  datasync(): Promise<void>;
  /** fsync: data and metadata, for a new file or a directory. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface StoreFs {
  open(path: string, flags: string | number, mode?: number): Promise<StoreFile>;
  readdir(path: string): Promise<string[]>;
  mkdir(path: string, options: { recursive: true; mode: number }): Promise<string | undefined>;
  chmod(path: string, mode: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
}

export const nodeStoreFs: StoreFs = {
  open: (path, flags, mode) => fsp.open(path, flags, mode),
  readdir: (path) => fsp.readdir(path),
  mkdir: (path, options) => fsp.mkdir(path, options),
  chmod: (path, mode) => fsp.chmod(path, mode),
  rename: (from, to) => fsp.rename(from, to),
  unlink: (path) => fsp.unlink(path),
};

export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIRECTORY_MODE = 0o700;

/**
 * Flags for a journal that appends: with O_DSYNC every write returns only once its data is on
 * disk, like write + fdatasync but in one system call and one trip through libuv's thread pool,
 * which is most of the cost of a sequential append. Null where the platform has no O_DSYNC
 * (Windows); journals then call datasync() after each write.
 */
const DSYNC_APPEND_FLAGS =
  constants.O_DSYNC === undefined
    ? null
    : constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_DSYNC;

export interface AppendFile {
  file: StoreFile;
  /** Each write is durable when it returns (O_DSYNC); otherwise call datasync() after it. */
  writesAreDurable: boolean;
}

/** Opens a journal for appending, creating it (0600) when missing, or failing if `exclusive`. */
export async function openAppendFile(
  fs: StoreFs,
  path: string,
  options: { exclusive?: boolean } = {},
): Promise<AppendFile> {
  const exclusive = options.exclusive === true;
  if (DSYNC_APPEND_FLAGS === null) {
    return {
      file: await fs.open(path, exclusive ? 'ax' : 'a', PRIVATE_FILE_MODE),
      writesAreDurable: false,
    };
  }
  const flags = DSYNC_APPEND_FLAGS | (exclusive ? constants.O_EXCL : 0);
  return { file: await fs.open(path, flags, PRIVATE_FILE_MODE), writesAreDurable: true };
}

/** Writes a batch to an append file and returns once it is on disk. */
export async function appendDurably(append: AppendFile, data: Uint8Array): Promise<void> {
  await writeAll(append.file, data);
  if (!append.writesAreDurable) await append.file.datasync();
}

export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** write(2) may write less than asked; this loops until every byte is written. */
export async function writeAll(file: StoreFile, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    const { bytesWritten } = await file.write(data, offset, data.length - offset, null);
    offset += bytesWritten;
  }
}

/** Makes a rename, creation or unlink in the directory durable. */
export async function syncDirectory(fs: StoreFs, directory: string): Promise<void> {
  // Windows cannot open a directory; NTFS journals its metadata itself.
  if (process.platform === 'win32') return;
  const handle = await fs.open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Creates the directory (and its parents) readable by this user only, when it is missing. */
export async function ensureDirectory(fs: StoreFs, directory: string): Promise<void> {
  const created = await fs.mkdir(directory, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  // mkdir's mode passes through the umask; a created directory gets exactly 0700.
  if (created !== undefined) await fs.chmod(directory, PRIVATE_DIRECTORY_MODE);
}

export async function unlinkQuietly(fs: StoreFs, path: string): Promise<void> {
  try {
    await fs.unlink(path);
  } catch {
    // Best effort: the caller is already reporting a failure, or the file is already gone.
  }
}

/**
 * Replaces `path` with `data` so a crash leaves either the old file or the new one, never a mix:
 * a temporary file beside it is written, fsync'd and renamed over it, then the directory fsync'd.
 */
export async function writeFileAtomic(
  fs: StoreFs,
  path: string,
  data: Uint8Array,
  mode: number = PRIVATE_FILE_MODE,
): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  let renamed = false;
  try {
    const handle = await fs.open(temporary, 'wx', mode);
    try {
      await writeAll(handle, data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temporary, path);
    renamed = true;
    await syncDirectory(fs, dirname(path));
  } catch (error) {
    if (!renamed) await unlinkQuietly(fs, temporary);
    throw error;
  }
}

/**
 * Reads a small JSON file through one open handle: null when it does not exist. `check` sees the
 * stats of that handle, so what is checked is what is read. Text that is not JSON is a
 * 'file-malformed' StoreError naming only the path: JSON.parse quotes the text around the error,
 * and these files may hold a private key.
 */
export async function readJsonFile(
  fs: StoreFs,
  path: string,
  check?: (stats: StoreFileStats) => void,
): Promise<{ json: unknown } | null> {
  let handle: StoreFile;
  try {
    handle = await fs.open(path, 'r');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
  let text: string;
  try {
    if (check !== undefined) check(await handle.stat());
    text = (await handle.readFile()).toString('utf8');
  } finally {
    await handle.close();
  }
  try {
    return { json: JSON.parse(text) as unknown };
  } catch {
    throw new StoreError('file-malformed', `${path} is not valid JSON`, { path });
  }
}
