import { randomUUID } from 'node:crypto';
import { appendFile, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentMessage } from '@custody/core';
import { describe, expect, it } from 'vitest';
import { openOutbox, type DurableOutbox } from './outbox.ts';
import { isStoreError, OutboxFullError } from './store-error.ts';
import {
  deltaMessage,
  discoveryMessage,
  progressMessage,
  resultMessage,
  snapshotMessage,
} from './testing/agent-messages.ts';
import { countingFs } from './testing/counting-fs.ts';
import { useTempDirs } from './testing/temp-dirs.ts';

const tempDir = useTempDirs('custody-outbox-');
const SMALL = 16 * 1024;

async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.startsWith('segment-')).sort();
}

async function lastSegment(dir: string): Promise<string> {
  const files = await segmentFiles(dir);
  const last = files.at(-1);
  if (last === undefined) throw new Error('no segment');
  return join(dir, last);
}

function ids(messages: readonly AgentMessage[]): string[] {
  return messages.map((message) => message.id);
}

async function reopen(outbox: DurableOutbox, dir: string, maxBytes?: number) {
  await outbox.close();
  return openOutbox(dir, maxBytes === undefined ? {} : { maxBytes });
}

describe('openOutbox', () => {
  it('creates its directory readable by this user only and its segments 0600', async () => {
    const dir = join(await tempDir(), 'data', 'outbox');
    const outbox = await openOutbox(dir);
    await outbox.append(progressMessage('one'));
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    for (const name of await segmentFiles(dir)) {
      expect((await stat(join(dir, name))).mode & 0o777).toBe(0o600);
    }
    await outbox.close();
  });

  it('resolves an append only after its record is written and fsync’d', async () => {
    const dir = await tempDir();
    const counting = countingFs();
    const outbox = await openOutbox(dir, { fs: counting.fs });
    counting.reset();
    const message = progressMessage('durable');
    const appended = outbox.append(message);
    expect(outbox.pending()).toEqual([]);
    expect(counting.flushes()).toBe(0);
    await appended;
    expect(counting.counts.write).toBe(1);
    expect(counting.flushes()).toBe(1);
    expect(ids(outbox.pending())).toEqual([message.id]);
    expect(await readFile(await lastSegment(dir), 'utf8')).toContain(message.id);
    await outbox.close();
  });

  it('gathers 1,000 concurrent appends into one write and one fsync (group commit), in order', async () => {
    const dir = await tempDir();
    const counting = countingFs();
    const outbox = await openOutbox(dir, { fs: counting.fs });
    counting.reset();
    const messages = Array.from({ length: 1000 }, (_, index) => progressMessage(`m${index}`));
    await Promise.all(messages.map((message) => outbox.append(message)));
    expect(counting.counts.write).toBe(1);
    expect(counting.flushes()).toBe(1);
    expect(ids(outbox.pending())).toEqual(ids(messages));
    expect(outbox.depth).toBe(1000);

    counting.reset();
    for (const message of messages.slice(0, 5)) await outbox.append(message);
    expect(counting.flushes()).toBe(5);
    await outbox.close();
  });

  it('brings back only unacknowledged messages after a restart, in append order', async () => {
    const dir = await tempDir();
    let outbox = await openOutbox(dir);
    const messages = Array.from({ length: 10 }, (_, index) => progressMessage(`m${index}`));
    for (const message of messages) await outbox.append(message);
    await outbox.acknowledge([messages[1], messages[4], messages[9]].map((m) => m!.id));
    expect(outbox.depth).toBe(7);

    outbox = await reopen(outbox, dir);
    const expected = messages.filter((_, index) => ![1, 4, 9].includes(index));
    expect(ids(outbox.pending())).toEqual(ids(expected));
    expect(outbox.pending()).toEqual(expected);
    expect(outbox.depth).toBe(7);

    const later = resultMessage();
    await outbox.append(later);
    await outbox.acknowledge([messages[0]!.id]);
    outbox = await reopen(outbox, dir);
    expect(ids(outbox.pending())).toEqual([...ids(expected.slice(1)), later.id]);
    await outbox.close();
  });

  it('ignores unknown ids without writing anything', async () => {
    const dir = await tempDir();
    const counting = countingFs();
    const outbox = await openOutbox(dir, { fs: counting.fs });
    await outbox.append(progressMessage('kept'));
    counting.reset();
    await outbox.acknowledge([randomUUID(), randomUUID()]);
    expect(counting.counts.write).toBe(0);
    expect(outbox.depth).toBe(1);
    await outbox.close();
  });

  it('refuses message types the server never acknowledges, and invalid messages', async () => {
    const outbox = await openOutbox(await tempDir());
    const heartbeat: AgentMessage = {
      v: 1,
      id: randomUUID(),
      type: 'heartbeat',
      sentAt: '2025-01-01T00:00:00.000Z',
      outboxDepth: 0,
      runningCommands: 0,
    };
    await expect(outbox.append(heartbeat)).rejects.toMatchObject({ code: 'not-durable' });
    const invalid = { ...progressMessage('x'), id: 'not-a-uuid' };
    await expect(outbox.append(invalid)).rejects.toMatchObject({ code: 'invalid-record' });
    expect(outbox.depth).toBe(0);
    await outbox.close();
  });

  it('cuts off a torn last line (a crash mid-write), opens, and appends after it', async () => {
    const dir = await tempDir();
    let outbox = await openOutbox(dir);
    const messages = [progressMessage('a'), progressMessage('b')];
    for (const message of messages) await outbox.append(message);
    await outbox.close();
    const segment = await lastSegment(dir);
    const intact = (await stat(segment)).size;
    await appendFile(segment, '{"op":"append","seq":3,"message":{"v":1,"id":"');

    outbox = await openOutbox(dir);
    expect(ids(outbox.pending())).toEqual(ids(messages));
    expect(outbox.recovery.truncatedBytes).toBeGreaterThan(0);
    expect((await stat(segment)).size).toBe(intact);
    const after = progressMessage('c');
    await outbox.append(after);
    outbox = await reopen(outbox, dir);
    expect(ids(outbox.pending())).toEqual([...ids(messages), after.id]);
    expect(outbox.recovery).toEqual({ truncatedBytes: 0, skippedLines: 0 });
    await outbox.close();
  });

  it('cuts off a zero-filled tail left by a power loss', async () => {
    const dir = await tempDir();
    let outbox = await openOutbox(dir);
    const message = progressMessage('a');
    await outbox.append(message);
    await outbox.close();
    await appendFile(await lastSegment(dir), Buffer.alloc(4096));
    outbox = await openOutbox(dir);
    expect(ids(outbox.pending())).toEqual([message.id]);
    expect(outbox.recovery.truncatedBytes).toBe(4096);
    await outbox.close();
  });

  it('skips and counts a corrupt line in the middle of a segment', async () => {
    const dir = await tempDir();
    let outbox = await openOutbox(dir);
    const first = progressMessage('a');
    await outbox.append(first);
    await outbox.close();
    await appendFile(await lastSegment(dir), 'garbage\n{"op":"append","seq":9,"message":{}}\n');
    outbox = await openOutbox(dir);
    const second = progressMessage('b');
    await outbox.append(second);
    outbox = await reopen(outbox, dir);
    expect(ids(outbox.pending())).toEqual([first.id, second.id]);
    expect(outbox.recovery.skippedLines).toBe(2);
    await outbox.close();
  });

  it('refuses a segment that is not one, naming the file', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'segment-0000000001.jsonl'), 'hello\n');
    const error: unknown = await openOutbox(dir).catch((caught: unknown) => caught);
    expect(isStoreError(error, 'file-malformed')).toBe(true);
    expect((error as Error).message).toContain(join(dir, 'segment-0000000001.jsonl'));
  });

  it('refuses a segment written in a newer format', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'segment-0000000001.jsonl'),
      '{"op":"segment","format":2,"base":false,"nextSeq":1}\n',
    );
    await expect(openOutbox(dir)).rejects.toThrow(/format 2/);
  });

  it('rejects the appends of a failed write, leaves them out, and keeps working', async () => {
    const dir = await tempDir();
    const counting = countingFs();
    let outbox = await openOutbox(dir, { fs: counting.fs });
    const kept = progressMessage('kept');
    await outbox.append(kept);
    counting.failNext('write', /segment-/);
    const lost = progressMessage('lost');
    const error: unknown = await outbox.append(lost).catch((caught: unknown) => caught);
    expect(isStoreError(error, 'write-failed')).toBe(true);
    expect(ids(outbox.pending())).toEqual([kept.id]);
    const next = progressMessage('next');
    await outbox.append(next);
    outbox = await reopen(outbox, dir);
    expect(ids(outbox.pending())).toEqual([kept.id, next.id]);
    await outbox.close();
  });

  it('breaks until reopened when a failed write cannot be undone', async () => {
    const dir = await tempDir();
    const counting = countingFs();
    let outbox = await openOutbox(dir, { fs: counting.fs });
    const kept = progressMessage('kept');
    await outbox.append(kept);
    counting.failNext('write', /segment-/);
    counting.failNext('truncate', /segment-/);
    await expect(outbox.append(progressMessage('lost'))).rejects.toMatchObject({
      code: 'store-broken',
    });
    await expect(outbox.append(progressMessage('refused'))).rejects.toMatchObject({
      code: 'store-broken',
    });
    outbox = await reopen(outbox, dir);
    expect(ids(outbox.pending())).toContain(kept.id);
    await outbox.close();
  });

  it('rejects appends after close but finishes the ones already made', async () => {
    const outbox = await openOutbox(await tempDir());
    const appended = outbox.append(progressMessage('in flight'));
    await outbox.close();
    await expect(appended).resolves.toBeUndefined();
    await expect(outbox.append(progressMessage('late'))).rejects.toMatchObject({
      code: 'store-closed',
    });
  });
});

