import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeAgentStatus } from '../agent-status.ts';
import { generateKeyPair } from '../identity/ed25519.ts';
import { runCli } from '../run-cli.ts';
import { loadIdentity } from '../store/identity-store.ts';
import { openOutbox } from '../store/outbox.ts';
import { progressMessage } from '../store/testing/agent-messages.ts';
import { useTempDirs } from '../store/testing/temp-dirs.ts';
import { createMemoryIo } from '../testing/memory-io.ts';
import { startTestGateway, type TestGateway } from '../testing/test-gateway.ts';

const tempDir = useTempDirs('custody-enroll-');
const TOKEN = 'cenr_3kQ9vX2mT7pL4wR8zN6yB1cD';
const servers: Server[] = [];
let gateway: TestGateway | undefined;

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))),
  );
  await gateway?.close();
  gateway = undefined;
});

async function serve(
  handle: (request: IncomingMessage, body: string, response: ServerResponse) => void,
): Promise<string> {
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => handle(request, body, response));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function enroll(dataDir: string, server: string, extra: string[] = [], token = TOKEN) {
  const io = createMemoryIo({ env: { HOME: dataDir, TOKEN: token } });
  const args = ['enroll', '--server', server, '--token-env', 'TOKEN', '--data-dir', dataDir];
  return runCli([...args, ...extra], io).then((code) => ({ code, io }));
}

describe('custody-agent enroll', () => {
  it('does not follow a redirect, so the token never reaches another server', async () => {
    const elsewhere: string[] = [];
    const other = await serve((_request, body, response) => {
      elsewhere.push(body);
      response.writeHead(200).end('{}');
    });
    const server = await serve((_request, _body, response) => {
      response.writeHead(307, { location: `${other}/agent/v1/enroll` }).end();
    });
    const dataDir = await tempDir();
    const { code, io } = await enroll(dataDir, server);
    expect(code).toBe(1);
    expect(elsewhere).toEqual([]);
    expect(io.err()).toMatch(/redirect/);
    expect(io.err()).not.toContain(TOKEN);
    expect(await loadIdentity(dataDir)).toBeNull();
  });

  it('saves nothing when the server names a gateway the link would refuse', async () => {
    const server = await serve((_request, _body, response) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          agentId: randomUUID(),
          siteId: randomUUID(),
          commandSigningKey: generateKeyPair().publicKey,
          gatewayUrl: 'ws://custody.example.com/agent/v1',
        }),
      );
    });
    const dataDir = await tempDir();
    const { code, io } = await enroll(dataDir, server);
    expect(code).toBe(1);
    expect(io.err()).toMatch(/ws:\/\//);
    expect(await loadIdentity(dataDir)).toBeNull();
  });

  it('with --replace, archives the journals of the identity it replaces', async () => {
    gateway = await startTestGateway();
    const siteId = randomUUID();
    const dataDir = await tempDir();
    const first = await enroll(
      dataDir,
      gateway.url,
      [],
      gateway.createEnrollmentToken({ siteId, ttlMs: 60_000 }),
    );
    expect(first.code).toBe(0);
    const oldId = (await loadIdentity(dataDir))?.agentId;
    const outbox = await openOutbox(join(dataDir, 'outbox'));
    await outbox.append(progressMessage('old agent'));
    await outbox.close();
    await mkdir(join(dataDir, 'commands'), { mode: 0o700 });
    await writeFile(join(dataDir, 'commands', 'results.jsonl'), '', { mode: 0o600 });

    const second = await enroll(
      dataDir,
      gateway.url,
      ['--replace'],
      gateway.createEnrollmentToken({ siteId, ttlMs: 60_000 }),
    );
    expect(second.code).toBe(0);
    expect((await loadIdentity(dataDir))?.agentId).not.toBe(oldId);
    // The new agent starts with an empty outbox: it must not replay the old agent's messages.
    const fresh = await openOutbox(join(dataDir, 'outbox'));
    expect(fresh.depth).toBe(0);
    await fresh.close();
    const archive = (await readdir(dataDir)).find((name) => name.startsWith('replaced-'));
    expect(archive).toContain(oldId);
    expect((await readdir(join(dataDir, archive ?? ''))).sort()).toEqual(['commands', 'outbox']);
  });

  it('with --replace, refuses while the agent service is running from the same directory', async () => {
    gateway = await startTestGateway();
    const siteId = randomUUID();
    const dataDir = await tempDir();
    const token = () => gateway?.createEnrollmentToken({ siteId, ttlMs: 60_000 }) ?? '';
    expect((await enroll(dataDir, gateway.url, [], token())).code).toBe(0);
    const now = new Date().toISOString();
    await writeAgentStatus(dataDir, {
      pid: process.pid,
      agentVersion: '0.0.0',
      link: 'connected',
      linkSince: now,
      lastConnectedAt: now,
      outboxDepth: 0,
      outboxDropped: 0,
      cameras: 0,
      runningCommands: 0,
      updatedAt: now,
    });
    const { code, io } = await enroll(dataDir, gateway.url, ['--replace'], token());
    expect(code).toBe(1);
    expect(io.err()).toMatch(/running/);
  });
});
