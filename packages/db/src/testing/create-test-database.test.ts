import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { rowsOf, type DatabaseHandle } from '../create-db.ts';
import { auditEvents, organisations } from '../schema/index.ts';
import { createTestDatabase, providedDatabaseUrl } from './index.ts';

const url = providedDatabaseUrl();

async function appendEvent(handle: DatabaseHandle, hash: string): Promise<number> {
  const [row] = await handle.db
    .insert(auditEvents)
    .values({
      action: 'test.event',
      subjectType: 'test',
      subjectId: hash,
      payload: {},
      prevHash: '',
      hash,
    })
    .returning({ seq: auditEvents.seq });
  return row!.seq;
}

// On PGlite a closed database's engine is emptied and reused by the next test database; these
// hold on both engines, and would fail if anything of one test database reached the next.
describe('createTestDatabase', () => {
  it('hands out a database with none of the rows, sequence values or settings of a closed one', async () => {
    const first = await createTestDatabase({ url });
    await first.db.insert(organisations).values({ name: 'Left behind', kind: 'owner' });
    expect(await appendEvent(first, 'a')).toBe(1);
    expect(await appendEvent(first, 'b')).toBe(2);
    await first.db.execute(sql`set statement_timeout = 1234`);
    await first.close();

    const second = await createTestDatabase({ url });
    try {
      expect(await second.db.select().from(organisations)).toEqual([]);
      expect(await second.db.select().from(auditEvents)).toEqual([]);
      expect(await appendEvent(second, 'c')).toBe(1);
      const [setting] = rowsOf<{ statement_timeout: string }>(
        await second.db.execute(sql`show statement_timeout`),
      );
      expect(setting?.statement_timeout).toBe('0');
      const info = await second.info();
      expect(info.migrationsApplied).toBe(info.migrationsKnown);
    } finally {
      await second.close();
    }
  });

  it('refuses queries through a handle once it is closed', async () => {
    const handle = await createTestDatabase({ url });
    await handle.close();
    await expect(handle.db.select().from(organisations)).rejects.toThrow();
    await handle.close();
  });

  it('does not pass the next database’s notifications to a closed one’s listeners', async () => {
    const first = await createTestDatabase({ url });
    const heardByFirst: string[] = [];
    await first.listen('custody_reuse', (payload) => heardByFirst.push(payload));
    await first.close();

    const second = await createTestDatabase({ url });
    try {
      const heardBySecond: string[] = [];
      const unlisten = await second.listen('custody_reuse', (payload) =>
        heardBySecond.push(payload),
      );
      await second.db.execute(sql`select pg_notify('custody_reuse', 'second')`);
      await expect.poll(() => heardBySecond, { timeout: 5_000 }).toEqual(['second']);
      await unlisten();
      expect(heardByFirst).toEqual([]);
    } finally {
      await second.close();
    }
  });
});
