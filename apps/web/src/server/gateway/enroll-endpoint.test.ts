import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseHandle } from '@custody/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_ADDRESS_HEADER } from '../auth/client-address.ts';
import { openTestDatabase, seedWorld, type World } from '../test-support/world.ts';
import { loadCommandSigningKey } from './command-signing-key.ts';
import { DEFAULT_ENROLL_RATE_RULES, serveEnrollRequest } from './enroll-endpoint.ts';
import { createEnrollmentToken } from './enrollment.ts';
import { silentGatewayLogger } from './gateway-logger.ts';

let handle: DatabaseHandle;
let world: World;
let keyDir: string;
const servers: Server[] = [];
/** The enroll URLs of two servers on one database, as two processes behind a load balancer. */
const urls: string[] = [];

// The tests share the database, and with it the counts: each uses client addresses of its own.
beforeAll(async () => {
  handle = await openTestDatabase();
  world = await seedWorld(handle.db);
  keyDir = await mkdtemp(join(tmpdir(), 'custody-enroll-key-'));
  const signer = await loadCommandSigningKey(join(keyDir, 'key.pem'), silentGatewayLogger);
  for (let i = 0; i < 2; i++) {
    const server = createServer((request, response) =>
      serveEnrollRequest(request, response, {
        db: handle.db,
        signer,
        gatewayUrl: () => 'ws://custody.test/agent/v1',
        log: silentGatewayLogger,
        rules: DEFAULT_ENROLL_RATE_RULES,
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    urls.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}/agent/v1/enroll`);
  }
});

afterAll(async () => {
  await Promise.all(
    servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
  );
  await handle.close();
  await rm(keyDir, { recursive: true, force: true });
});

function publicKey(): string {
  const { publicKey: key } = generateKeyPairSync('ed25519');
  return key.export({ type: 'spki', format: 'der' }).toString('base64');
}

// server.ts stamps the client address on every request; this test server does not, so the
// tests set it themselves to stand for distinct clients.
function enroll(address: string, token: string, url = urls[0]!) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [CLIENT_ADDRESS_HEADER]: address },
    body: JSON.stringify({ token, publicKey: publicKey(), name: 'edge', agentVersion: '0.4.0' }),
  });
}

const guess = () => `cenr_${randomBytes(24).toString('base64url')}`;

describe('enrollment rate limits', () => {
  it('refuses a sixth wrong token from one address for ten minutes, even with a good token', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await enroll('198.51.100.7', guess())).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    const { token } = await createEnrollmentToken(handle.db, {
      siteId: world.sites.grantedSite.id,
      createdBy: null,
      ttlMs: 60_000,
    });
    const refused = await enroll('198.51.100.7', token);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(500);
    expect(await refused.json()).toEqual({
      error: { code: 'too-many-requests', message: expect.stringMatching(/Try again/) as unknown },
    });
    // The good token was not spent: another address enrolls with it.
    expect((await enroll('198.51.100.8', token)).status).toBe(201);
  });

  it('allows ten attempts a minute from one address, whatever they are', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      const response = await fetch(urls[0]!, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [CLIENT_ADDRESS_HEADER]: '203.0.113.4' },
        body: '{"token":',
      });
      statuses.push(response.status);
      if (response.status === 429) {
        expect(Number(response.headers.get('retry-after'))).toBeLessThanOrEqual(60);
      }
    }
    expect(statuses.slice(0, 10).every((status) => status === 400)).toBe(true);
    expect(statuses[10]).toBe(429);
    expect((await enroll('203.0.113.5', guess())).status).toBe(401);
  });

  it('counts attempts in the database, so a second server process refuses a guesser too', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await enroll('198.51.100.20', guess(), urls[i % 2])).status).toBe(401);
    }
    const refused = await enroll('198.51.100.20', guess(), urls[1]);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(500);
    expect((await enroll('198.51.100.20', guess(), urls[0])).status).toBe(429);
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      const response = await fetch(urls[i % 2]!, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [CLIENT_ADDRESS_HEADER]: '203.0.113.21' },
        body: '{"token":',
      });
      statuses.push(response.status);
    }
    expect(statuses.slice(0, 10).every((status) => status === 400)).toBe(true);
    expect(statuses[10]).toBe(429);
  });
});
