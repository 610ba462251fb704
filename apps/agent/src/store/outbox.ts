import { join } from 'node:path';
import {
  AgentMessageSchema,
  DURABLE_AGENT_MESSAGE_TYPES,
  type AgentMessage,
  type AgentMessageType,
} from '@custody/core';
import { z } from 'zod';
import { GroupCommit } from './group-commit.ts';
import {
  parseJournalLine,
  readJournalLines,
  toJournalLine,
  type JournalRecovery,
} from './journal-lines.ts';
import { OutboxFullError, StoreError } from './store-error.ts';
import type { Outbox } from './store-contracts.ts';
import {
  appendDurably,
  ensureDirectory,
  errorCode,
  nodeStoreFs,
  openAppendFile,
  PRIVATE_FILE_MODE,
  syncDirectory,
  unlinkQuietly,
  writeAll,
  type AppendFile,
  type StoreFs,
} from './store-fs.ts';

/*
 * On disk the outbox is a directory of segment files, `segment-NNNNNNNNNN.jsonl`, each a journal of
 * JSON lines: a header, then `append` records (a sequence number and the message) and `ack` or
 * `drop` records (the sequence numbers they remove). Replaying the segments in order rebuilds the
 * pending messages. Every batch of records is one write and one fdatasync (group commit).
 *
 * A full segment is followed by a new one; the oldest segments go once nothing in them is pending.
 * When removed records dominate (or the bound would be crossed) the outbox compacts: the pending
 * messages are written to a new segment marked `base`, which is fsync'd and renamed into place; a
 * base supersedes every segment before it, so a crash before they are deleted changes nothing.
 *
 * Size policy. `maxBytes` bounds the journal on disk between operations (compaction briefly needs
 * room for a second copy of what is pending). Pending messages may fill three quarters of it; the
 * rest is room for acks and drops, so a full outbox does not compact on every append. When an
 * append would not fit, older messages are dropped, oldest first, in this order:
 *   1. inventory snapshots and deltas: the next snapshot supersedes them. A snapshot goes with all
 *      its parts (never the parts of the snapshot being appended);
 *   2. discovery events: the inventory carries the same facts;
 *   3. command progress, but only to make room for a command ack or result: progress narrates a
 *      command, the result is what it did.
 * Command acks and results are never dropped: the server cannot learn them any other way. When
 * only they would be left and the message still does not fit, append rejects with an
 * OutboxFullError and nothing is dropped. Drops are journaled, so dropped messages stay dropped
 * after a restart, and counted in `dropped`.
 */

export const DEFAULT_OUTBOX_MAX_BYTES = 64 * 1024 * 1024;
export const MIN_OUTBOX_MAX_BYTES = 16 * 1024;
const FORMAT = 1;
const SEGMENT_NAME = /^segment-(\d{10})\.jsonl$/;
const COMPACTION_LEFTOVER = /^segment-\d{10}\.jsonl\.tmp$/;
/** Room kept for the header of a new segment when checking the bound. */
const HEADER_ALLOWANCE = 128;

const SegmentHeaderSchema = z.object({
  op: z.literal('segment'),
  format: z.int(),
  base: z.boolean(),
  nextSeq: z.int().min(1),
});

const OutboxRecordSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('append'), seq: z.int().min(1), message: AgentMessageSchema }),
  z.object({ op: z.literal('ack'), seqs: z.array(z.int().min(1)) }),
  z.object({ op: z.literal('drop'), seqs: z.array(z.int().min(1)) }),
]);

type DurableMessageType = (typeof DURABLE_AGENT_MESSAGE_TYPES)[number];

/** Lower drops first; messages without a tier are never dropped. */
const DROP_TIER: Partial<Record<AgentMessageType, number>> = {
  'inventory-snapshot': 0,
  'inventory-delta': 0,
  'discovery-event': 1,
  'command-progress': 2,
};
const TIER_COUNT = 3;
/** The tiers a message may push out: progress goes only for what reports a command's fate. */
function tiersFor(type: AgentMessageType): number {
  return type === 'command-result' || type === 'command-ack' ? 3 : 2;
}

