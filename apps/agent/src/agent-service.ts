import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { COMMAND_VERBS } from '@custody/core';
import { writeAgentStatus, type AgentStatus } from './agent-status.ts';
import { createInventory, type Inventory } from './cameras/inventory.ts';
import { probeCamera } from './cameras/probe-camera.ts';
import { discoverSite } from './discovery/discover-site.ts';
import type { AgentConfig } from './env.ts';
import { createCommandExecutor } from './jobs/command-executor.ts';
import { createAgentMessage } from './link/agent-message.ts';
import { createGatewayLink, type GatewayLink, type LinkStatus } from './link/gateway-link.ts';
import type { LinkLogger } from './link/link-logger.ts';
import { loadIdentity } from './store/identity-store.ts';
import { openNonceJournal } from './store/nonce-journal.ts';
import { openOutbox } from './store/outbox.ts';
import { openResultStore } from './store/result-store.ts';
import { AGENT_VERSION } from './version.ts';

export interface AgentServiceOptions {
  config: AgentConfig;
  logger: LinkLogger;
  /** Aborting stops the service: the link closes, the inventory flushes, journals close. */
  signal: AbortSignal;
  /** How often status.json is rewritten while nothing changes. */
  statusIntervalMs?: number;
}

export type AgentServiceEnd = 'stopped' | 'revoked' | 'auth-failed' | 'not-enrolled';

/**
 * `custody-agent run`: loads the identity, opens the journals, and joins the inventory, the
 * command executor and the gateway link. Everything the server must see goes through the
 * durable outbox, so a crash at any point loses nothing that was journaled.
 */
export async function runAgentService(options: AgentServiceOptions): Promise<AgentServiceEnd> {
  const { config, logger, signal } = options;
  const identity = await loadIdentity(config.dataDir);
  if (identity === null) {
    logger.error(`not enrolled: no identity in ${config.dataDir}; run custody-agent enroll first`);
    return 'not-enrolled';
  }
  const outbox = await openOutbox(join(config.dataDir, 'outbox'));
  const nonces = await openNonceJournal(join(config.dataDir, 'commands'));
  const results = await openResultStore(join(config.dataDir, 'commands'));
  if (outbox.recovery.truncatedBytes > 0) {
    logger.warn('the outbox journal ended in a torn write (a crash); the torn tail was dropped');
  }

  // Defined before the link exists; first called once the inventory starts, after the link.
  const enqueue = (message: Parameters<GatewayLink['enqueue']>[0]) => link.enqueue(message);

  const inventory: Inventory = createInventory({
    discover: (discoverySignal) =>
      discoverSite({
        discovery: config.discovery,
        probeTimeoutMs: config.probeTimeoutMs,
        concurrency: config.probeConcurrency,
        signal: discoverySignal,
        warn: (message) => logger.warn(message),
      }),
    probe: async (url, probeSignal) =>
      (
        await probeCamera(url, null, {
          // Anonymous and read-only: pinning on first use is safe when nothing secret is sent.
          tls: { mode: 'pin' },
          signal: probeSignal,
        })
      ).report,
    emit: (output) => enqueue(createAgentMessage(output.type, output as never)),
    discoveryIntervalMs: config.discovery.intervalMs,
    refreshIntervalMs: config.refreshIntervalMs,
    concurrency: config.probeConcurrency,
    log: { warn: (message) => logger.warn(message) },
  });

  const executor = createCommandExecutor({
    identity,
    nonces,
    results,
    directory: inventory,
    report: (body) => enqueue(createAgentMessage(body.type, body as never)),
    logger,
  });

  let lastConnectedAt: string | null = null;
  let linkStatus: Pick<LinkStatus, 'state' | 'since'> = {
    state: 'connecting',
    since: new Date().toISOString(),
  };
  const status = (): AgentStatus => ({
    pid: process.pid,
    agentVersion: AGENT_VERSION,
    link: linkStatus.state,
    linkSince: linkStatus.since,
    lastConnectedAt,
    outboxDepth: outbox.depth,
    outboxDropped: outbox.dropped,
    cameras: inventory.size,
    runningCommands: executor.running,
    updatedAt: new Date().toISOString(),
  });
  let writing = Promise.resolve();
  const saveStatus = () => {
    writing = writing
      .then(() => writeAgentStatus(config.dataDir, status()))
      .catch((error: unknown) => logger.warn(`cannot write status: ${(error as Error).message}`));
  };

  const sendSnapshot = async () => {
    // A fresh snapshot after every welcome: the server replaces what it knew of this site.
    const parts = inventory.snapshotParts();
    const snapshotId = randomUUID();
    for (const [index, cameras] of parts.entries()) {
      await enqueue(
        createAgentMessage('inventory-snapshot', {
          snapshotId,
          part: index + 1,
          parts: parts.length,
          cameras,
        }),
      );
    }
  };

  const link: GatewayLink = createGatewayLink({
    identity,
    outbox,
    onCommand: async (message) => {
      await executor.handle(message);
    },
    capabilities: {
      verbs: [...COMMAND_VERBS],
      discovery: [
        ...(config.discovery.ssdp ? (['ssdp'] as const) : []),
        ...(config.discovery.mdns ? (['mdns'] as const) : []),
        ...(config.discovery.cidrs.length > 0 ? (['scan'] as const) : []),
      ],
    },
    runningCommands: () => executor.running,
    allowInsecure: config.allowInsecure,
    logger,
    onStateChange: (next) => {
      linkStatus = next;
      logger.info(`link ${next.state}${next.lastError === null ? '' : `: ${next.lastError}`}`);
      if (next.state === 'connected') {
        lastConnectedAt = next.since;
        sendSnapshot().catch((error: unknown) =>
          logger.warn(`cannot queue the inventory snapshot: ${(error as Error).message}`),
        );
      }
      saveStatus();
    },
  });
  inventory.start();
  saveStatus();
  const statusTimer = setInterval(saveStatus, options.statusIntervalMs ?? 5_000);
  statusTimer.unref();

  const stopOnAbort = () => void link.stop();
  signal.addEventListener('abort', stopOnAbort, { once: true });
  if (signal.aborted) stopOnAbort();
  const end = await link.closed;
  signal.removeEventListener('abort', stopOnAbort);
  clearInterval(statusTimer);

  await inventory.stop();
  await executor.close();
  saveStatus();
  await writing;
  await Promise.all([outbox.close(), nonces.close(), results.close()]);
  logger.info(`stopped (${end})`);
  return end;
}