describe('the outbox size bound', () => {
  /** Pending messages may fill three quarters of maxBytes. */
  const LIMIT = (SMALL * 3) / 4;

  /** Appends command results until less than 400 bytes of the pending budget are left. */
  async function fillWithCommands(outbox: DurableOutbox): Promise<void> {
    for (let free = LIMIT - outbox.pendingBytes; free >= 400; free = LIMIT - outbox.pendingBytes) {
      await outbox.append(resultMessage(Math.min(free - 100, 2_000)));
    }
  }

  /** A result a little larger than what is left, so the next append must drop something. */
  function slightlyTooLarge(outbox: DurableOutbox): AgentMessage {
    return resultMessage(LIMIT - outbox.pendingBytes + 20);
  }

  it('drops inventory messages first, then discovery events, then progress for a result, never results', async () => {
    const dir = await tempDir();
    let outbox = await openOutbox(dir, { maxBytes: SMALL });
    const progress = progressMessage('progress', 1_500);
    const oldDelta = deltaMessage(4);
    const event = discoveryMessage();
    const newDelta = deltaMessage(4);
    const result = resultMessage();
    for (const message of [progress, oldDelta, event, newDelta, result]) {
      await outbox.append(message);
    }
    await fillWithCommands(outbox);
    const commands = ids(outbox.pending()).filter(
      (id) => ![oldDelta.id, event.id, newDelta.id].includes(id),
    );

    await outbox.append(slightlyTooLarge(outbox));
    expect(outbox.dropped).toBe(1);
    expect(ids(outbox.pending())).not.toContain(oldDelta.id);
    expect(ids(outbox.pending())).toEqual(expect.arrayContaining([event.id, newDelta.id]));

    // The newer delta goes before the older discovery event: inventory is the first tier.
    await outbox.append(slightlyTooLarge(outbox));
    expect(outbox.dropped).toBe(2);
    expect(ids(outbox.pending())).not.toContain(newDelta.id);
    expect(ids(outbox.pending())).toContain(event.id);

    await outbox.append(slightlyTooLarge(outbox));
    expect(outbox.dropped).toBe(3);
    expect(ids(outbox.pending())).not.toContain(event.id);

    // An inventory message never pushes out command progress.
    await expect(outbox.append(deltaMessage(4))).rejects.toBeInstanceOf(OutboxFullError);
    expect(ids(outbox.pending())).toContain(progress.id);

    // A result does: progress only narrates, the result is what the server cannot learn otherwise.
    await outbox.append(slightlyTooLarge(outbox));
    expect(outbox.dropped).toBe(4);
    expect(ids(outbox.pending())).not.toContain(progress.id);

    // Only acks and results are left: the append is refused and nothing is dropped.
    const pendingBefore = ids(outbox.pending());
    const error: unknown = await outbox
      .append(slightlyTooLarge(outbox))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OutboxFullError);
    expect(error).toMatchObject({ code: 'outbox-full', messageType: 'command-result' });
    expect(ids(outbox.pending())).toEqual(pendingBefore);
    expect(ids(outbox.pending())).toEqual(
      expect.arrayContaining(commands.filter((id) => id !== progress.id)),
    );
    expect(outbox.dropped).toBe(4);

    outbox = await reopen(outbox, dir, SMALL);
    expect(ids(outbox.pending())).toEqual(pendingBefore);
    expect(outbox.dropped).toBe(0);
    await outbox.acknowledge([result.id]);
    await expect(outbox.append(resultMessage())).resolves.toBeUndefined();
    await outbox.close();
  });

  it('drops nothing when dropping everything droppable would still not make room', async () => {
    const outbox = await openOutbox(await tempDir(), { maxBytes: SMALL });
    const delta = deltaMessage(1);
    await outbox.append(delta);
    await fillWithCommands(outbox);
    await expect(outbox.append(resultMessage(1_500))).rejects.toBeInstanceOf(OutboxFullError);
    expect(outbox.dropped).toBe(0);
    expect(ids(outbox.pending())).toContain(delta.id);
    await outbox.close();
  });

  it('drops a snapshot with all its parts, and never the parts of the snapshot being appended', async () => {
    const outbox = await openOutbox(await tempDir(), { maxBytes: SMALL });
    const old = randomUUID();
    const oldParts = [1, 2, 3].map((part) => snapshotMessage(old, part, 3, 2));
    const current = randomUUID();
    const currentParts = [1, 2, 3, 4, 5].map((part) => snapshotMessage(current, part, 5, 2));
    for (const message of [...oldParts, ...currentParts.slice(0, 3)]) {
      await outbox.append(message);
    }
    const partBytes = outbox.pendingBytes / 6;
    // Leave room for most of a part: dropping the old snapshot's first part would be enough.
    await outbox.append(resultMessage(LIMIT - outbox.pendingBytes - partBytes + 20));
    await outbox.append(currentParts[3]!);
    expect(outbox.dropped).toBe(3);
    for (const part of oldParts) expect(ids(outbox.pending())).not.toContain(part.id);

    await outbox.append(resultMessage(LIMIT - outbox.pendingBytes - partBytes + 20));
    await expect(outbox.append(currentParts[4]!)).rejects.toBeInstanceOf(OutboxFullError);
    expect(outbox.dropped).toBe(3);
    for (const part of currentParts.slice(0, 4)) expect(ids(outbox.pending())).toContain(part.id);
    await outbox.close();
  });

  it('refuses a message larger than the outbox can ever hold', async () => {
    const outbox = await openOutbox(await tempDir(), { maxBytes: SMALL });
    await expect(outbox.append(deltaMessage(60))).rejects.toBeInstanceOf(OutboxFullError);
    expect(outbox.dropped).toBe(0);
    await outbox.close();
  });

  it('deletes a segment once nothing in it is pending, without compacting', async () => {
    const dir = await tempDir();
    const counting = countingFs();
    const outbox = await openOutbox(dir, { maxBytes: 64 * 1024, fs: counting.fs });
    for (let index = 0; index < 100; index += 1) {
      const message = progressMessage(`m${index}`, 400);
      await outbox.append(message);
      await outbox.acknowledge([message.id]);
    }
    expect(counting.counts.unlink).toBeGreaterThan(5);
    expect(counting.counts.rename).toBe(0);
    expect((await segmentFiles(dir)).length).toBeLessThanOrEqual(2);
    await outbox.close();
  });

  it('compacts when acknowledged records dominate, and stays within maxBytes', async () => {
    const dir = await tempDir();
    const maxBytes = 64 * 1024;
    const counting = countingFs();
    let outbox = await openOutbox(dir, { maxBytes, fs: counting.fs });
    // An unacknowledged message in the first segment keeps prefix deletion from helping.
    const pinned = resultMessage();
    await outbox.append(pinned);
    let largest = 0;
    for (let index = 0; index < 150; index += 1) {
      const message = progressMessage(`m${index}`, 400);
      await outbox.append(message);
      await outbox.acknowledge([message.id]);
      largest = Math.max(largest, outbox.bytes);
    }
    expect(counting.counts.rename).toBeGreaterThan(0);
    expect(largest).toBeLessThanOrEqual(maxBytes);
    const onDisk = await Promise.all(
      (await segmentFiles(dir)).map(async (name) => (await stat(join(dir, name))).size),
    );
    expect(onDisk.reduce((sum, size) => sum + size, 0)).toBe(outbox.bytes);
    expect(onDisk.length).toBeLessThanOrEqual(3);
    const first = await readFile(join(dir, (await segmentFiles(dir))[0]!), 'utf8');
    expect(first.split('\n')[0]).toContain('"base":true');

    outbox = await reopen(outbox, dir, maxBytes);
    expect(ids(outbox.pending())).toEqual([pinned.id]);
    await outbox.close();
  });

  it('replays correctly after a crash between a compaction and the deletion of what it replaced', async () => {
    const dir = await tempDir();
    const counting = countingFs();
    let outbox = await openOutbox(dir, { maxBytes: 64 * 1024, fs: counting.fs });
    const pinned = resultMessage();
    await outbox.append(pinned);
    counting.failNext('unlink', /segment-/, Number.POSITIVE_INFINITY);
    const acked: string[] = [];
    let kept: AgentMessage | undefined;
    for (let index = 0; counting.counts.rename === 0; index += 1) {
      const message = progressMessage(`m${index}`, 400);
      await outbox.append(message);
      if (index === 3) kept = message;
      else {
        await outbox.acknowledge([message.id]);
        acked.push(message.id);
      }
    }
    expect((await segmentFiles(dir)).length).toBeGreaterThan(2);
    await outbox.close();

    outbox = await openOutbox(dir, { maxBytes: 64 * 1024 });
    expect(ids(outbox.pending())).toEqual([pinned.id, kept!.id]);
    expect((await segmentFiles(dir)).length).toBe(1);
    await outbox.close();
  });
});
