import { inspect } from 'node:util';

import { afterEach, describe, expect, it } from 'vitest';

import { getApiList } from './apis/api-discovery.ts';
import { getAllProperties } from './apis/basic-device-info.ts';
import { listParams } from './apis/param-cgi.ts';
import { addUser } from './apis/pwdgrp.ts';
import { systemReady } from './apis/system-ready.ts';
import { createAttemptBudget } from './attempt-budget.ts';
import { GET_API_LIST_9_80 } from './fixtures/api-discovery.ts';
import {
  GET_ALL_PROPERTIES_P3265V,
  UNRESTRICTED_2004_ERROR,
} from './fixtures/basic-device-info.ts';
import { BRAND_M1065 } from './fixtures/param-cgi.ts';
import { ADD_OK } from './fixtures/pwdgrp.ts';
import { SYSTEM_READY_12 } from './fixtures/system-ready.ts';
import { createRequestLimiter } from './request-limiter.ts';
import {
  json,
  startFakeCamera,
  text,
  type FakeCamera,
  type FakeCameraOptions,
} from './test-support/fake-camera.ts';
import { createSharedCameraConnections } from './camera-dispatcher.ts';
import { createVapixClient, type VapixClientOptions } from './vapix-client.ts';
import {
  VapixApiError,
  VapixAuthError,
  VapixBudgetExhaustedError,
  VapixError,
  VapixHttpError,
  VapixInsecureAuthError,
  VapixLockedOutError,
  VapixTransportError,
  VapixUnsupportedError,
} from './vapix-error.ts';

const PASSWORD = 'S3cret-Passphrase!';
const ROOT = { username: 'root', password: PASSWORD };
const WRONG = { username: 'root', password: 'wrong-Pa55word' };

const cameras: FakeCamera[] = [];
afterEach(async () => {
  await Promise.all(cameras.splice(0).map((camera) => camera.close()));
});

async function camera(options: FakeCameraOptions = {}): Promise<FakeCamera> {
  const started = await startFakeCamera({
    users: { root: PASSWORD },
    anonymousPaths: ['/axis-cgi/systemready.cgi'],
    routes: {
      'POST /axis-cgi/basicdeviceinfo.cgi': () => json(GET_ALL_PROPERTIES_P3265V),
      'POST /axis-cgi/apidiscovery.cgi': () => json(GET_API_LIST_9_80),
      'POST /axis-cgi/systemready.cgi': () => json(SYSTEM_READY_12),
      'GET /axis-cgi/param.cgi': () => text(BRAND_M1065),
      'POST /axis-cgi/pwdgrp.cgi': () => text(ADD_OK, 'text/html'),
      'POST /axis-cgi/time.cgi': () => json(UNRESTRICTED_2004_ERROR),
      'POST /axis-cgi/fail.cgi': () => ({ status: 503, body: 'busy' }),
    },
    ...options,
  });
  cameras.push(started);
  return started;
}

function client(fake: FakeCamera, options: Partial<VapixClientOptions> = {}) {
  return createVapixClient({
    url: fake.url,
    credentials: ROOT,
    budget: createAttemptBudget(),
    limiter: createRequestLimiter(),
    ...options,
  });
}

function expectNoSecret(error: unknown): void {
  expect(error).toBeInstanceOf(VapixError);
  const rendered = [String(error), JSON.stringify(error), inspect(error, { depth: 5 })].join('\n');
  expect(rendered).not.toContain(PASSWORD);
  expect(rendered).not.toContain(WRONG.password);
  expect(rendered).not.toMatch(/authorization|Digest username|pwd=/i);
}

/** How many connections the device has accepted from now on. */
function countConnections(fake: FakeCamera): () => number {
  let accepted = 0;
  fake.server.on('connection', () => {
    accepted += 1;
  });
  return () => accepted;
}

function openConnections(fake: FakeCamera): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    fake.server.getConnections((error, count) => (error ? reject(error) : resolve(count)));
  });
}

