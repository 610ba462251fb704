import { randomUUID } from 'node:crypto';
import {
  EnrollResponseSchema,
  authSigningText,
  commandSigningText,
  parseServerFrame,
  type AgentMessage,
  type ServerMessage,
} from '@custody/core';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { generateKeyPair, signText, verifyText } from '../identity/ed25519.ts';
import { createAgentMessage } from '../link/agent-message.ts';
import { startTestGateway, type TestGateway, type TestGatewayOptions } from './test-gateway.ts';

/** A bare protocol client, so the gateway is tested without the link's own behaviour. */
interface RawClient {
  ws: WebSocket;
  next(): Promise<ServerMessage>;
  send(message: AgentMessage | string): void;
  closed: Promise<{ code: number; reason: string }>;
}

function connectRaw(url: string): Promise<RawClient> {
  const ws = new WebSocket(url);
  const inbox: ServerMessage[] = [];
  const takers: ((message: ServerMessage) => void)[] = [];
  ws.on('message', (data: Buffer) => {
    const parsed = parseServerFrame(data.toString('utf8'));
    if (!parsed.ok) throw new Error(`The gateway sent a malformed frame: ${parsed.error.message}`);
    const taker = takers.shift();
    if (taker) taker(parsed.value);
    else inbox.push(parsed.value);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })),
  );
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () =>
      resolve({
        ws,
        closed,
        next: () => {
          const queued = inbox.shift();
          return queued ? Promise.resolve(queued) : new Promise((take) => takers.push(take));
        },
        send: (message) => ws.send(typeof message === 'string' ? message : JSON.stringify(message)),
      }),
    );
  });
}

let gateway: TestGateway | undefined;
const clients: WebSocket[] = [];

afterEach(async () => {
  for (const ws of clients.splice(0)) ws.terminate();
  await gateway?.close();
  gateway = undefined;
});

async function startGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  gateway = await startTestGateway(options);
  return gateway;
}

async function open(url: string): Promise<RawClient> {
  const client = await connectRaw(url);
  clients.push(client.ws);
  return client;
}

async function challenge(
  client: RawClient,
): Promise<Extract<ServerMessage, { type: 'challenge' }>> {
  const message = await client.next();
  if (message.type !== 'challenge') throw new Error(`Expected a challenge, got ${message.type}.`);
  return message;
}

function hello(
  agent: { agentId: string; privateKeyPem: string },
  nonce: string,
  gatewayUrl: string,
  protocolVersions = [1],
): AgentMessage {
  return createAgentMessage('hello', {
    agentId: agent.agentId,
    protocolVersions,
    agentVersion: '0.0.1',
    capabilities: { verbs: [], discovery: [] },
    gatewayUrl,
    signature: signText(
      agent.privateKeyPem,
      authSigningText({ agentId: agent.agentId, nonce, gatewayUrl }),
    ),
  });
}

async function authenticated(target: TestGateway) {
  const keys = generateKeyPair();
  const agent = { ...target.registerAgent({ publicKey: keys.publicKey }), ...keys };
  const client = await open(target.gatewayUrl);
  const { nonce } = await challenge(client);
  client.send(hello(agent, nonce, target.gatewayUrl));
  const welcome = await client.next();
  expect(welcome).toMatchObject({ type: 'welcome', agentId: agent.agentId });
  return { agent, client };
}