function isDurable(type: AgentMessageType): type is DurableMessageType {
  return (DURABLE_AGENT_MESSAGE_TYPES as readonly AgentMessageType[]).includes(type);
}

function segmentName(index: number): string {
  return `segment-${String(index).padStart(10, '0')}.jsonl`;
}

interface Segment {
  index: number;
  path: string;
  size: number;
  /** Pending messages whose append record is in this segment. */
  live: number;
}

interface Entry {
  seq: number;
  message: AgentMessage;
  /** Size of its append record. */
  bytes: number;
  /** Its append record is on disk; pending() shows only these. */
  committed: boolean;
  removed: boolean;
  segment: Segment | null;
}

interface Op {
  text: string;
  bytes: number;
  /** The entry an append op writes; null for an ack. */
  entry: Entry | null;
}

export interface OutboxOptions {
  /** Bound on the journal's size on disk; see the size policy above. Default 64 MiB. */
  maxBytes?: number;
  fs?: StoreFs;
}

export interface DurableOutbox extends Outbox {
  /** Size of the journal on disk. */
  readonly bytes: number;
  /** Size of the pending messages' records, which the size policy holds to 3/4 of maxBytes. */
  readonly pendingBytes: number;
  readonly recovery: JournalRecovery;
}

interface LoadedSegment {
  segment: Segment;
  base: boolean;
  nextSeq: number;
  records: { record: z.infer<typeof OutboxRecordSchema>; bytes: number }[];
}

async function loadSegment(
  fs: StoreFs,
  path: string,
  index: number,
  recovery: JournalRecovery,
): Promise<LoadedSegment | null> {
  const read = await readJournalLines(fs, path);
  if (read === null) return null;
  recovery.truncatedBytes += read.truncatedBytes;
  const [first, ...rest] = read.lines;
  // A new segment's header is fsync'd before any record goes in, so a segment without one is a
  // crash while it was being created.
  if (first === undefined) return null;
  const header = parseJournalLine(first, SegmentHeaderSchema);
  if (header === null) {
    throw new StoreError('file-malformed', `${path} is not an outbox segment`, { path });
  }
  if (header.format !== FORMAT) {
    throw new StoreError(
      'file-malformed',
      `${path} is in outbox format ${header.format}, which this agent does not read (it reads ${FORMAT})`,
      { path },
    );
  }
  const records: LoadedSegment['records'] = [];
  for (const line of rest) {
    const record = parseJournalLine(line, OutboxRecordSchema);
    if (record === null) recovery.skippedLines += 1;
    else records.push({ record, bytes: Buffer.byteLength(line) + 1 });
  }
  return {
    segment: { index, path, size: read.size, live: 0 },
    base: header.base,
    nextSeq: header.nextSeq,
    records,
  };
}

/**
 * The agent's durable outbox in `dir` (created 0700 when missing). See the comment at the top of
 * this file for the on-disk layout and the size policy.
 */
