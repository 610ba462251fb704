import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseHandle } from '@custody/db';
import {
  loadCommandSigningKey,
  silentGatewayLogger,
  startAgentGateway,
  type AgentGateway,
  type GatewayLogger,
} from '../../../apps/web/src/server/gateway/index.ts';
import { createCaller } from '../../../apps/web/src/server/api/root.ts';
import { createInnerTRPCContext } from '../../../apps/web/src/server/api/trpc.ts';
import type { Actor } from '../../../apps/web/src/server/services/actor.ts';
import {
  startRotationEngine,
  type RotationEngine,
  type RotationTuning,
} from '../../../apps/web/src/server/services/rotation/rotation-engine.ts';
import type { Vault } from '../../../apps/web/src/server/services/vault/vault.ts';
import { createVaultSecretsResolver } from '../../../apps/web/src/server/services/vault/vault-secrets-resolver.ts';

/*
 * The web side of a bulk rotation, wired as apps/web/server.ts wires it minus Next: one HTTP
 * server whose /agent/v1 upgrade the real agent gateway takes, the gateway resolving secrets from
 * the vault, and the rotation engine, all on `database` (which a test may route through a TCP
 * proxy to take it away). What they log is kept, to be searched for secrets.
 */

export interface RotationServer {
  /** http://127.0.0.1:<port>, for agent enrollment. */
  url: string;
  gateway: AgentGateway;
  engine: RotationEngine;
  /** Every line the gateway and the engine logged. */
  logged: string[];
  /** tRPC as `actor`, on the server's database, with the vault in the context. */
  as(actor: Actor): ReturnType<typeof createCaller>;
  close(): Promise<void>;
}

export async function startRotationServer(options: {
  database: DatabaseHandle;
  vault: Vault;
  /** The engine's and gateway's safety-net sweeps (default 1 s and 500 ms). */
  sweepIntervalMs?: number;
  heartbeatIntervalMs?: number;
  /** The engine's tuning (per-agent limit, recheck waits); its defaults otherwise. */
  tuning?: Partial<RotationTuning>;
}): Promise<RotationServer> {
  const { database, vault } = options;
  const logged: string[] = [];
  const keep =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      logged.push(`${level} ${message} ${fields === undefined ? '' : JSON.stringify(fields)}`);
    };
  const log: GatewayLogger = { info: keep('info'), warn: keep('warn'), error: keep('error') };
  const keyDir = await mkdtemp(join(tmpdir(), 'custody-rotation-key-'));
  const signer = await loadCommandSigningKey(
    join(keyDir, 'command-signing-key.pem'),
    silentGatewayLogger,
  );
  const gateway = await startAgentGateway({
    database,
    signer,
    resolveSecrets: createVaultSecretsResolver(database.db, vault),
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 1_000,
    sweepIntervalMs: 500,
    log,
  });
  const server: Server = createServer((request, response) => {
    if (gateway.handleRequest(request, response)) return;
    response.writeHead(404).end();
  });
  server.on('upgrade', (request, socket, head) => {
    if (!gateway.handleUpgrade(request, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolve) =>
    server.listen({ port: 0, host: '127.0.0.1', backlog: 1024 }, resolve),
  );
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const engine = await startRotationEngine({
    database,
    vault,
    sweepIntervalMs: options.sweepIntervalMs ?? 1_000,
    log,
    ...(options.tuning === undefined ? {} : { tuning: options.tuning }),
  });
  return {
    url,
    gateway,
    engine,
    logged,
    as: (actor) => createCaller(createInnerTRPCContext({ db: database.db, actor, vault })),
    async close() {
      await engine.close();
      await gateway.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(keyDir, { recursive: true, force: true });
    },
  };
}