function postEnroll(target: TestGateway, body: unknown): Promise<Response> {
  return fetch(`${target.url}/agent/v1/enroll`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

function enrollRequest(token: string) {
  return {
    token,
    publicKey: generateKeyPair().publicKey,
    name: 'Site A agent',
    agentVersion: '0.1.0',
  };
}

describe('startTestGateway', () => {
  it('enrolls an agent with a token once, answering its signing key and gateway URL', async () => {
    const target = await startGateway();
    const siteId = randomUUID();
    const token = target.createEnrollmentToken({ siteId, ttlMs: 60_000 });
    const request = enrollRequest(token);

    const response = await postEnroll(target, request);
    const again = await postEnroll(target, enrollRequest(token));

    expect(response.status).toBe(200);
    const body = EnrollResponseSchema.parse(await response.json());
    expect(body).toMatchObject({
      siteId,
      commandSigningKey: target.commandSigningKey,
      gatewayUrl: target.gatewayUrl,
    });
    expect(target.agent(body.agentId)).toMatchObject({
      publicKey: request.publicKey,
      name: 'Site A agent',
      revoked: false,
    });
    expect(again.status).toBe(401);
    expect(await again.json()).toMatchObject({ error: { code: 'invalid-token' } });
  });

  it('refuses an expired token, an unknown token and a malformed request', async () => {
    let now = 1_000_000;
    const target = await startGateway({ now: () => now });
    const token = target.createEnrollmentToken({ siteId: randomUUID(), ttlMs: 1_000 });
    now += 1_000;

    expect((await postEnroll(target, enrollRequest(token))).status).toBe(401);
    expect((await postEnroll(target, enrollRequest('x'.repeat(32)))).status).toBe(401);
    const malformed = await postEnroll(target, { token, publicKey: 'nope' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: { code: 'invalid-request' } });
    const wrongMethod = await fetch(`${target.url}/agent/v1/enroll`);
    expect(wrongMethod.status).toBe(405);
  });

  it('challenges with a fresh nonce and welcomes a correctly signed hello', async () => {
    const target = await startGateway({ heartbeatIntervalMs: 2_000 });
    const first = await open(target.gatewayUrl);
    const second = await open(target.gatewayUrl);
    const [a, b] = [await challenge(first), await challenge(second)];
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.protocolVersions).toEqual([1]);

    const { agent } = await authenticated(target);

    expect(target.isConnected(agent.agentId)).toBe(true);
    expect(target.events).toContainEqual({
      kind: 'authenticated',
      agentId: agent.agentId,
      protocolVersion: 1,
    });
  });

  it('refuses a hello signed for a gateway URL whose host is not the one dialled', async () => {
    const target = await startGateway();
    const keys = generateKeyPair();
    const agent = { ...target.registerAgent({ publicKey: keys.publicKey }), ...keys };
    const client = await open(target.gatewayUrl);
    const { nonce } = await challenge(client);

    client.send(hello(agent, nonce, target.gatewayUrl.replace('127.0.0.1', 'localhost')));

    expect(await client.next()).toMatchObject({
      type: 'error',
      code: 'wrong-gateway',
      fatal: true,
    });
    expect(await client.closed).toEqual({ code: 4001, reason: 'wrong-gateway' });
  });

  it('refuses a hello signed over another nonce', async () => {
    const target = await startGateway();
    const keys = generateKeyPair();
    const agent = { ...target.registerAgent({ publicKey: keys.publicKey }), ...keys };
    const client = await open(target.gatewayUrl);
    await challenge(client);

    client.send(hello(agent, 'c3RhbGUtbm9uY2Utc3RhbGUtbm9uY2U', target.gatewayUrl));

    expect(await client.closed).toEqual({ code: 4001, reason: 'bad-signature' });
  });

  it('closes with 4005 when anything but a hello comes first', async () => {
    const target = await startGateway();
    const client = await open(target.gatewayUrl);
    await challenge(client);

    client.send(createAgentMessage('heartbeat', { outboxDepth: 0, runningCommands: 0 }));

    expect(await client.closed).toEqual({ code: 4005, reason: 'hello-expected' });
  });

  it('closes with 4004 when the hello offers no version it accepts', async () => {
    const target = await startGateway({ acceptedVersions: [2] });
    const keys = generateKeyPair();
    const agent = { ...target.registerAgent({ publicKey: keys.publicKey }), ...keys };
    const client = await open(target.gatewayUrl);
    const { nonce } = await challenge(client);

    client.send(hello(agent, nonce, target.gatewayUrl, [1]));

    expect(await client.closed).toEqual({ code: 4004, reason: 'unsupported-version' });
  });

  it('records a durable message once and acknowledges every copy of it', async () => {
    const target = await startGateway();
    const { agent, client } = await authenticated(target);
    const message = createAgentMessage('command-ack', { commandId: randomUUID() });

    client.send(message);
    client.send(message);

    expect(await client.next()).toMatchObject({ type: 'ack', ids: [message.id] });
    expect(await client.next()).toMatchObject({ type: 'ack', ids: [message.id] });
    expect(target.messages('command-ack')).toEqual([message]);
    expect(target.duplicates).toBe(1);
    expect(target.events.filter((event) => event.kind === 'message')).toEqual([
      { kind: 'message', agentId: agent.agentId, message, duplicate: false },
      { kind: 'message', agentId: agent.agentId, message, duplicate: true },
    ]);
  });

  it('answers a malformed frame after the welcome with an error and keeps the connection', async () => {
    const target = await startGateway();
    const { agent, client } = await authenticated(target);

    client.send('{"type":');

    expect(await client.next()).toMatchObject({ type: 'error', code: 'not-json', fatal: false });
    expect(target.isConnected(agent.agentId)).toBe(true);
    client.send(createAgentMessage('heartbeat', { outboxDepth: 3, runningCommands: 0 }));
    expect(await client.next()).toMatchObject({ type: 'heartbeat' });
  });

  it('signs commands so that the agent can verify them with the enrolled key', async () => {
    const target = await startGateway();
    const { agent, client } = await authenticated(target);
    const payload = { commandId: randomUUID(), verb: 'probe' };

    const sent = target.sendCommand(agent.agentId, payload);
    const received = await client.next();

    expect(received).toEqual(sent);
    expect(verifyText(target.commandSigningKey, commandSigningText(payload), sent.signature)).toBe(
      true,
    );
    expect(() => target.sendCommand(randomUUID(), payload)).toThrow(/not connected/);
  });

  it('replaces an older connection of the same agent with 4009', async () => {
    const target = await startGateway();
    const keys = generateKeyPair();
    const agent = { ...target.registerAgent({ publicKey: keys.publicKey }), ...keys };
    const older = await open(target.gatewayUrl);
    older.send(hello(agent, (await challenge(older)).nonce, target.gatewayUrl));
    await older.next();
    const newer = await open(target.gatewayUrl);

    newer.send(hello(agent, (await challenge(newer)).nonce, target.gatewayUrl));

    expect(await older.closed).toEqual({ code: 4009, reason: 'replaced' });
    expect(await newer.next()).toMatchObject({ type: 'welcome' });
  });

  it('does not upgrade other paths', async () => {
    const target = await startGateway();

    await expect(connectRaw(target.gatewayUrl.replace('/agent/v1', '/elsewhere'))).rejects.toThrow(
      /404/,
    );
  });
});
