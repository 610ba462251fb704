import type { Database, DatabaseHandle } from '@custody/db';
import { memberships } from '@custody/db/schema';
import { afterEach, describe, expect, it } from 'vitest';
import { handleTrpcRequest } from '../api/http-handler.ts';
import { appRouter } from '../api/root.ts';
import { createCallerFactory, createTRPCContext } from '../api/trpc.ts';
import { listAuditEvents, verifyAuditLog } from '../services/audit-log.ts';
import { bootstrapFirstAdmin } from '../services/bootstrap.ts';
import { openTestDatabase, outcomeOf } from '../test-support/world.ts';
import { CLIENT_ADDRESS_HEADER } from './client-address.ts';
import { createAuth, type Auth } from './create-auth.ts';

const ORIGIN = 'http://custody.test:3000';
const EMAIL = 'root@example.test';
const open: DatabaseHandle[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((handle) => handle.close()));
});

async function setUp() {
  const handle = await openTestDatabase();
  open.push(handle);
  const auth = createAuth({ db: handle.db, secret: 'x'.repeat(32), origins: [ORIGIN] });
  const outcome = await bootstrapFirstAdmin(handle.db, { email: EMAIL });
  if (outcome.kind !== 'created') throw new Error('no first administrator');
  return { db: handle.db, auth, oneTimePassword: outcome.oneTimePassword };
}

function signIn(
  auth: Auth,
  body: { email: string; password: string },
  options: { origin?: string; address?: string } = {},
): Promise<Response> {
  return auth.handler(
    new Request(`${ORIGIN}/api/auth/sign-in/email`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        origin: options.origin ?? ORIGIN,
        [CLIENT_ADDRESS_HEADER]: options.address ?? '192.0.2.1',
      },
      body: JSON.stringify(body),
    }),
  );
}

function sessionCookie(response: Response): string {
  const cookies = response.headers.getSetCookie().map((cookie) => cookie.split(';')[0] ?? '');
  const session = cookies.find((cookie) => cookie.startsWith('custody.session_token='));
  if (!session) throw new Error(`no session cookie in ${response.status} response`);
  return session;
}

describe('signing in', () => {
  it('takes the one-time password once, then only the password the administrator chose', async () => {
    const { db, auth, oneTimePassword } = await setUp();
    const first = await signIn(auth, { email: EMAIL, password: oneTimePassword });
    expect(first.status).toBe(200);
    const headers = new Headers({ cookie: sessionCookie(first) });
    const caller = createCallerFactory(appRouter)(await createTRPCContext({ headers, db, auth }));

    expect((await caller.me.get()).passwordChangeRequired).toBe(true);
    expect(await outcomeOf(caller.sites.list())).toBe('FORBIDDEN');
    const wrong = caller.me.changePassword({
      currentPassword: 'not it at all',
      newPassword: 'a brand new passphrase',
      confirmPassword: 'a brand new passphrase',
    });
    expect(await outcomeOf(wrong)).toBe('BAD_REQUEST');
    const reused = caller.me.changePassword({
      currentPassword: oneTimePassword,
      newPassword: oneTimePassword,
      confirmPassword: oneTimePassword,
    });
    expect(await outcomeOf(reused)).toBe('BAD_REQUEST');
    await caller.me.changePassword({
      currentPassword: oneTimePassword,
      newPassword: 'a brand new passphrase',
      confirmPassword: 'a brand new passphrase',
    });

    const after = createCallerFactory(appRouter)(await createTRPCContext({ headers, db, auth }));
    expect((await after.me.get()).passwordChangeRequired).toBe(false);
    expect(await outcomeOf(after.sites.list())).toBe('OK');
    expect((await signIn(auth, { email: EMAIL, password: oneTimePassword })).status).toBe(401);
    expect((await signIn(auth, { email: EMAIL, password: 'a brand new passphrase' })).status).toBe(
      200,
    );
  });

  it('refuses a sign-in posted from another origin', async () => {
    const { auth, oneTimePassword } = await setUp();
    const response = await signIn(
      auth,
      { email: EMAIL, password: oneTimePassword },
      { origin: 'http://evil.test' },
    );
    expect(response.status).toBe(403);
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it('locks an account after five wrong passwords, from any address, even for the right one', async () => {
    const { auth, oneTimePassword } = await setUp();
    for (let i = 0; i < 5; i++) {
      const response = await signIn(
        auth,
        { email: EMAIL, password: `wrong password ${i}` },
        { address: `198.51.100.${i}` },
      );
      expect(response.status).toBe(401);
    }
    const locked = await signIn(
      auth,
      { email: EMAIL.toUpperCase(), password: oneTimePassword },
      { address: '203.0.113.9' },
    );
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await locked.text()).toContain('Too many sign-in attempts');
  });

  it('limits the attempts from one address across accounts', async () => {
    const { auth } = await setUp();
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) {
      const response = await signIn(
        auth,
        { email: `nobody${i}@example.test`, password: 'whatever it is' },
        { address: '192.0.2.77' },
      );
      statuses.push(response.status);
    }
    expect(statuses.slice(0, 30).every((status) => status === 401)).toBe(true);
    expect(statuses[30]).toBe(429);
  });

  it('ends the other sessions when the password changes', async () => {
    const { db, auth, oneTimePassword } = await setUp();
    const laptop = new Headers({
      cookie: sessionCookie(await signIn(auth, { email: EMAIL, password: oneTimePassword })),
    });
    const phone = new Headers({
      cookie: sessionCookie(await signIn(auth, { email: EMAIL, password: oneTimePassword })),
    });
    const caller = createCallerFactory(appRouter)(
      await createTRPCContext({ headers: laptop, db, auth }),
    );
    await caller.me.changePassword({
      currentPassword: oneTimePassword,
      newPassword: 'another good passphrase',
      confirmPassword: 'another good passphrase',
    });
    expect(await auth.api.getSession({ headers: laptop })).not.toBeNull();
    expect(await auth.api.getSession({ headers: phone })).toBeNull();
  });

  it('refuses a password change after five wrong current passwords with 429 and Retry-After', async () => {
    const { db, auth, oneTimePassword } = await setUp();
    const cookie = sessionCookie(await signIn(auth, { email: EMAIL, password: oneTimePassword }));
    const change = (currentPassword: string) =>
      handleTrpcRequest(
        new Request(`${ORIGIN}/api/trpc/me.changePassword`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: ORIGIN, cookie },
          body: JSON.stringify({
            json: {
              currentPassword,
              newPassword: 'a brand new passphrase',
              confirmPassword: 'a brand new passphrase',
            },
          }),
        }),
        { db, auth, origins: [ORIGIN] },
      );
    for (let i = 0; i < 5; i++) {
      expect((await change(`wrong password ${i}`)).status).toBe(400);
    }
    const refused = await change(oneTimePassword);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    const body = (await refused.json()) as { error: { json: { data: unknown } } };
    expect(body.error.json.data).toMatchObject({
      domainCode: 'rate-limited',
      retryAfterSeconds: retryAfter,
    });
  });
});

