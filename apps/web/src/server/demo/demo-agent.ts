import { join } from 'node:path';
import { z } from 'zod';
import type { Database } from '@custody/db';
import { agents, enrollmentTokens } from '@custody/db/schema';
import { and, eq, isNull, ne } from 'drizzle-orm';
import { createEnrollmentToken, revokeAgent } from '../gateway/index.ts';
import { startDemoProcess, type DemoProcess } from './demo-process.ts';

export const DEMO_AGENT_NAME = 'Demo site agent';
const TOKEN_VARIABLE = 'CUSTODY_DEMO_ENROLL_TOKEN';
/** Long enough for one enroll command to start and use it; it is single-use anyway. */
const TOKEN_TTL_MS = 2 * 60_000;

export interface DemoAgentOptions {
  repoRoot: string;
  /** The agent's own data directory: identity, outbox, journals. */
  dataDir: string;
  logFile: string;
  /** The range it scans, and the one port it scans there. */
  cidr: string;
  cameraPort: number;
}

/**
 * The agent as an integrator would configure it for a small site, with shorter intervals so a
 * camera that moved after a reset is found again within a minute. No multicast: the demo stays
 * on loopback.
 */
function agentEnv(options: DemoAgentOptions, extra: Record<string, string> = {}) {
  return {
    CUSTODY_AGENT_DATA_DIR: options.dataDir,
    CUSTODY_AGENT_CIDRS: options.cidr,
    CUSTODY_AGENT_PORTS: String(options.cameraPort),
    CUSTODY_AGENT_DISCOVERY_INTERVAL_S: '60',
    CUSTODY_AGENT_REFRESH_INTERVAL_S: '300',
    CUSTODY_AGENT_PROBE_TIMEOUT_S: '3',
    CUSTODY_AGENT_STOP_GRACE_S: '2',
    ...extra,
  };
}

function startAgentCli(
  options: DemoAgentOptions,
  args: readonly string[],
  extraEnv: Record<string, string> = {},
): Promise<DemoProcess> {
  return startDemoProcess({
    args: [join(options.repoRoot, 'apps', 'agent', 'src', 'cli.ts'), ...args],
    cwd: options.repoRoot,
    env: agentEnv(options, extraEnv),
    logFile: options.logFile,
  });
}

/** A short agent command: its exit code and everything it wrote. */
async function runAgentCommand(
  options: DemoAgentOptions,
  args: readonly string[],
  extraEnv: Record<string, string> = {},
): Promise<{ code: number | null; output: string[] }> {
  const child = await startAgentCli(options, args, extraEnv);
  const { code } = await child.exited;
  return { code, output: child.tail() };
}

const AgentStatusSchema = z.object({
  enrolled: z.boolean(),
  agentId: z.string().nullable(),
  siteId: z.string().nullable(),
  gatewayUrl: z.string().nullable(),
});

/** What `custody-agent status --json` says about the demo agent's identity. */
async function readIdentity(options: DemoAgentOptions) {
  const { code, output } = await runAgentCommand(options, ['status', '--json']);
  const line = output.find((text) => text.startsWith('{'));
  const parsed = line === undefined ? null : AgentStatusSchema.safeParse(JSON.parse(line));
  if (!parsed?.success) {
    throw new Error(`custody-agent status failed (exit ${code}): ${output.join(' | ')}`);
  }
  const status = parsed.data;
  return status.enrolled && status.agentId !== null ? status : null;
}

export interface EnsureEnrolledOptions extends DemoAgentOptions {
  db: Database;
  siteId: string;
  /** Where the agent enrolls (this server). */
  serverUrl: string;
  /** The gateway URL this server hands out; an identity for another one is enrolled again. */
  gatewayUrl: string;
}

/**
 * Enrolls the demo agent once; its identity persists in its data directory. It enrolls again
 * (replacing the identity) when the database no longer knows it (wiped, or revoked from the
 * UI) or it was enrolled for another site or server address, and then revokes the demo agents
 * it replaces, so the site lists one live agent.
 */
export async function ensureDemoAgentEnrolled(
  options: EnsureEnrolledOptions,
): Promise<{ agentId: string; enrolled: boolean }> {
  const { db, siteId } = options;
  const identity = await readIdentity(options);
  if (
    identity?.agentId &&
    identity.siteId === siteId &&
    identity.gatewayUrl === options.gatewayUrl
  ) {
    const [known] = await db
      .select({ id: agents.id })
      .from(agents)
      .where(
        and(eq(agents.id, identity.agentId), eq(agents.siteId, siteId), isNull(agents.revokedAt)),
      );
    if (known) return { agentId: known.id, enrolled: false };
  }

  const { token, tokenId } = await createEnrollmentToken(db, {
    siteId,
    createdBy: null,
    ttlMs: TOKEN_TTL_MS,
  });
  const args = ['enroll', '--server', options.serverUrl, '--token-env', TOKEN_VARIABLE];
  args.push('--name', DEMO_AGENT_NAME);
  if (identity) args.push('--replace');
  const { code, output } = await runAgentCommand(options, args, { [TOKEN_VARIABLE]: token });
  if (code !== 0) {
    throw new Error(`custody-agent enroll failed (exit ${code}): ${output.join(' | ')}`);
  }
  const [used] = await db
    .select({ agentId: enrollmentTokens.usedByAgent })
    .from(enrollmentTokens)
    .where(eq(enrollmentTokens.id, tokenId));
  const agentId = used?.agentId;
  if (!agentId) throw new Error('custody-agent enroll succeeded but the token was not used');

  const replaced = await db
    .select({ id: agents.id })
    .from(agents)
    .where(
      and(
        eq(agents.siteId, siteId),
        eq(agents.name, DEMO_AGENT_NAME),
        ne(agents.id, agentId),
        isNull(agents.revokedAt),
      ),
    );
  for (const agent of replaced) await revokeAgent(db, { agentId: agent.id, revokedBy: null });
  return { agentId, enrolled: true };
}

/** `custody-agent run` for the demo site, until stopped. */
export function startDemoAgent(options: DemoAgentOptions): Promise<DemoProcess> {
  return startAgentCli(options, ['run']);
}