/** The device's open connections once the client's close has reached it (up to 0.5 s). */
async function connectionsOnceClosed(fake: FakeCamera): Promise<number> {
  for (let wait = 0; wait < 50 && (await openConnections(fake)) > 0; wait += 1) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return openConnections(fake);
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

describe('Digest authentication (reference §2)', () => {
  it('sends the first request without credentials, then answers the Digest challenge', async () => {
    const fake = await camera();
    const result = await client(fake).send(getAllProperties());
    expect(result.properties.SerialNumber).toBe('B8A44F631339');
    expect(fake.requests.map((request) => request.authorization === undefined)).toEqual([
      true,
      false,
    ]);
    expect(fake.requests[1]?.authorization).toMatch(
      /^Digest username="root", realm="AXIS_ACCC8EF7DE6B"/,
    );
    expect(fake.requests[1]?.authorization).toContain('nc=00000001');
  });

  it('reuses the nonce with an incrementing nc: one round trip per call in steady state', async () => {
    const fake = await camera();
    const vapix = client(fake);
    await vapix.send(getAllProperties());
    await vapix.send(getApiList());
    await vapix.send(getAllProperties());
    expect(fake.requests).toHaveLength(4);
    const [nonceCounts] = [...fake.nonceCounts.values()].filter((counts) => counts.length > 0);
    expect(nonceCounts).toEqual(['00000001', '00000002', '00000003']);
  });

  it('lets a new client for the same camera reuse the cached nonce (cache per camera and user)', async () => {
    const fake = await camera();
    await client(fake).send(getAllProperties());
    await client(fake).send(getApiList());
    expect(fake.requests).toHaveLength(3);
    expect(fake.requests[2]?.authorization).toContain('nc=00000002');
  });

  it('signs the exact request-target, query and special characters included', async () => {
    const fake = await camera();
    const request = {
      ...listParams(['root.Brand', 'root.Properties']),
      query: { action: 'list', group: 'root.Brand,root.Properties', x: 'a b:c/d?e&f=g+h#[i]' },
    };
    await client(fake).send(request);
    const signed = fake.requests[1];
    expect(signed?.target).toBe(
      '/axis-cgi/param.cgi?action=list&group=root.Brand,root.Properties&x=a%20b%3Ac%2Fd%3Fe%26f%3Dg%2Bh%23%5Bi%5D',
    );
    expect(signed?.authorization).toContain(`uri="${signed?.target}"`);
    expect(signed?.user).toBe('root');
  });

  it('speaks SHA-256 Digest when the device offers it', async () => {
    const fake = await camera({ challenges: ['digest', 'digest-sha256'] });
    await client(fake).send(getAllProperties());
    expect(fake.requests[1]?.authorization).toContain('algorithm=SHA-256');
    expect(fake.requests[1]?.user).toBe('root');
  });

  it('echoes opaque and works without qop (RFC 2069 form)', async () => {
    const fake = await camera({ qop: false, opaque: 'opaque-value' });
    await client(fake).send(getAllProperties());
    expect(fake.requests[1]?.authorization).toContain('opaque="opaque-value"');
    expect(fake.requests[1]?.authorization).not.toContain('nc=');
  });

  it('retries once with the new nonce on stale=true without counting a failure', async () => {
    const fake = await camera();
    const budget = createAttemptBudget();
    const vapix = client(fake, { budget });
    await vapix.send(getAllProperties());
    fake.expireNonces();
    await vapix.send(getAllProperties());
    expect(fake.requests).toHaveLength(4);
    expect(fake.requests[3]?.user).toBe('root');
    expect(budget.failures(vapix.cameraKey)).toBe(0);
  });

  it('does not send cached credentials to anonymous endpoints', async () => {
    const fake = await camera();
    const vapix = client(fake);
    await vapix.send(getAllProperties());
    await vapix.send(systemReady());
    expect(fake.requests[2]?.authorization).toBeUndefined();
  });

  it('refuses Basic over plain HTTP without ever sending credentials', async () => {
    const fake = await camera({ challenges: ['basic'] });
    const error = await failure(client(fake).send(getAllProperties()));
    expect(error).toBeInstanceOf(VapixInsecureAuthError);
    expect(error).toMatchObject({ code: 'VAPIX_INSECURE_AUTH', retryable: false });
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests.every((request) => request.authorization === undefined)).toBe(true);
  });

  it('prefers Digest over Basic on plain HTTP when both are offered', async () => {
    const fake = await camera({ challenges: ['basic', 'digest'] });
    await client(fake).send(getAllProperties());
    expect(fake.requests[1]?.authorization).toMatch(/^Digest /);
  });

  it('reports a missing credential as VAPIX_AUTH_REQUIRED with the realm', async () => {
    const fake = await camera();
    const error = await failure(client(fake, { credentials: null }).send(getAllProperties()));
    expect(error).toBeInstanceOf(VapixAuthError);
    expect(error).toMatchObject({ code: 'VAPIX_AUTH_REQUIRED', realm: 'AXIS_ACCC8EF7DE6B' });
  });
});

