import type { z } from 'zod';
import { GroupCommit } from './group-commit.ts';
import {
  parseJournalLine,
  readJournalLines,
  toJournalLine,
  type JournalRecovery,
} from './journal-lines.ts';
import { StoreError } from './store-error.ts';
import {
  appendDurably,
  openAppendFile,
  writeFileAtomic,
  type AppendFile,
  type StoreFs,
} from './store-fs.ts';

type JournalOp = { kind: 'append'; line: string } | { kind: 'rewrite'; snapshot: () => unknown[] };

export interface OpenedJournal<T> {
  journal: JournalFile;
  /** The valid records in file order. */
  records: T[];
  recovery: JournalRecovery;
}

/**
 * One append-only file of JSON lines (0600) with group commit, for the small stores (nonces,
 * command results). Callers keep the state in memory, apply each change there first and then
 * append its record; `rewrite` replaces the file with a snapshot of that state to shed records
 * that no longer matter.
 */
export class JournalFile {
  readonly path: string;
  readonly #fs: StoreFs;
  readonly #commits: GroupCommit<JournalOp>;
  #file: AppendFile;
  #size: number;
  #lineCount: number;
  #closed = false;
  #broken: StoreError | null = null;

  private constructor(
    fs: StoreFs,
    path: string,
    append: AppendFile,
    size: number,
    lineCount: number,
  ) {
    this.#fs = fs;
    this.path = path;
    this.#file = append;
    this.#size = size;
    this.#lineCount = lineCount;
    this.#commits = new GroupCommit((batch) => this.#commit(batch));
  }

  static async open<T>(fs: StoreFs, path: string, schema: z.ZodType<T>): Promise<OpenedJournal<T>> {
    const read = await readJournalLines(fs, path);
    const records: T[] = [];
    let skippedLines = 0;
    for (const line of read?.lines ?? []) {
      const record = parseJournalLine(line, schema);
      if (record === null) skippedLines += 1;
      else records.push(record);
    }
    const append = await openAppendFile(fs, path);
    const journal = new JournalFile(fs, path, append, read?.size ?? 0, read?.lines.length ?? 0);
    return {
      journal,
      records,
      recovery: { truncatedBytes: read?.truncatedBytes ?? 0, skippedLines },
    };
  }

  /** Lines in the file, valid or not; compared with the live state it tells when to rewrite. */
  get lineCount(): number {
    return this.#lineCount;
  }

  /** Resolves once the record is on disk (fsync). */
  append(record: unknown): Promise<void> {
    const refusal = this.#refusal();
    if (refusal !== null) return Promise.reject(refusal);
    return this.#commits.submit({ kind: 'append', line: toJournalLine(record) });
  }

  /**
   * Replaces the file, atomically, with the records `snapshot` returns when the rewrite runs. The
   * snapshot is taken of in-memory state that already holds every change submitted before it, so
   * the rewrite stands in for the appends queued with it.
   */
  rewrite(snapshot: () => unknown[]): Promise<void> {
    const refusal = this.#refusal();
    if (refusal !== null) return Promise.reject(refusal);
    return this.#commits.submit({ kind: 'rewrite', snapshot });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#commits.idle();
    await this.#file.file.close();
  }

  #refusal(): StoreError | null {
    if (this.#broken !== null) return this.#broken;
    if (this.#closed) {
      return new StoreError('store-closed', `${this.path} is closed`, { path: this.path });
    }
    return null;
  }

  #commit(batch: JournalOp[]): Promise<void> {
    // Taken before the first await: the state now is exactly the state this batch leaves.
    let rewrite: unknown[] | null = null;
    for (const op of batch) if (op.kind === 'rewrite') rewrite = op.snapshot();
    if (rewrite !== null) return this.#replace(rewrite.map(toJournalLine));
    return this.#append(batch.flatMap((op) => (op.kind === 'append' ? [op.line] : [])));
  }

  async #append(lines: string[]): Promise<void> {
    if (this.#broken !== null) throw this.#broken;
    const data = Buffer.from(lines.join(''), 'utf8');
    try {
      await appendDurably(this.#file, data);
    } catch (error) {
      await this.#undo(error);
      throw new StoreError('write-failed', `Could not write ${this.path}`, {
        path: this.path,
        cause: error,
      });
    }
    this.#size += data.length;
    this.#lineCount += lines.length;
  }

  async #replace(lines: string[]): Promise<void> {
    if (this.#broken !== null) throw this.#broken;
    const data = Buffer.from(lines.join(''), 'utf8');
    try {
      await writeFileAtomic(this.#fs, this.path, data);
    } catch (error) {
      throw new StoreError('write-failed', `Could not rewrite ${this.path}`, {
        path: this.path,
        cause: error,
      });
    }
    try {
      await this.#file.file.close();
      this.#file = await openAppendFile(this.#fs, this.path);
    } catch (error) {
      throw this.#breaks(error);
    }
    this.#size = data.length;
    this.#lineCount = lines.length;
  }

  /** Cuts a failed append off, so the next one does not land after half a record. */
  async #undo(cause: unknown): Promise<void> {
    try {
      await this.#file.file.truncate(this.#size);
      await this.#file.file.datasync();
    } catch (error) {
      throw this.#breaks(new AggregateError([cause, error]));
    }
  }

  #breaks(cause: unknown): StoreError {
    this.#broken = new StoreError(
      'store-broken',
      `${this.path} is in an unknown state after a failed write; reopen it`,
      { path: this.path, cause },
    );
    return this.#broken;
  }
}