describe('the audit log of signing in', () => {
  async function accountEvents(db: Database) {
    const events = await listAuditEvents(db, { scope: 'all', limit: 100 });
    return events.reverse().map((event) => ({
      action: event.content.action,
      actor: event.content.actor.kind,
      subject: event.content.subject.kind,
      address: event.content.data.address,
      orgId: event.orgId,
    }));
  }

  it('records sign-ins, refused passwords, password changes and sign-outs, never a password', async () => {
    const { db, auth, oneTimePassword } = await setUp();
    const [membership] = await db.select().from(memberships);
    expect((await signIn(auth, { email: EMAIL, password: 'not the password' })).status).toBe(401);
    // A password typed into the e-mail field of an account that does not exist is not kept.
    const typo = 'hunter2-correct-horse@example.test';
    expect((await signIn(auth, { email: typo, password: 'whatever it is' })).status).toBe(401);
    const signedIn = await signIn(auth, { email: EMAIL, password: oneTimePassword });
    const headers = new Headers({ cookie: sessionCookie(signedIn), origin: ORIGIN });
    const caller = createCallerFactory(appRouter)(await createTRPCContext({ headers, db, auth }));
    await caller.me.changePassword({
      currentPassword: oneTimePassword,
      newPassword: 'a brand new passphrase',
      confirmPassword: 'a brand new passphrase',
    });
    const signedOut = await auth.handler(
      new Request(`${ORIGIN}/api/auth/sign-out`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          cookie: headers.get('cookie') ?? '',
          origin: ORIGIN,
          [CLIENT_ADDRESS_HEADER]: '192.0.2.9',
        },
        body: '{}',
      }),
    );
    expect(signedOut.status).toBe(200);

    const home = membership?.orgId;
    expect(await accountEvents(db)).toEqual([
      {
        action: 'auth.sign-in-failed',
        actor: 'system',
        subject: 'user',
        address: '192.0.2.1',
        orgId: home,
      },
      {
        action: 'auth.sign-in-failed',
        actor: 'system',
        subject: 'account',
        address: '192.0.2.1',
        orgId: null,
      },
      {
        action: 'auth.signed-in',
        actor: 'user',
        subject: 'user',
        address: '192.0.2.1',
        orgId: home,
      },
      {
        action: 'auth.password-changed',
        actor: 'user',
        subject: 'user',
        address: undefined,
        orgId: home,
      },
      {
        action: 'auth.signed-out',
        actor: 'user',
        subject: 'user',
        address: '192.0.2.9',
        orgId: home,
      },
    ]);
    const text = JSON.stringify(await listAuditEvents(db, { scope: 'all', limit: 100 }));
    for (const secret of [oneTimePassword, 'not the password', typo, 'a brand new passphrase']) {
      expect(text).not.toContain(secret);
    }
    expect(await verifyAuditLog(db)).toMatchObject({ ok: true, length: 5 });
  });

  it('does not record the attempts the throttle refuses before the password check', async () => {
    const { db, auth } = await setUp();
    for (let i = 0; i < 7; i++) {
      await signIn(auth, { email: EMAIL, password: `wrong password ${i}` });
    }
    const failed = await listAuditEvents(db, { scope: 'all', action: 'auth.sign-in-failed' });
    expect(failed).toHaveLength(5);
  });
});