describe('attempt budget and lock-out (reference §2, §7.10)', () => {
  it('counts a rejected password and keeps it out of the error', async () => {
    const fake = await camera();
    const budget = createAttemptBudget();
    const vapix = client(fake, { credentials: WRONG, budget });
    const error = await failure(
      vapix.send(addUser({ username: 'new', password: PASSWORD, roles: ['viewer'] })),
    );
    expect(error).toBeInstanceOf(VapixAuthError);
    expect(error).toMatchObject({
      code: 'VAPIX_LOGIN_FAILED',
      method: 'POST',
      path: '/axis-cgi/pwdgrp.cgi',
    });
    expect(budget.failures(vapix.cameraKey)).toBe(1);
    expectNoSecret(error);
  });

  it('fails fast after three rejected attempts and sends nothing more', async () => {
    const fake = await camera();
    const budget = createAttemptBudget();
    for (let i = 0; i < 3; i++) {
      const error = await failure(
        client(fake, { credentials: WRONG, budget }).send(getAllProperties()),
      );
      expect(error).toMatchObject({ code: 'VAPIX_LOGIN_FAILED' });
    }
    const sent = fake.requests.length;
    const error = await failure(
      client(fake, { credentials: ROOT, budget }).send(getAllProperties()),
    );
    expect(error).toBeInstanceOf(VapixBudgetExhaustedError);
    expect(error).toMatchObject({ code: 'VAPIX_BUDGET_EXHAUSTED', retryable: false });
    expect(fake.requests.length).toBe(sent);
    expectNoSecret(error);

    await expect(
      client(fake, { credentials: ROOT, budget }).send(systemReady()),
    ).resolves.toMatchObject({
      systemReady: true,
    });
    expect(fake.requests.at(-1)?.authorization).toBeUndefined();
  });

  it('shares the budget between operations and clients of the same camera only', async () => {
    const fake = await camera();
    const other = await camera();
    const budget = createAttemptBudget({ maxFailures: 1 });
    await failure(client(fake, { credentials: WRONG, budget }).send(getAllProperties()));
    await expect(client(fake, { budget }).send(getApiList())).rejects.toBeInstanceOf(
      VapixBudgetExhaustedError,
    );
    await expect(client(other, { budget }).send(getApiList())).resolves.toBeDefined();
  });

  it('treats a 403 after failures as a block and backs off for the block period', async () => {
    let time = 0;
    const budget = createAttemptBudget({ now: () => time, blockPeriodMs: 10_000 });
    const fake = await camera();
    await failure(client(fake, { credentials: WRONG, budget }).send(getAllProperties()));
    fake.setBlocked(true);
    const locked = await failure(client(fake, { budget }).send(getAllProperties()));
    expect(locked).toBeInstanceOf(VapixLockedOutError);
    expect(locked).toMatchObject({
      code: 'VAPIX_LOCKED_OUT',
      retryable: true,
      retryAfterMs: 10_000,
    });

    const sent = fake.requests.length;
    time += 9_999;
    await expect(client(fake, { budget }).send(systemReady())).rejects.toBeInstanceOf(
      VapixLockedOutError,
    );
    expect(fake.requests.length).toBe(sent);

    time += 1;
    fake.setBlocked(false);
    await expect(client(fake, { budget }).send(getAllProperties())).resolves.toBeDefined();
  });

  it('reads a 403 without any failure history as missing privileges, not a block', async () => {
    const budget = createAttemptBudget();
    const fake = await camera();
    fake.setBlocked(true);
    const error = await failure(client(fake, { budget }).send(getAllProperties()));
    expect(error).toBeInstanceOf(VapixHttpError);
    expect(error).toMatchObject({ code: 'VAPIX_FORBIDDEN', status: 403 });
    expect(budget.lockedOutFor(client(fake).cameraKey)).toBe(0);
  });
});

