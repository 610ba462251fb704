import type { AgentMessage } from '@custody/core';
import { afterAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../apps/agent/src/identity/ed25519.ts';
import { createGatewayLink, type GatewayLink } from '../../apps/agent/src/link/gateway-link.ts';
import type { Outbox } from '../../apps/agent/src/store/store-contracts.ts';
import { startTestGateway, type TestGateway } from '../../apps/agent/src/testing/test-gateway.ts';

// A thousand real links on loopback, all cut at once, as when a server restarts: with the link's
// own full-jitter backoff they must come back spread over the backoff window, not in a burst.
const AGENTS = 1_000;

function emptyOutbox(): Outbox {
  const pending: AgentMessage[] = [];
  return {
    append: (message) => {
      pending.push(message);
      return Promise.resolve();
    },
    pending: () => pending,
    acknowledge: () => Promise.resolve(),
    get depth() {
      return pending.length;
    },
    dropped: 0,
    close: () => Promise.resolve(),
  };
}

let gateway: TestGateway;
const links: GatewayLink[] = [];

afterAll(async () => {
  await Promise.all(links.map((link) => link.stop()));
  await gateway?.close();
});

describe('a thousand agents losing the gateway at once', () => {
  it('reconnect spread over the backoff window instead of all at once', async () => {
    gateway = await startTestGateway({ heartbeatIntervalMs: 60_000 });
    const startedAt = Date.now();
    const reconnectedAt = new Map<string, number>();
    let cutAt = Number.POSITIVE_INFINITY;
    const agentIds: string[] = [];
    for (let index = 0; index < AGENTS; index += 1) {
      const keys = generateKeyPair();
      const agent = gateway.registerAgent({ publicKey: keys.publicKey });
      agentIds.push(agent.agentId);
      const link = createGatewayLink({
        identity: {
          agentId: agent.agentId,
          gatewayUrl: gateway.gatewayUrl,
          privateKeyPem: keys.privateKeyPem,
        },
        outbox: emptyOutbox(),
        onCommand: () => undefined,
        capabilities: { verbs: ['probe'], discovery: ['scan'] },
      });
      link.onStateChange((status) => {
        const now = Date.now();
        if (status.state === 'connected' && now > cutAt && !reconnectedAt.has(agent.agentId)) {
          reconnectedAt.set(agent.agentId, now - cutAt);
        }
      });
      links.push(link);
    }
    await gateway.waitFor(() => agentIds.every((id) => gateway.isConnected(id)), {
      timeoutMs: 60_000,
      description: 'every agent connected',
    });

    cutAt = Date.now();
    for (const id of agentIds) gateway.dropConnection(id);
    await gateway.waitFor(() => reconnectedAt.size === AGENTS, {
      timeoutMs: 60_000,
      description: 'every agent back',
    });

    const delays = [...reconnectedAt.values()].sort((a, b) => a - b);
    const window = delays.at(-1) ?? 0;
    const buckets = Array.from({ length: 10 }, () => 0);
    for (const delay of delays) {
      buckets[Math.min(9, Math.floor((delay / window) * 10))]! += 1;
    }
    const summary = `connect ${cutAt - startedAt} ms; reconnect window ${window} ms, per tenth: ${buckets.join(' ')}`;
    // Uniform full jitter puts about a hundred in each tenth of the window; a herd would put most
    // of them in the first tenth.
    expect(window, summary).toBeGreaterThanOrEqual(500);
    expect(Math.max(...buckets), summary).toBeLessThanOrEqual(250);
    expect(buckets[0], summary).toBeLessThanOrEqual(250);
    expect(delays[Math.floor(AGENTS / 2)]!, summary).toBeGreaterThan(window / 5);
  }, 180_000);
});