export async function openOutbox(dir: string, options: OutboxOptions = {}): Promise<DurableOutbox> {
  const fs = options.fs ?? nodeStoreFs;
  const maxBytes = options.maxBytes ?? DEFAULT_OUTBOX_MAX_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < MIN_OUTBOX_MAX_BYTES) {
    throw new RangeError(`maxBytes must be an integer of at least ${MIN_OUTBOX_MAX_BYTES}`);
  }
  await ensureDirectory(fs, dir);
  const names = await fs.readdir(dir);
  for (const name of names) {
    if (COMPACTION_LEFTOVER.test(name)) await unlinkQuietly(fs, join(dir, name));
  }
  const indexes = names
    .map((name) => SEGMENT_NAME.exec(name)?.[1])
    .filter((digits) => digits !== undefined)
    .map(Number)
    .sort((a, b) => a - b);

  const recovery: JournalRecovery = { truncatedBytes: 0, skippedLines: 0 };
  const loaded: LoadedSegment[] = [];
  const unusable: string[] = [];
  for (const index of indexes) {
    const path = join(dir, segmentName(index));
    const segment = await loadSegment(fs, path, index, recovery);
    if (segment === null) unusable.push(path);
    else loaded.push(segment);
  }
  const baseAt = loaded.findLastIndex((segment) => segment.base);
  for (const superseded of loaded.splice(0, Math.max(baseAt, 0))) {
    unusable.push(superseded.segment.path);
  }
  for (const path of unusable) await unlinkQuietly(fs, path);
  if (unusable.length > 0) await syncDirectory(fs, dir);

  const outbox = new SegmentedOutbox(fs, dir, maxBytes, recovery, indexes.at(-1) ?? 0);
  outbox.replay(loaded);
  await outbox.start();
  return outbox;
}

class SegmentedOutbox implements DurableOutbox {
  readonly recovery: JournalRecovery;
  readonly #fs: StoreFs;
  readonly #dir: string;
  readonly #maxBytes: number;
  /** Pending messages may fill this much; the rest of maxBytes is room for acks and drops. */
  readonly #liveLimit: number;
  readonly #segmentBytes: number;
  readonly #commits: GroupCommit<Op>;

  readonly #entries = new Map<number, Entry>();
  readonly #byId = new Map<string, Entry[]>();
  readonly #tiers: Set<Entry>[] = Array.from({ length: TIER_COUNT }, () => new Set());
  readonly #snapshots = new Map<string, Set<Entry>>();
  #liveBytes = 0;
  #depth = 0;
  #dropped = 0;
  #nextSeq = 1;
  #pending: AgentMessage[] | null = null;

  #segments: Segment[] = [];
  #lastIndex: number;
  #append: AppendFile | null = null;
  #diskBytes = 0;
  #closed = false;
  #broken: StoreError | null = null;

  constructor(
    fs: StoreFs,
    dir: string,
    maxBytes: number,
    recovery: JournalRecovery,
    lastIndex: number,
  ) {
    this.#fs = fs;
    this.#dir = dir;
    this.#maxBytes = maxBytes;
    this.#liveLimit = Math.floor((maxBytes * 3) / 4);
    this.#segmentBytes = Math.max(4096, Math.floor(maxBytes / 16));
    this.recovery = recovery;
    this.#lastIndex = lastIndex;
    this.#commits = new GroupCommit((batch) => this.#commit(batch));
  }

  get depth(): number {
    return this.#depth;
  }

  get dropped(): number {
    return this.#dropped;
  }

  get bytes(): number {
    return this.#diskBytes;
  }

  get pendingBytes(): number {
    return this.#liveBytes;
  }