describe('status mapping', () => {
  it('maps 404 to VapixUnsupportedError and 503 to a retryable server error', async () => {
    const fake = await camera({ anonymousPaths: ['/axis-cgi/nothing.cgi', '/axis-cgi/fail.cgi'] });
    const vapix = client(fake);
    const missing = await failure(vapix.send({ ...getApiList(), path: '/axis-cgi/nothing.cgi' }));
    expect(missing).toBeInstanceOf(VapixUnsupportedError);
    const busy = await failure(vapix.send({ ...getApiList(), path: '/axis-cgi/fail.cgi' }));
    expect(busy).toMatchObject({ code: 'VAPIX_SERVER_ERROR', status: 503, retryable: true });
  });

  it('turns a JSON-RPC error inside HTTP 200 into VapixApiError', async () => {
    const fake = await camera();
    const error = await failure(client(fake).send({ ...getApiList(), path: '/axis-cgi/time.cgi' }));
    expect(error).toBeInstanceOf(VapixApiError);
    expect(error).toMatchObject({ apiCode: 2004, path: '/axis-cgi/time.cgi' });
  });
});

describe('transport', () => {
  it('never has more than two requests in flight per camera, across clients', async () => {
    const fake = await camera({ delayMs: 40 });
    const limiter = createRequestLimiter();
    const budget = createAttemptBudget();
    const first = client(fake, { limiter, budget, credentials: null });
    const second = client(fake, { limiter, budget, credentials: null });
    await Promise.all(
      Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? first : second).send(systemReady())),
    );
    expect(fake.requests).toHaveLength(6);
    expect(fake.maxInFlight).toBe(2);
  });

  it('sends sequential calls over one keep-alive connection', async () => {
    const fake = await camera();
    const connections = countConnections(fake);
    const vapix = client(fake);
    await vapix.send(systemReady());
    await vapix.send(getAllProperties());
    await vapix.send(getApiList());
    await vapix.send(listParams('root.Brand'));
    expect(fake.requests.length).toBeGreaterThanOrEqual(4);
    expect(connections()).toBe(1);
    await vapix.close();
  });

  it('opens a fresh connection when the device closed the idle one', async () => {
    const fake = await camera();
    const vapix = client(fake, { credentials: null });
    await vapix.send(systemReady());
    fake.server.closeAllConnections();
    await expect(vapix.send(systemReady())).resolves.toMatchObject({ systemReady: true });
    await vapix.close();
  });

  it('aborts an in-flight call with VAPIX_ABORTED', async () => {
    const fake = await camera({ delayMs: 2_000 });
    const controller = new AbortController();
    const pending = client(fake).send(systemReady(), { signal: controller.signal });
    setTimeout(() => controller.abort(), 30);
    const error = await failure(pending);
    expect(error).toBeInstanceOf(VapixTransportError);
    expect(error).toMatchObject({ code: 'VAPIX_ABORTED', retryable: false });
  });

  it('aborts a queued call before it reaches the device', async () => {
    const fake = await camera({ delayMs: 300 });
    const vapix = client(fake, { limiter: createRequestLimiter({ maxConcurrent: 1 }) });
    const running = vapix.send(systemReady());
    const controller = new AbortController();
    const queued = vapix.send(systemReady(), { signal: controller.signal });
    controller.abort();
    await expect(queued).rejects.toMatchObject({ code: 'VAPIX_ABORTED' });
    await running;
    expect(fake.requests).toHaveLength(1);
  });

  it('gives up after the call-class timeout with a retryable VAPIX_TIMEOUT', async () => {
    const fake = await camera({ delayMs: 2_000 });
    const error = await failure(client(fake, { timeouts: { probeMs: 50 } }).send(systemReady()));
    expect(error).toMatchObject({
      code: 'VAPIX_TIMEOUT',
      retryable: true,
      path: '/axis-cgi/systemready.cgi',
    });
  });

  it('lets a long-poll wait for its own timeout plus the margin', async () => {
    const fake = await camera({ delayMs: 150 });
    const vapix = client(fake, { timeouts: { probeMs: 50, longPollMarginMs: 1_000 } });
    const ready = await vapix.send(systemReady({ timeoutSeconds: 0 }));
    expect(ready.systemReady).toBe(true);
    expect(JSON.parse(fake.requests[0]?.body ?? '{}')).toMatchObject({ params: { timeout: 0 } });
  });

  it('refuses a response above the size limit as malformed, whatever the status', async () => {
    const fake = await camera({
      routes: { 'POST /axis-cgi/systemready.cgi': () => json('x'.repeat(4096)) },
    });
    const vapix = client(fake, { credentials: null, maxResponseBytes: 1024 });
    const error = await failure(vapix.send(systemReady()));
    expect(error).toMatchObject({
      code: 'VAPIX_MALFORMED_RESPONSE',
      message: 'the response exceeds 1024 bytes',
    });
    await vapix.close();
  });

  it('closes its idle connections at close(), leaving the device none open', async () => {
    const fake = await camera();
    const vapix = client(fake);
    await vapix.send(getAllProperties());
    await vapix.send(getApiList());
    expect(await openConnections(fake)).toBe(1);
    await vapix.close();
    expect(await connectionsOnceClosed(fake)).toBe(0);
  });

  it('lets clients given the same shared connections use one connection, which outlives them', async () => {
    const fake = await camera();
    const connections = countConnections(fake);
    const shared = createSharedCameraConnections();
    const look = client(fake, { credentials: null, connections: shared });
    await look.send(systemReady());
    await look.close();
    // A login test as another user, then the admin: still the one connection.
    const wrong = client(fake, { credentials: WRONG, connections: shared });
    await expect(wrong.send(getAllProperties())).rejects.toBeInstanceOf(VapixAuthError);
    await wrong.close();
    const admin = client(fake, { connections: shared });
    await admin.send(getAllProperties());
    await admin.close();
    expect(fake.requests.length).toBeGreaterThanOrEqual(5);
    expect(connections()).toBe(1);
    expect(await openConnections(fake)).toBe(1);
    await shared.close();
    expect(await connectionsOnceClosed(fake)).toBe(0);
  });

  it('keeps shared connections apart per TLS policy; a client told of certificates or learning a pin opens its own', async () => {
    const fake = await camera();
    const connections = countConnections(fake);
    const shared = createSharedCameraConnections();
    const plain = client(fake, { credentials: null, connections: shared });
    await plain.send(systemReady());
    const pinned = client(fake, {
      credentials: null,
      connections: shared,
      tls: { mode: 'pin', fingerprint256: 'AB:CD' },
    });
    await pinned.send(systemReady());
    const watching = client(fake, {
      credentials: null,
      connections: shared,
      onCertificate: () => undefined,
    });
    await watching.send(systemReady());
    // Learning a pin on first use (after a factory default, say) is a client's own business.
    const learning = client(fake, { credentials: null, connections: shared, tls: { mode: 'pin' } });
    await learning.send(systemReady());
    expect(connections()).toBe(4);
    await watching.close();
    await learning.close();
    await shared.close();
    expect(() => client(fake, { connections: shared })).toThrow(/closed/);
  });

  it('reports a closed port as a retryable VAPIX_UNREACHABLE', async () => {
    const fake = await camera();
    const url = fake.url;
    await fake.close();
    cameras.splice(cameras.indexOf(fake), 1);
    const error = await failure(
      createVapixClient({ url, limiter: createRequestLimiter() }).send(systemReady()),
    );
    expect(error).toMatchObject({ code: 'VAPIX_UNREACHABLE', retryable: true });
  });

  it('refuses credentials embedded in the URL', () => {
    expect(() => createVapixClient({ url: 'http://root:pass@127.0.0.1' })).toThrow(TypeError);
  });
});
