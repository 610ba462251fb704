import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DatabaseHandle } from '@custody/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setPassword } from '../../server/services/accounts.ts';
import { serveCustody, type ServedCustody } from '../../server/test-support/serve-custody.ts';
import { openTestDatabase, seedWorld, type World } from '../../server/test-support/world.ts';
import { createCustodyClient, CustodyError, readServerSentEvents } from './custody-client.ts';

const PASSWORD = 'a long test passphrase';

let handle: DatabaseHandle;
let world: World;
let custody: ServedCustody;

beforeAll(async () => {
  handle = await openTestDatabase();
  world = await seedWorld(handle.db);
  await setPassword(handle.db, world.people.integratorAdmin.id, PASSWORD, {
    passwordChangeRequired: false,
  });
  await setPassword(handle.db, world.people.technician.id, PASSWORD, {
    passwordChangeRequired: true,
  });
  custody = await serveCustody({ db: handle.db });
});

afterAll(async () => {
  await custody.close();
  await handle.close();
});

async function failureOf(promise: Promise<unknown>): Promise<CustodyError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CustodyError) return error;
    throw error;
  }
  throw new Error('it succeeded');
}

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

describe('createCustodyClient', () => {
  it('signs in with a session cookie kept in memory, calls procedures, and signs out', async () => {
    const client = createCustodyClient({ baseUrl: new URL(custody.url) });
    const who = await client.signIn('admin@northwind.test', PASSWORD);
    expect(who).toEqual({
      name: 'admin',
      email: 'admin@northwind.test',
      roles: ['integrator-admin'],
    });
    const sites = await client.trpc.sites.list.query();
    expect(sites.map((site) => site.name)).toContain('Harbour Street');
    await client.signOut();
    await expect(client.trpc.sites.list.query()).rejects.toMatchObject({
      data: { code: 'UNAUTHORIZED' },
    });
  });

  it('says a refused sign-in is a wrong e-mail or password, without repeating the password', async () => {
    const client = createCustodyClient({ baseUrl: new URL(custody.url) });
    const error = await failureOf(client.signIn('admin@northwind.test', 'not the passphrase'));
    expect(error.kind).toBe('sign-in-refused');
    expect(error.message).toBe(
      'Custody refused the sign-in of admin@northwind.test: wrong e-mail or password',
    );
    expect(error.message).not.toContain('not the passphrase');
  });

  it('refuses to go on with a one-time password still to replace', async () => {
    const client = createCustodyClient({ baseUrl: new URL(custody.url) });
    const error = await failureOf(client.signIn('tech@northwind.test', PASSWORD));
    expect(error.kind).toBe('password-change-required');
    expect(error.message).toMatch(/one-time password: sign in once in the browser/);
  });

  it('says Custody cannot be reached at a closed port', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const client = createCustodyClient({ baseUrl: new URL(`http://127.0.0.1:${port}`) });
    const error = await failureOf(client.signIn('admin@northwind.test', PASSWORD));
    expect(error.kind).toBe('unreachable');
    expect(error.message).toMatch(
      new RegExp(`^cannot reach Custody at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED`),
    );
  });

  describe('against something that is not Custody', () => {
    let other: Server;
    let url: string;
    beforeAll(async () => {
      other = createServer((req, res) => {
        if (req.url === '/moved') {
          res.writeHead(302, { location: 'https://elsewhere.test/' });
          res.end();
          return;
        }
        res.writeHead(404, { 'content-type': 'text/html' });
        res.end('<h1>Not here</h1>');
      });
      await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await new Promise<void>((resolve) => other.close(() => resolve()));
    });

    it('says the address has no Custody sign-in', async () => {
      const client = createCustodyClient({ baseUrl: new URL(url) });
      const error = await failureOf(client.signIn('admin@northwind.test', PASSWORD));
      expect(error.kind).toBe('not-custody');
      expect(error.message).toBe(
        `${url} has no Custody sign-in (HTTP 404 on /api/auth/sign-in/email): is --url Custody's address?`,
      );
    });
  });

  it('says Custody refused an origin it does not serve, and how to fix it', async () => {
    const strict = await serveCustody({
      db: handle.db,
      origins: ['https://custody.example.com'],
    });
    try {
      const client = createCustodyClient({ baseUrl: new URL(strict.url) });
      const error = await failureOf(client.signIn('admin@northwind.test', PASSWORD));
      expect(error.kind).toBe('origin-refused');
      expect(error.message).toMatch(/CUSTODY_PUBLIC_URL/);
    } finally {
      await strict.close();
    }
  });
});

describe('readServerSentEvents', () => {
  it('reads events split across chunks, skipping comments, with any line ending', async () => {
    const events = [];
    for await (const event of readServerSentEvents(
      streamOf(
        ': ping\n\nevent: connected\ndata: {"a":1}\n\n',
        'data: {"json":{"jobId":"j","at"',
        ':1}}\r\n\r\nid: 7\ndata: line one\ndata: line two\n\nevent: return\ndata:\n\n',
      ),
    )) {
      events.push(event);
    }
    expect(events).toEqual([
      { event: 'connected', data: '{"a":1}' },
      { event: 'message', data: '{"json":{"jobId":"j","at":1}}' },
      { event: 'message', data: 'line one\nline two' },
      { event: 'return', data: '' },
    ]);
  });
});
