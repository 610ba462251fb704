import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  PROTOCOL_VERSION,
  authSigningText,
  parseServerFrame,
  type ServerMessage,
} from '@custody/core';
import { schema, type DatabaseHandle } from '@custody/db';
import { createTestDatabase, providedDatabaseUrl } from '@custody/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { generateKeyPair, signText } from '../../apps/agent/src/identity/ed25519.ts';
import {
  loadCommandSigningKey,
  silentGatewayLogger,
  startAgentGateway,
  type AgentGateway,
} from '../../apps/web/src/server/gateway/index.ts';

// An agent that sends faster than its messages are applied: the gateway applies them one at a
// time here (ingestConcurrency 1), so its queue for the connection never runs dry while the
// burst lasts, and acknowledgements must still flow.

const url = providedDatabaseUrl();
const engine = url ? 'postgresql' : 'pglite';
const BURST = 200;

let database: DatabaseHandle;
let gateway: AgentGateway;
let server: Server;
let gatewayUrl: string;
let keyDir: string;
let agent: { agentId: string; privateKeyPem: string };

function envelope(type: string) {
  return { v: PROTOCOL_VERSION, id: randomUUID(), type, sentAt: new Date().toISOString() };
}

beforeAll(async () => {
  database = await createTestDatabase({ url });
  const [owner] = await database.db
    .insert(schema.organisations)
    .values({ name: 'Harbour Bakery', kind: 'owner' })
    .returning();
  const [site] = await database.db
    .insert(schema.sites)
    .values({ ownerOrgId: owner!.id, name: 'Harbour Street' })
    .returning();
  const keys = generateKeyPair();
  const [row] = await database.db
    .insert(schema.agents)
    .values({ siteId: site!.id, name: 'gatehouse', publicKey: keys.publicKey })
    .returning();
  agent = { agentId: row!.id, privateKeyPem: keys.privateKeyPem };

  keyDir = await mkdtemp(join(tmpdir(), 'custody-gateway-ingest-'));
  const signer = await loadCommandSigningKey(
    join(keyDir, 'command-signing-key.pem'),
    silentGatewayLogger,
  );
  gateway = await startAgentGateway({
    database,
    signer,
    ingestConcurrency: 1,
    log: silentGatewayLogger,
  });
  server = createServer((_request, response) => response.writeHead(404).end());
  server.on('upgrade', (request, socket, head) => {
    if (!gateway.handleUpgrade(request, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  gatewayUrl = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/agent/v1`;
});

afterAll(async () => {
  await gateway?.close();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await database?.close();
  await rm(keyDir, { recursive: true, force: true });
});

describe(`inventory ingest under a burst on ${engine}`, () => {
  it('acknowledges applied messages while more are still waiting, not only once the queue runs dry', async () => {
    const ws = new WebSocket(gatewayUrl);
    const received: ServerMessage[] = [];
    let onFrame: () => void = () => undefined;
    ws.on('message', (data: Buffer) => {
      const parsed = parseServerFrame(data.toString('utf8'));
      if (parsed.ok) received.push(parsed.value);
      onFrame();
    });
    const until = (check: () => boolean) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('timed out')), 20_000);
        onFrame = () => {
          if (!check()) return;
          clearTimeout(timer);
          resolve();
        };
        onFrame();
      });
    try {
      await until(() => received.some((message) => message.type === 'challenge'));
      const challenge = received.find((message) => message.type === 'challenge');
      if (challenge?.type !== 'challenge') throw new Error('no challenge');
      ws.send(
        JSON.stringify({
          ...envelope('hello'),
          agentId: agent.agentId,
          protocolVersions: [PROTOCOL_VERSION],
          agentVersion: '0.0.1',
          capabilities: { verbs: ['probe'], discovery: [] },
          gatewayUrl,
          signature: signText(
            agent.privateKeyPem,
            authSigningText({ agentId: agent.agentId, nonce: challenge.nonce, gatewayUrl }),
          ),
        }),
      );
      await until(() => received.some((message) => message.type === 'welcome'));

      const sent = new Set<string>();
      for (let index = 0; index < BURST; index += 1) {
        const serial = `ACCC8E${index.toString(16).toUpperCase().padStart(6, '0')}`;
        const delta = {
          ...envelope('inventory-delta'),
          upserts: [
            {
              serial,
              url: 'http://10.20.0.21/',
              address: '10.20.0.21',
              source: 'scan',
              model: 'M3086-V',
              productName: 'AXIS M3086-V Dome Camera',
              firmware: '11.11.73',
              hardwareId: '9A1.1',
              mac: null,
              accessState: 'authenticated',
              seenAt: new Date().toISOString(),
            },
          ],
          lost: [],
        };
        sent.add(delta.id);
        ws.send(JSON.stringify(delta));
      }
      const acked = () =>
        received.flatMap((message) => (message.type === 'ack' ? message.ids : []));
      await until(() => acked().length >= BURST);

      expect(new Set(acked())).toEqual(sent);
      const ackFrames = received.filter((message) => message.type === 'ack');
      expect(ackFrames.length).toBeGreaterThan(1);
      expect(ackFrames[0]?.type === 'ack' && ackFrames[0].ids.length).toBeLessThan(BURST);
    } finally {
      ws.close();
    }
  });
});
