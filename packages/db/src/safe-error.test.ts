import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from './create-db.ts';
import { safeErrorMessage } from './safe-error.ts';
import { createTestDatabase, providedDatabaseUrl } from './testing/index.ts';

const url = providedDatabaseUrl();
const TOKEN = 'session-token-Vq3xL9pZ7mW2';
let handle: DatabaseHandle;

beforeAll(async () => {
  handle = await createTestDatabase({ url });
});
afterAll(async () => {
  await handle?.close();
});

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the query to fail');
}

describe(`safeErrorMessage on ${url ? 'postgresql' : 'pglite'}`, () => {
  it('keeps the statement and the reason of a failed query, not its values', async () => {
    const error = await failureOf(
      handle.db.execute(sql`select * from no_such_sessions where token = ${TOKEN}`),
    );
    // What drizzle itself would have logged.
    expect((error as Error).message).toContain(TOKEN);
    const message = safeErrorMessage(error);
    expect(message).not.toContain(TOKEN);
    expect(message).toContain('Failed query: select * from no_such_sessions where token = $1');
    expect(message).toMatch(/no_such_sessions.*does not exist/);
  });

  it('drops the value PostgreSQL quotes at the end of its reason', async () => {
    const error = await failureOf(handle.db.execute(sql`select ${TOKEN}::uuid as id`));
    const message = safeErrorMessage(error);
    expect(message).not.toContain(TOKEN);
    expect(message).toContain('invalid input syntax for type uuid: "…"');
  });

  it('drops a value PostgreSQL quotes inside its reason', async () => {
    const error = await failureOf(handle.db.execute(sql`select ${'98765432109'}::int as n`));
    expect((error as Error).cause).toBeInstanceOf(Error);
    const message = safeErrorMessage(error);
    expect(message).not.toContain('98765432109');
    expect(message).toContain('value "…" is out of range for type integer');
  });

  it('follows the causes of a service error that wraps a failed query', async () => {
    const query = await failureOf(
      handle.db.execute(sql`insert into no_such_tokens (token) values (${TOKEN})`),
    );
    const wrapped = new Error('The audit log could not record "session.created".', {
      cause: query,
    });
    const message = safeErrorMessage(wrapped);
    expect(message).not.toContain(TOKEN);
    expect(message).toMatch(
      /^The audit log could not record "session.created"\.: Failed query: insert into no_such_tokens/,
    );
  });

  it('describes values that are not errors', () => {
    expect(safeErrorMessage('plain words')).toBe('plain words');
    expect(safeErrorMessage(undefined)).toBe('unknown error');
    expect(safeErrorMessage(new Error(`Failed query: select 1\nparams: ${TOKEN}`))).toBe(
      'Failed query: select 1',
    );
  });
});
