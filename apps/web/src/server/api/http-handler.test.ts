import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import type { DatabaseHandle } from '@custody/db';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAuth } from '../auth/create-auth.ts';
import { openTestDatabase } from '../test-support/world.ts';
import { refuseCrossSiteMutation } from './csrf.ts';
import { handleTrpcRequest } from './http-handler.ts';
import { INTERNAL_FAILURE } from './trpc.ts';

const ORIGIN = 'http://custody.test:3000';

function post(headers: Record<string, string>, body = '{}') {
  return new Request(`${ORIGIN}/api/trpc/organisations.create`, { method: 'POST', headers, body });
}

describe('refuseCrossSiteMutation', () => {
  it('lets reads through', () => {
    expect(
      refuseCrossSiteMutation(new Request(`${ORIGIN}/api/trpc/sites.list`), [ORIGIN]),
    ).toBeNull();
  });

  it('accepts a same-origin JSON POST', () => {
    const request = post({ 'content-type': 'application/json', origin: ORIGIN });
    expect(refuseCrossSiteMutation(request, [ORIGIN])).toBeNull();
  });

  it('accepts a JSON POST without Origin only when the browser says same-origin', () => {
    const same = post({ 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' });
    const cross = post({ 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' });
    const none = post({ 'content-type': 'application/json' });
    expect(refuseCrossSiteMutation(same, [ORIGIN])).toBeNull();
    expect(refuseCrossSiteMutation(cross, [ORIGIN])?.status).toBe(403);
    expect(refuseCrossSiteMutation(none, [ORIGIN])?.status).toBe(403);
  });

  it('refuses another origin, a form content type and other methods', () => {
    const foreign = post({ 'content-type': 'application/json', origin: 'http://evil.test' });
    const form = post({ 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN });
    const text = post({ 'content-type': 'text/plain', origin: ORIGIN });
    const put = new Request(`${ORIGIN}/api/trpc/x`, { method: 'PUT', headers: { origin: ORIGIN } });
    expect(refuseCrossSiteMutation(foreign, [ORIGIN])?.status).toBe(403);
    expect(refuseCrossSiteMutation(form, [ORIGIN])?.status).toBe(415);
    expect(refuseCrossSiteMutation(text, [ORIGIN])?.status).toBe(415);
    expect(refuseCrossSiteMutation(put, [ORIGIN])?.status).toBe(405);
  });
});

describe('handleTrpcRequest', () => {
  let handle: DatabaseHandle;
  beforeAll(async () => {
    handle = await openTestDatabase();
  });
  afterAll(async () => {
    await handle.close();
  });
  const deps = () => ({
    db: handle.db,
    auth: createAuth({ db: handle.db, secret: 'y'.repeat(32), origins: [ORIGIN] }),
    origins: [ORIGIN],
  });

  it('refuses a cross-site mutation before it reaches a procedure', async () => {
    const response = await handleTrpcRequest(
      post({ 'content-type': 'application/json', origin: 'http://evil.test' }),
      deps(),
    );
    expect(response.status).toBe(403);
  });

  it('refuses a mutation sent as GET', async () => {
    const input = encodeURIComponent(JSON.stringify({ json: { name: 'x', kind: 'owner' } }));
    const response = await handleTrpcRequest(
      new Request(`${ORIGIN}/api/trpc/organisations.create?input=${input}`),
      deps(),
    );
    expect(response.status).toBe(405);
  });

  it('answers an anonymous call with 401', async () => {
    const response = await handleTrpcRequest(new Request(`${ORIGIN}/api/trpc/sites.list`), deps());
    expect(response.status).toBe(401);
  });

  it('answers invalid input with 400 and the message of each field', async () => {
    const response = await handleTrpcRequest(
      new Request(`${ORIGIN}/api/trpc/organisations.acceptInvitation`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: ORIGIN },
        body: JSON.stringify({ json: { token: 'short', password: 'tiny' } }),
      }),
      deps(),
    );
    expect(response.status).toBe(400);
    const body = (await response.json()) as {
      error: { json: { data: { fieldErrors: Record<string, string[]> } } };
    };
    expect(Object.keys(body.error.json.data.fieldErrors).sort()).toEqual(['password', 'token']);
    expect(body.error.json.data.fieldErrors.password).toEqual(['Use at least 12 characters.']);
  });
});

describe('handleTrpcRequest when the database fails', () => {
  it('answers a generic 500 and logs the failed query without the values bound to it', async () => {
    const handle = await openTestDatabase();
    const logged: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
      logged.push(args.map((arg) => (typeof arg === 'string' ? arg : inspect(arg))).join(' '));
    });
    try {
      // The invitation lookup now fails, with the token's hash among its parameters.
      await handle.db.execute(sql`alter table invitations rename to invitations_gone`);
      const token = 'invitation-token-Zr8Qp2Lw6Nx4Kd7Hs1';
      const response = await handleTrpcRequest(
        new Request(`${ORIGIN}/api/trpc/organisations.acceptInvitation`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: ORIGIN },
          body: JSON.stringify({ json: { token } }),
        }),
        {
          db: handle.db,
          auth: createAuth({ db: handle.db, secret: 'y'.repeat(32), origins: [ORIGIN] }),
          origins: [ORIGIN],
        },
      );
      expect(response.status).toBe(500);
      const text = await response.text();
      const body = JSON.parse(text) as { error: { json: { message: string } } };
      expect(body.error.json.message).toBe(INTERNAL_FAILURE);
      // How the invitation service keys a token (services/organisations.ts).
      const tokenHash = createHash('sha256').update(token).digest('hex');
      for (const output of [text, logged.join('\n')]) {
        expect(output).not.toContain(token);
        expect(output).not.toContain(tokenHash);
        expect(output).not.toContain('params:');
      }
      expect(logged.join('\n')).toMatch(
        /tRPC organisations\.acceptInvitation failed: .*Failed query: select/,
      );
    } finally {
      spy.mockRestore();
      await handle.close();
    }
  });
});
