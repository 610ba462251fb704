import { randomUUID } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { COMMAND_VERBS, type AgentMessageType } from '@custody/core';
import { writeAgentStatus, type AgentStatus } from './agent-status.ts';
import { createInventory, type Inventory, type PersistedCamera } from './cameras/inventory.ts';
import { probeCamera } from './cameras/probe-camera.ts';
import { createAddressFilter } from './discovery/cidr.ts';
import { discoverSite } from './discovery/discover-site.ts';
import type { AgentConfig } from './env.ts';
import { pinnedTls } from './jobs/camera-access.ts';
import { createCommandExecutor } from './jobs/command-executor.ts';
import {
  createAgentMessage,
  type AgentMessageBody,
  type DurableAgentMessage,
} from './link/agent-message.ts';
import { createGatewayLink, type GatewayLink, type LinkStatus } from './link/gateway-link.ts';
import type { LinkLogger } from './link/link-logger.ts';
import { COMMANDS_DIRECTORY, OUTBOX_DIRECTORY } from './store/data-dir.ts';
import { loadIdentity } from './store/identity-store.ts';
import { loadInventory, saveInventory } from './store/inventory-file.ts';
import { openNonceJournal } from './store/nonce-journal.ts';
import { openOutbox } from './store/outbox.ts';
import { openResultStore } from './store/result-store.ts';
import { openTlsPinStore } from './store/tls-pin-store.ts';
import { AGENT_VERSION } from './version.ts';

export interface AgentServiceOptions {
  config: AgentConfig;
  logger: LinkLogger;
  /**
   * Aborting stops the service: it takes no new command, lets running ones finish for
   * `config.stopGraceMs`, then stops the inventory and the link and closes the journals.
   */
  signal: AbortSignal;
  /** How often status.json is rewritten while nothing changes. */
  statusIntervalMs?: number;
}

export type AgentServiceEnd = 'stopped' | 'revoked' | 'auth-failed' | 'not-enrolled';

/** The subnets of this host's IPv4 interfaces, where multicast discovery answers come from. */
function localIpv4Subnets(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((address) => address !== undefined && address.family === 'IPv4' && !address.internal)
    .map((address) => address?.cidr)
    .filter((cidr): cidr is string => typeof cidr === 'string');
}

/**
 * `custody-agent run`: loads the identity, opens the journals, and joins the inventory, the
 * command executor and the gateway link. Everything the server must see goes through the
 * durable outbox, so a crash at any point loses nothing that was journaled.
 */
