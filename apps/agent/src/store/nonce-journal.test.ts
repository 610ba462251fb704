import { appendFile, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NONCE_JOURNAL_FILE, openNonceJournal } from './nonce-journal.ts';
import { countingFs } from './testing/counting-fs.ts';
import { useTempDirs } from './testing/temp-dirs.ts';

const tempDir = useTempDirs('custody-nonces-');
const HOUR = 60 * 60_000;

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

describe('the nonce journal', () => {
  it('records a nonce once and refuses it again, also after a restart', async () => {
    const dir = await tempDir();
    const expiresAt = new Date(Date.now() + HOUR);
    let journal = await openNonceJournal(dir);
    expect(await journal.record('nonce-a', expiresAt)).toBe(true);
    expect(await journal.record('nonce-a', expiresAt)).toBe(false);
    await journal.close();
    journal = await openNonceJournal(dir);
    expect(await journal.record('nonce-a', expiresAt)).toBe(false);
    expect(await journal.record('nonce-b', expiresAt)).toBe(true);
    expect((await stat(join(dir, NONCE_JOURNAL_FILE))).mode & 0o777).toBe(0o600);
    await journal.close();
  });

  it('refuses the second of two concurrent records of the same nonce', async () => {
    const journal = await openNonceJournal(await tempDir());
    const expiresAt = new Date(Date.now() + HOUR);
    const outcomes = await Promise.all([
      journal.record('same', expiresAt),
      journal.record('same', expiresAt),
    ]);
    expect(outcomes).toEqual([true, false]);
    await journal.close();
  });

  it('is durable before record resolves, with concurrent records sharing one fsync', async () => {
    const dir = await tempDir();
    const counting = countingFs();
    const journal = await openNonceJournal(dir, { fs: counting.fs });
    counting.reset();
    const expiresAt = new Date(Date.now() + HOUR);
    await Promise.all(Array.from({ length: 100 }, (_, i) => journal.record(`n${i}`, expiresAt)));
    expect(counting.flushes()).toBe(1);
    expect(lines(await readFile(join(dir, NONCE_JOURNAL_FILE), 'utf8'))).toHaveLength(100);
    await journal.close();
  });

  it('forgets a nonce whose record failed, so a redelivery is not taken for a replay', async () => {
    const counting = countingFs();
    const journal = await openNonceJournal(await tempDir(), { fs: counting.fs });
    const expiresAt = new Date(Date.now() + HOUR);
    counting.failNext('write');
    await expect(journal.record('flaky', expiresAt)).rejects.toMatchObject({
      code: 'write-failed',
    });
    expect(await journal.record('flaky', expiresAt)).toBe(true);
    await journal.close();
  });

  it('prunes expired nonces on open, so the file stays bounded', async () => {
    const dir = await tempDir();
    let now = 1_000_000;
    let journal = await openNonceJournal(dir, { now: () => now });
    await journal.record('short', new Date(now + 1_000));
    await journal.record('long', new Date(now + HOUR));
    await journal.close();
    now += 2_000;
    journal = await openNonceJournal(dir, { now: () => now });
    expect(journal.size).toBe(1);
    const records = lines(await readFile(join(dir, NONCE_JOURNAL_FILE), 'utf8'));
    expect(records).toEqual([JSON.stringify({ nonce: 'long', expiresAt: 1_000_000 + HOUR })]);
    expect(await journal.record('short', new Date(now + 1_000))).toBe(true);
    expect(await journal.record('long', new Date(now + 1_000))).toBe(false);
    await journal.close();
  });

  it('prunes periodically while open', async () => {
    const dir = await tempDir();
    let now = 1_000_000;
    const journal = await openNonceJournal(dir, { now: () => now, pruneIntervalMs: 10 });
    for (let i = 0; i < 20; i += 1) await journal.record(`n${i}`, new Date(now + 1_000));
    await journal.record('kept', new Date(now + HOUR));
    now += 2_000;
    await expect.poll(() => journal.size, { interval: 5, timeout: 2_000 }).toBe(1);
    await expect
      .poll(async () => lines(await readFile(join(dir, NONCE_JOURNAL_FILE), 'utf8')).length, {
        interval: 5,
        timeout: 2_000,
      })
      .toBe(1);
    await journal.close();
  });

  it('survives a torn last line and skips a corrupt one', async () => {
    const dir = await tempDir();
    const expiresAt = new Date(Date.now() + HOUR);
    let journal = await openNonceJournal(dir);
    await journal.record('before', expiresAt);
    await journal.close();
    await appendFile(join(dir, NONCE_JOURNAL_FILE), 'not json\n{"nonce":"torn","expi');
    journal = await openNonceJournal(dir);
    expect(journal.recovery.skippedLines).toBe(1);
    expect(journal.recovery.truncatedBytes).toBeGreaterThan(0);
    expect(await journal.record('before', expiresAt)).toBe(false);
    expect(await journal.record('torn', expiresAt)).toBe(true);
    await journal.close();
    // The corrupt line went with the rewrite on open.
    const records = lines(await readFile(join(dir, NONCE_JOURNAL_FILE), 'utf8'));
    expect(records.map((line) => (JSON.parse(line) as { nonce: string }).nonce)).toEqual([
      'before',
      'torn',
    ]);
  });

  it('refuses an empty nonce', async () => {
    const journal = await openNonceJournal(await tempDir());
    await expect(journal.record('', new Date())).rejects.toMatchObject({
      code: 'invalid-record',
    });
    await journal.close();
  });
});
