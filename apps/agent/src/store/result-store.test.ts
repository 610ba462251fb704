import { randomUUID } from 'node:crypto';
import { appendFile, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openResultStore, RESULT_STORE_FILE } from './result-store.ts';
import type { StoredResult } from './store-contracts.ts';
import { countingFs } from './testing/counting-fs.ts';
import { useTempDirs } from './testing/temp-dirs.ts';

const tempDir = useTempDirs('custody-results-');
const DAY = 24 * 60 * 60_000;

function storedResult(commandId: string, finishedAt: number): StoredResult {
  return {
    commandId,
    outcome: 'succeeded',
    result: { accessState: 'owned', evidence: [1, 2] },
    error: null,
    finishedAt: new Date(finishedAt).toISOString(),
  };
}

describe('the result store', () => {
  it('reports a started command as started and a finished one by its result, across restarts', async () => {
    const dir = await tempDir();
    const started = randomUUID();
    const finished = randomUUID();
    let store = await openResultStore(dir);
    expect(store.get(started)).toBeUndefined();
    await store.markStarted(started);
    await store.markStarted(finished);
    const result = storedResult(finished, Date.now());
    await store.finish(result);
    expect(store.get(started)).toBe('started');
    expect(store.get(finished)).toEqual(result);
    await store.close();

    // The agent died while `started` ran: it stays started, never becomes re-runnable.
    store = await openResultStore(dir);
    expect(store.get(started)).toBe('started');
    expect(store.get(finished)).toEqual(result);
    expect((await stat(join(dir, RESULT_STORE_FILE))).mode & 0o777).toBe(0o600);
    await store.close();
  });

  it('keeps the first finish and never goes back to started', async () => {
    const store = await openResultStore(await tempDir());
    const id = randomUUID();
    const first = storedResult(id, Date.now());
    await store.finish(first);
    await store.finish({ ...first, outcome: 'failed', error: { code: 'x', message: 'y' } });
    await store.markStarted(id);
    expect(store.get(id)).toEqual(first);
    await store.close();
  });

  it('is durable before resolving, with concurrent writes sharing one fsync', async () => {
    const dir = await tempDir();
    const counting = countingFs();
    const store = await openResultStore(dir, { fs: counting.fs });
    counting.reset();
    const ids = Array.from({ length: 50 }, () => randomUUID());
    await Promise.all(ids.map((id) => store.markStarted(id)));
    expect(counting.flushes()).toBe(1);
    const text = await readFile(join(dir, RESULT_STORE_FILE), 'utf8');
    for (const id of ids) expect(text).toContain(id);
    await store.close();
  });

  it('undoes in memory a change whose write failed', async () => {
    const counting = countingFs();
    const store = await openResultStore(await tempDir(), { fs: counting.fs });
    const id = randomUUID();
    counting.failNext('write');
    await expect(store.markStarted(id)).rejects.toMatchObject({ code: 'write-failed' });
    expect(store.get(id)).toBeUndefined();
    await store.markStarted(id);
    counting.failNext('write');
    await expect(store.finish(storedResult(id, Date.now()))).rejects.toMatchObject({
      code: 'write-failed',
    });
    expect(store.get(id)).toBe('started');
    await store.close();
  });

  it('prunes results older than retainMs on open, and unfinished commands by their start', async () => {
    const dir = await tempDir();
    let now = 100 * DAY;
    let store = await openResultStore(dir, { now: () => now });
    const old = randomUUID();
    const oldStarted = randomUUID();
    const recent = randomUUID();
    await store.finish(storedResult(old, now - 31 * DAY));
    await store.markStarted(oldStarted);
    now += 20 * DAY;
    await store.finish(storedResult(recent, now));
    await store.close();
    now += 11 * DAY;
    store = await openResultStore(dir, { now: () => now });
    expect(store.get(old)).toBeUndefined();
    expect(store.get(oldStarted)).toBeUndefined();
    expect(store.get(recent)).toEqual(storedResult(recent, now - 11 * DAY));
    expect(store.size).toBe(1);
    const text = await readFile(join(dir, RESULT_STORE_FILE), 'utf8');
    expect(text.trim().split('\n')).toHaveLength(1);
    await store.close();

    store = await openResultStore(dir, { now: () => now, retainMs: DAY });
    expect(store.get(recent)).toBeUndefined();
    await store.close();
  });

  it('journals a command accepted, then started, and reads it back after a restart', async () => {
    const dir = await tempDir();
    const queued = randomUUID();
    const running = randomUUID();
    let store = await openResultStore(dir);
    await store.markAccepted(queued, { serial: 'ACCC8E000001' });
    await store.markAccepted(running, { serial: 'ACCC8E000002' });
    await store.markStarted(running);
    // Accepting again changes nothing: a re-delivery does not move a command back.
    await store.markAccepted(running);
    expect(store.get(queued)).toBe('accepted');
    expect(store.get(running)).toBe('started');
    await store.close();

    store = await openResultStore(dir);
    expect(store.get(queued)).toBe('accepted');
    expect(store.get(running)).toBe('started');
    expect(store.unreported()).toEqual([
      { state: 'accepted', commandId: queued, serial: 'ACCC8E000001' },
      { state: 'started', commandId: running, serial: 'ACCC8E000002' },
    ]);
    await store.close();
  });

  it('lists a finished result as unreported until it is marked reported, across restarts', async () => {
    const dir = await tempDir();
    const id = randomUUID();
    const result = storedResult(id, Date.now());
    let store = await openResultStore(dir);
    await store.markAccepted(id);
    await store.markStarted(id);
    await store.finish(result);
    await store.close();

    // The agent died after storing the result and before it reached the outbox.
    store = await openResultStore(dir);
    expect(store.unreported()).toEqual([{ state: 'finished', commandId: id, result }]);
    await store.markReported(id);
    expect(store.unreported()).toEqual([]);
    await store.close();

    store = await openResultStore(dir);
    expect(store.unreported()).toEqual([]);
    expect(store.get(id)).toEqual(result);
    await store.close();
  });

  it('keeps the reported mark through a compaction', async () => {
    const dir = await tempDir();
    let now = 100 * DAY;
    let store = await openResultStore(dir, { now: () => now });
    const old = randomUUID();
    const kept = randomUUID();
    await store.finish(storedResult(old, now - 40 * DAY));
    await store.finish(storedResult(kept, now));
    await store.markReported(kept);
    await store.close();
    now += DAY;
    store = await openResultStore(dir, { now: () => now });
    const text = await readFile(join(dir, RESULT_STORE_FILE), 'utf8');
    expect(text.trim().split('\n')).toHaveLength(1);
    expect(store.unreported()).toEqual([]);
    await store.close();
  });

  it('forgets an accepted command that was refused, so it can be sent again', async () => {
    const dir = await tempDir();
    const id = randomUUID();
    let store = await openResultStore(dir);
    await store.markAccepted(id);
    await store.forget(id);
    expect(store.get(id)).toBeUndefined();
    await store.close();
    store = await openResultStore(dir);
    expect(store.get(id)).toBeUndefined();
    expect(store.unreported()).toEqual([]);
    await store.close();
  });

  it('never forgets a finished result', async () => {
    const store = await openResultStore(await tempDir());
    const id = randomUUID();
    const result = storedResult(id, Date.now());
    await store.finish(result);
    await store.forget(id);
    expect(store.get(id)).toEqual(result);
    await store.close();
  });

  it('reads a finished record written before reports were tracked as already reported', async () => {
    const dir = await tempDir();
    const id = randomUUID();
    const result = storedResult(id, Date.now());
    await appendFile(
      join(dir, RESULT_STORE_FILE),
      `${JSON.stringify({ op: 'started', commandId: id, at: Date.now() })}\n${JSON.stringify({ op: 'finished', result })}\n`,
      { mode: 0o600 },
    );
    const store = await openResultStore(dir);
    expect(store.get(id)).toEqual(result);
    expect(store.unreported()).toEqual([]);
    await store.close();
  });

  it('survives a torn last line', async () => {
    const dir = await tempDir();
    let store = await openResultStore(dir);
    const id = randomUUID();
    await store.markStarted(id);
    await store.close();
    await appendFile(join(dir, RESULT_STORE_FILE), '{"op":"finished","result":{"comm');
    store = await openResultStore(dir);
    expect(store.get(id)).toBe('started');
    expect(store.recovery.truncatedBytes).toBeGreaterThan(0);
    await store.close();
  });

  it('refuses a result that would not read back', async () => {
    const store = await openResultStore(await tempDir());
    const bad = { ...storedResult(randomUUID(), Date.now()), finishedAt: 'yesterday' };
    await expect(store.finish(bad)).rejects.toMatchObject({ code: 'invalid-record' });
    await store.close();
  });
});