export async function runAgentService(options: AgentServiceOptions): Promise<AgentServiceEnd> {
  const { config, logger, signal } = options;
  const { dataDir } = config;
  const identity = await loadIdentity(dataDir);
  if (identity === null) {
    logger.error(`not enrolled: no identity in ${dataDir}; run custody-agent enroll first`);
    return 'not-enrolled';
  }
  const outbox = await openOutbox(join(dataDir, OUTBOX_DIRECTORY));
  const nonces = await openNonceJournal(join(dataDir, COMMANDS_DIRECTORY));
  const results = await openResultStore(join(dataDir, COMMANDS_DIRECTORY));
  const warn = (message: string) => logger.warn(message);
  const pins = await openTlsPinStore(dataDir, { warn });
  if (outbox.recovery.truncatedBytes > 0) {
    logger.warn('the outbox journal ended in a torn write (a crash); the torn tail was dropped');
  }
  let restored: PersistedCamera[] = [];
  try {
    const loaded = await loadInventory(dataDir);
    restored = loaded.cameras;
    if (loaded.skipped > 0) warn(`${loaded.skipped} remembered camera(s) could not be read`);
  } catch (error) {
    warn(`cannot read the remembered inventory, starting empty: ${(error as Error).message}`);
  }

  // Until the link exists (while the previous run's commands are settled) messages go straight
  // to the outbox; the link sends them with the replay after its first welcome.
  let link: GatewayLink | undefined = undefined;
  const enqueue = <T extends DurableAgentMessage['type']>(
    type: T,
    body: AgentMessageBody<T>,
    id?: string,
  ): Promise<void> => {
    const message = createAgentMessage(type as AgentMessageType, body as never, {
      ...(link === undefined ? {} : { v: link.messageVersion }),
      ...(id === undefined ? {} : { id }),
    }) as DurableAgentMessage;
    return link === undefined ? outbox.append(message) : link.enqueue(message);
  };

  const sendSnapshot = async () => {
    // The server replaces what it knew of this site with a complete snapshot, so one is sent only
    // once a discovery round has completed, never the empty inventory of a fresh start.
    const parts = inventory.snapshotParts();
    const snapshotId = randomUUID();
    for (const [index, cameras] of parts.entries()) {
      await enqueue('inventory-snapshot', {
        snapshotId,
        part: index + 1,
        parts: parts.length,
        cameras,
      });
    }
  };
  const queueSnapshot = () => {
    sendSnapshot().catch((error: unknown) =>
      logger.warn(`cannot queue the inventory snapshot: ${(error as Error).message}`),
    );
  };

  const multicast = config.discovery.ssdp || config.discovery.mdns;
  const inventory: Inventory = createInventory({
    discover: async (discoverySignal, found) => {
      await discoverSite({
        discovery: config.discovery,
        probeTimeoutMs: config.probeTimeoutMs,
        concurrency: config.probeConcurrency,
        signal: discoverySignal,
        warn,
        onSightings: found,
      });
    },
    probe: async (url, probeSignal, serial) => {
      // Anonymous and read-only; an https camera is held to its pin, or pinned on first use.
      const { report, fingerprint256 } = await probeCamera(url, null, {
        tls: pins.policyFor(serial),
        signal: probeSignal,
      });
      if (
        fingerprint256 !== undefined &&
        serial !== undefined &&
        report.identity?.serial === serial
      ) {
        pins.observe(serial, fingerprint256);
      }
      return report;
    },
    emit: (output) => enqueue(output.type, output),
    isAllowedHost: createAddressFilter({
      cidrs: config.discovery.cidrs,
      localSubnets: multicast ? localIpv4Subnets() : [],
    }),
    restored,
    persist: (cameras) => saveInventory(dataDir, cameras),
    onFirstRound: () => {
      if (link?.state === 'connected') queueSnapshot();
    },
    discoveryIntervalMs: config.discovery.intervalMs,
    refreshIntervalMs: config.refreshIntervalMs,
    concurrency: config.probeConcurrency,
    log: { warn },
  });

  const executor = createCommandExecutor({
    identity,
    nonces,
    results,
    directory: inventory,
    report: (body, reportOptions) => enqueue(body.type, body, reportOptions?.messageId),
    logger,
    maxConcurrent: config.maxCommands,
    vapix: pinnedTls(pins),
  });
  // Before the link: the server stopped sending what the last run acknowledged, so those results
  // must be in the outbox for the first replay.
  await executor.recover();

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
      .then(() => writeAgentStatus(dataDir, status()))
      .catch((error: unknown) => logger.warn(`cannot write status: ${(error as Error).message}`));
  };

  const activeLink: GatewayLink = createGatewayLink({
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
        if (inventory.discovered) queueSnapshot();
      }
      saveStatus();
    },
  });
  link = activeLink;
  inventory.start();
  saveStatus();
  const statusTimer = setInterval(saveStatus, options.statusIntervalMs ?? 5_000);
  statusTimer.unref();

  let onAbort = () => undefined as void;
  const stopRequested = new Promise<'stop'>((resolve) => {
    onAbort = () => resolve('stop');
  });
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) onAbort();
  const cause = await Promise.race([activeLink.closed, stopRequested]);
  signal.removeEventListener('abort', onAbort);

  // Commands first, while the link can still deliver their results: no new ones, a grace period
  // for the running ones, then the rest are reported interrupted or not run.
  logger.info(cause === 'stop' ? 'stopping: finishing running commands' : `link ended (${cause})`);
  await executor.close({ graceMs: cause === 'stop' ? config.stopGraceMs : 0 });
  await inventory.stop();
  const end = await activeLink.stop().then(() => activeLink.closed);
  clearInterval(statusTimer);
  saveStatus();
  await writing;
  await pins.flush();
  await Promise.all([outbox.close(), nonces.close(), results.close()]);
  logger.info(`stopped (${end})`);
  return end;
}