  replay(loaded: LoadedSegment[]): void {
    let maxSeq = 0;
    for (const { segment, nextSeq, records } of loaded) {
      this.#segments.push(segment);
      this.#diskBytes += segment.size;
      this.#nextSeq = Math.max(this.#nextSeq, nextSeq);
      for (const { record, bytes } of records) {
        if (record.op === 'append') {
          maxSeq = Math.max(maxSeq, record.seq);
          if (this.#entries.has(record.seq)) continue;
          const entry = this.#add(record.seq, record.message, bytes);
          this.#liveBytes += bytes;
          entry.committed = true;
          entry.segment = segment;
          segment.live += 1;
          this.#depth += 1;
        } else {
          for (const seq of record.seqs) {
            maxSeq = Math.max(maxSeq, seq);
            const entry = this.#entries.get(seq);
            if (entry !== undefined) this.#remove(entry);
          }
        }
      }
    }
    this.#nextSeq = Math.max(this.#nextSeq, maxSeq + 1);
  }

  async start(): Promise<void> {
    const current = this.#segments.at(-1);
    if (current === undefined) {
      await this.#startSegment();
      return;
    }
    this.#append = await openAppendFile(this.#fs, current.path);
  }

  pending(): readonly AgentMessage[] {
    if (this.#pending === null) {
      const pending: AgentMessage[] = [];
      for (const entry of this.#entries.values()) if (entry.committed) pending.push(entry.message);
      this.#pending = pending;
    }
    return this.#pending;
  }

  append(message: AgentMessage): Promise<void> {
    const refusal = this.#refusal();
    if (refusal !== null) return Promise.reject(refusal);
    if (!isDurable(message.type)) {
      return Promise.reject(
        new StoreError('not-durable', `A ${message.type} message does not go through the outbox`),
      );
    }
    // Checked now, because a message that does not read back would vanish at the next restart.
    if (!AgentMessageSchema.safeParse(message).success) {
      return Promise.reject(
        new StoreError('invalid-record', `Refusing to journal an invalid ${message.type} message`),
      );
    }
    const seq = this.#nextSeq;
    const line = toJournalLine({ op: 'append', seq, message });
    const bytes = Buffer.byteLength(line);
    const victims = this.#victimsFor(message, bytes);
    if (victims === null) {
      return Promise.reject(
        new OutboxFullError(
          message.type,
          `The outbox is full (${this.#liveBytes} of ${this.#liveLimit} bytes pending, nothing droppable left) and cannot take a ${bytes}-byte ${message.type} message`,
          { path: this.#dir },
        ),
      );
    }
    this.#nextSeq += 1;
    let text = line;
    if (victims.length > 0) {
      for (const victim of victims) this.#remove(victim);
      this.#dropped += victims.length;
      text = toJournalLine({ op: 'drop', seqs: victims.map((victim) => victim.seq) }) + line;
    }
    const entry = this.#add(seq, message, bytes);
    this.#liveBytes += bytes;
    return this.#commits.submit({ text, bytes: Buffer.byteLength(text), entry });
  }

  acknowledge(ids: readonly string[]): Promise<void> {
    const refusal = this.#refusal();
    if (refusal !== null) return Promise.reject(refusal);
    const seqs: number[] = [];
    for (const id of ids) {
      for (const entry of this.#byId.get(id) ?? []) {
        // A message not yet on disk was never sent, so an ack for it is not about it.
        if (entry.committed && !entry.removed) {
          this.#remove(entry);
          seqs.push(entry.seq);
        }
      }
    }
    if (seqs.length === 0) return Promise.resolve();
    const text = toJournalLine({ op: 'ack', seqs });
    return this.#commits.submit({ text, bytes: Buffer.byteLength(text), entry: null });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#commits.idle();
    await this.#append?.file.close();
  }

  #refusal(): StoreError | null {
    if (this.#broken !== null) return this.#broken;
    if (this.#closed) {
      return new StoreError('store-closed', `The outbox in ${this.#dir} is closed`, {
        path: this.#dir,
      });
    }
    return null;
  }

  #add(seq: number, message: AgentMessage, bytes: number): Entry {
    const entry: Entry = { seq, message, bytes, committed: false, removed: false, segment: null };
    this.#entries.set(seq, entry);
    const sameId = this.#byId.get(message.id);
    if (sameId === undefined) this.#byId.set(message.id, [entry]);
    else sameId.push(entry);
    const tier = DROP_TIER[message.type];
    if (tier !== undefined) this.#tiers[tier]?.add(entry);
    if (message.type === 'inventory-snapshot') {
      const parts = this.#snapshots.get(message.snapshotId);
      if (parts === undefined) this.#snapshots.set(message.snapshotId, new Set([entry]));
      else parts.add(entry);
    }
    return entry;
  }

  #remove(entry: Entry): void {
    if (entry.removed) return;
    entry.removed = true;
    this.#entries.delete(entry.seq);
    const sameId = this.#byId.get(entry.message.id)?.filter((other) => other !== entry) ?? [];
    if (sameId.length === 0) this.#byId.delete(entry.message.id);
    else this.#byId.set(entry.message.id, sameId);
    const tier = DROP_TIER[entry.message.type];
    if (tier !== undefined) this.#tiers[tier]?.delete(entry);
    if (entry.message.type === 'inventory-snapshot') {
      const parts = this.#snapshots.get(entry.message.snapshotId);
      parts?.delete(entry);
      if (parts?.size === 0) this.#snapshots.delete(entry.message.snapshotId);
    }
    this.#liveBytes -= entry.bytes;
    if (entry.committed) {
      this.#depth -= 1;
      this.#pending = null;
    }
    if (entry.segment !== null) entry.segment.live -= 1;
  }

  /** What to drop so `bytes` more fit (see the size policy); null when nothing would do. */
  #victimsFor(message: AgentMessage, bytes: number): Entry[] | null {
    if (bytes > this.#liveLimit) return null;
    let excess = this.#liveBytes + bytes - this.#liveLimit;
    if (excess <= 0) return [];
    const keep = message.type === 'inventory-snapshot' ? message.snapshotId : null;
    const victims = new Set<Entry>();
    for (const tier of this.#tiers.slice(0, tiersFor(message.type))) {
      for (const entry of tier) {
        if (excess <= 0) break;
        if (victims.has(entry)) continue;
        let group: Iterable<Entry> = [entry];
        if (entry.message.type === 'inventory-snapshot') {
          if (entry.message.snapshotId === keep) continue;
          group = this.#snapshots.get(entry.message.snapshotId) ?? group;
        }
        for (const member of group) {
          if (victims.has(member)) continue;
          victims.add(member);
          excess -= member.bytes;
        }
      }
    }
    return excess <= 0 ? [...victims] : null;
  }

  #commit(batch: Op[]): Promise<void> {
    if (this.#broken !== null) return Promise.reject(this.#broken);
    // Decided before the first await, while the in-memory state is exactly what this batch
    // leaves behind: a compaction writes that state and so stands in for the batch.
    const batchBytes = batch.reduce((sum, op) => sum + op.bytes, 0);
    const deadPrefix: Segment[] = [];
    for (const segment of this.#segments.slice(0, -1)) {
      if (segment.live > 0) break;
      deadPrefix.push(segment);
    }
    const deadPrefixBytes = deadPrefix.reduce((sum, segment) => sum + segment.size, 0);
    const after = this.#diskBytes - deadPrefixBytes + batchBytes + HEADER_ALLOWANCE;
    const compact =
      after > this.#maxBytes || (after > 2 * this.#segmentBytes && after > 2 * this.#liveBytes);
    const work = compact
      ? this.#compact([...this.#entries.values()])
      : this.#write(batch, deadPrefix);
    return work.then(
      () => {
        for (const { entry } of batch) {
          if (entry === null) continue;
          entry.committed = true;
          if (!entry.removed) {
            this.#depth += 1;
            this.#pending = null;
          }
        }
      },
      (error: unknown) => {
        // Not durable, so not appended: the caller sees the rejection and the message is gone.
        for (const { entry } of batch) if (entry !== null) this.#remove(entry);
        throw error;
      },
    );
  }

  async #write(batch: Op[], deadPrefix: Segment[]): Promise<void> {
    for (const segment of deadPrefix) {
      // One at a time with a directory fsync each: a later segment may hold the acks of an
      // earlier one's messages, so it must never be gone while the earlier one is still there.
      // A segment that cannot be deleted is only wasted space; the next batch tries again.
      try {
        await this.#fs.unlink(segment.path);
      } catch (error) {
        if (errorCode(error) !== 'ENOENT') break;
      }
      this.#segments.shift();
      this.#diskBytes -= segment.size;
      try {
        await syncDirectory(this.#fs, this.#dir);
      } catch {
        break;
      }
    }
    let current = this.#segments.at(-1);
    if (current === undefined || current.size >= this.#segmentBytes) {
      current = await this.#startSegment();
    }
    const append = this.#append;
    if (append === null) throw this.#breaks(new Error('no open segment'));
    const data = Buffer.from(batch.map((op) => op.text).join(''), 'utf8');
    try {
      await appendDurably(append, data);
    } catch (error) {
      try {
        await append.file.truncate(current.size);
        await append.file.datasync();
      } catch (undoError) {
        throw this.#breaks(new AggregateError([error, undoError]));
      }
      throw this.#writeFailed(current.path, error);
    }
    current.size += data.length;
    this.#diskBytes += data.length;
    for (const { entry } of batch) {
      if (entry === null) continue;
      entry.segment = current;
      if (!entry.removed) current.live += 1;
    }
  }

  /** Creates the next segment with its header durable, and makes it the one appended to. */
  async #startSegment(): Promise<Segment> {
    const index = this.#lastIndex + 1;
    const path = join(this.#dir, segmentName(index));
    const header = Buffer.from(
      toJournalLine({ op: 'segment', format: FORMAT, base: false, nextSeq: this.#nextSeq }),
    );
    let append: AppendFile | null = null;
    try {
      append = await openAppendFile(this.#fs, path, { exclusive: true });
      await writeAll(append.file, header);
      await append.file.sync();
      await syncDirectory(this.#fs, this.#dir);
    } catch (error) {
      await append?.file.close().catch(() => undefined);
      await unlinkQuietly(this.#fs, path);
      throw this.#writeFailed(path, error);
    }
    this.#lastIndex = index;
    const previous = this.#append;
    this.#append = append;
    await previous?.file.close().catch(() => undefined);
    const segment: Segment = { index, path, size: header.length, live: 0 };
    this.#segments.push(segment);
    this.#diskBytes += segment.size;
    return segment;
  }

  async #compact(live: Entry[]): Promise<void> {
    const index = this.#lastIndex + 1;
    const path = join(this.#dir, segmentName(index));
    const temporary = `${path}.tmp`;
    const lines = [
      toJournalLine({ op: 'segment', format: FORMAT, base: true, nextSeq: this.#nextSeq }),
    ];
    for (const entry of live) {
      lines.push(toJournalLine({ op: 'append', seq: entry.seq, message: entry.message }));
    }
    const data = Buffer.from(lines.join(''), 'utf8');
    try {
      const handle = await this.#fs.open(temporary, 'w', PRIVATE_FILE_MODE);
      try {
        await writeAll(handle, data);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await this.#fs.rename(temporary, path);
    } catch (error) {
      await unlinkQuietly(this.#fs, temporary);
      throw this.#writeFailed(path, error);
    }
    // From here the base segment is in place; anything that fails leaves a journal that reads
    // back correctly, but this process no longer knows which file it appends to.
    try {
      await syncDirectory(this.#fs, this.#dir);
      this.#lastIndex = index;
      await this.#append?.file.close();
      this.#append = null;
      this.#append = await openAppendFile(this.#fs, path);
      const superseded = this.#segments;
      const base: Segment = { index, path, size: data.length, live: 0 };
      for (const entry of live) {
        entry.segment = base;
        if (!entry.removed) base.live += 1;
      }
      this.#segments = [base];
      this.#diskBytes = base.size;
      for (const segment of superseded) await unlinkQuietly(this.#fs, segment.path);
      await syncDirectory(this.#fs, this.#dir);
    } catch (error) {
      throw this.#breaks(error);
    }
  }

  #writeFailed(path: string, cause: unknown): StoreError {
    return new StoreError('write-failed', `Could not write the outbox segment ${path}`, {
      path,
      cause,
    });
  }

  #breaks(cause: unknown): StoreError {
    this.#broken = new StoreError(
      'store-broken',
      `The outbox in ${this.#dir} is in an unknown state after a failed write; reopen it`,
      { path: this.#dir, cause },
    );
    return this.#broken;
  }
}
