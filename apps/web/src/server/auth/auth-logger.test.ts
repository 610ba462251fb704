import { createTestDatabase, providedDatabaseUrl } from '@custody/db/testing';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { authLogLine, authLogger } from './auth-logger.ts';
import { createAuth } from './create-auth.ts';

const TOKEN = 'better-auth-session-token-Pq7Wm3Zx9Lk2';

describe('authLogLine', () => {
  it('keeps the failed query of a session lookup and drops the token bound to it', async () => {
    const handle = await createTestDatabase({ url: providedDatabaseUrl() });
    let failure: unknown;
    try {
      await handle.db.execute(sql`select * from no_such_session where token = ${TOKEN}`);
    } catch (error) {
      failure = error;
    } finally {
      await handle.close();
    }
    expect((failure as Error).message).toContain(TOKEN);
    const line = authLogLine('error', 'Failed to get session', [failure, { token: TOKEN }]);
    expect(line).not.toContain(TOKEN);
    expect(line).toMatch(
      /^auth error: Failed to get session: Failed query: select \* from no_such_session/,
    );
  });

  it('is the logger better-auth is given', async () => {
    const handle = await createTestDatabase({ url: providedDatabaseUrl() });
    try {
      const auth = createAuth({
        db: handle.db,
        secret: 'z'.repeat(32),
        origins: ['http://custody.test:3000'],
      });
      expect(auth.options.logger).toBe(authLogger);
    } finally {
      await handle.close();
    }
  });
});
