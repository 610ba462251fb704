import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDb } from './create-db.ts';
import { organisations } from './schema/index.ts';

describe('PGlite data directory', () => {
  it('creates a missing data directory, keeps data across a restart and migrates idempotently', async () => {
    const root = await mkdtemp(join(tmpdir(), 'custody-db-'));
    const dataDir = join(root, 'not', 'yet', 'there');
    try {
      const first = await createDb({ dataDir });
      await first.migrate();
      await first.db.insert(organisations).values({ name: 'Persisted', kind: 'integrator' });
      await first.close();
      const second = await createDb({ dataDir });
      await second.migrate();
      const rows = await second.db.select().from(organisations);
      const info = await second.info();
      await second.close();
      expect(rows.map((row) => row.name)).toEqual(['Persisted']);
      expect(info.migrationsApplied).toBe(info.migrationsKnown);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
