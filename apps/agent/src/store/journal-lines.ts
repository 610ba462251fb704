import type { z } from 'zod';
import { errorCode, type StoreFs } from './store-fs.ts';

/** What opening a journal had to repair; worth a log line, never a reason to refuse to start. */
export interface JournalRecovery {
  /** Bytes of an unterminated last line cut off (a write torn by a crash or power loss). */
  truncatedBytes: number;
  /** Complete lines that were not valid records (corruption), skipped. */
  skippedLines: number;
}

export interface JournalLines {
  /** Every newline-terminated line, without its newline. */
  lines: string[];
  /** The file's size once a torn tail is cut off. */
  size: number;
  truncatedBytes: number;
}

const NEWLINE = 0x0a;

/**
 * Reads a journal of newline-terminated lines; null when the file does not exist. Records are only
 * ever appended and fsync'd as a whole, so bytes after the last newline are a write that a crash
 * interrupted before it was acknowledged: they are cut off the file, so the next append does not
 * glue onto them.
 */
export async function readJournalLines(fs: StoreFs, path: string): Promise<JournalLines | null> {
  let handle;
  try {
    handle = await fs.open(path, 'r+');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
  try {
    const content = await handle.readFile();
    const end = content.lastIndexOf(NEWLINE) + 1;
    const truncatedBytes = content.length - end;
    if (truncatedBytes > 0) {
      await handle.truncate(end);
      await handle.datasync();
    }
    const lines: string[] = [];
    let start = 0;
    while (start < end) {
      const next = content.indexOf(NEWLINE, start);
      lines.push(content.toString('utf8', start, next));
      start = next + 1;
    }
    return { lines, size: end, truncatedBytes };
  } finally {
    await handle.close();
  }
}

/** Parses one line as JSON and checks it against the schema; null when it fails either. */
export function parseJournalLine<T>(line: string, schema: z.ZodType<T>): T | null {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return null;
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? parsed.data : null;
}

export function toJournalLine(record: unknown): string {
  return `${JSON.stringify(record)}\n`;
}
