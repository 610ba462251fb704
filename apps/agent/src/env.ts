import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { expandCidr, parsePorts } from './discovery/cidr.ts';

const flag = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
  .transform((value) => ['1', 'true', 'yes', 'on'].includes(value));

const seconds = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const EnvSchema = z.object({
  /** systemd's StateDirectory= sets this; elsewhere the XDG state directory. */
  STATE_DIRECTORY: z.string().min(1).optional(),
  HOME: z.string().min(1).optional(),
  CUSTODY_AGENT_DATA_DIR: z.string().min(1).optional(),
  CUSTODY_AGENT_CIDRS: z
    .string()
    .optional()
    .transform((text, ctx) => {
      const cidrs = (text ?? '')
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
      for (const cidr of cidrs) {
        try {
          expandCidr(cidr);
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: (error as Error).message });
        }
      }
      return cidrs;
    }),
  CUSTODY_AGENT_PORTS: z
    .string()
    .default('80')
    .transform((text, ctx) => {
      try {
        return parsePorts(text);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
  /** Multicast discovery is opt-in: it only runs where the operator turned it on. */
  CUSTODY_AGENT_SSDP: flag.default(false),
  CUSTODY_AGENT_MDNS: flag.default(false),
  CUSTODY_AGENT_INTERFACE: z.ipv4().optional(),
  CUSTODY_AGENT_DISCOVERY_INTERVAL_S: seconds(300, 5, 86_400),
  CUSTODY_AGENT_REFRESH_INTERVAL_S: seconds(900, 5, 86_400),
  CUSTODY_AGENT_PROBE_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
  CUSTODY_AGENT_PROBE_TIMEOUT_S: seconds(5, 1, 60),
  /** Commands running at once across the site; passive watches do not count (see the executor). */
  CUSTODY_AGENT_MAX_COMMANDS: z.coerce.number().int().min(1).max(64).default(4),
  /**
   * How long running verbs may finish after SIGTERM before they are aborted. Below 25 s so the
   * rest of the shutdown fits in the unit file's TimeoutStopSec=30.
   */
  CUSTODY_AGENT_STOP_GRACE_S: seconds(20, 0, 25),
  /** Allows ws:// and http:// to a gateway that is not on loopback (never in production). */
  CUSTODY_AGENT_ALLOW_INSECURE: flag.default(false),
  CUSTODY_AGENT_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});

export interface AgentConfig {
  dataDir: string;
  discovery: {
    cidrs: string[];
    ports: number[];
    ssdp: boolean;
    mdns: boolean;
    interfaceAddress: string | undefined;
    intervalMs: number;
  };
  refreshIntervalMs: number;
  probeConcurrency: number;
  probeTimeoutMs: number;
  maxCommands: number;
  stopGraceMs: number;
  allowInsecure: boolean;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

/** The only reader of process.env in the agent: parsed once, passed down as arguments. */
export function readAgentConfig(source: Readonly<Record<string, string | undefined>>): AgentConfig {
  const parsed = EnvSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `  ${issue.path.join('.')}: ${issue.message}`,
    );
    throw new Error(`Invalid environment:\n${problems.join('\n')}`);
  }
  const env = parsed.data;
  return {
    dataDir:
      env.CUSTODY_AGENT_DATA_DIR ??
      env.STATE_DIRECTORY ??
      join(env.HOME ?? homedir(), '.local', 'state', 'custody-agent'),
    discovery: {
      cidrs: env.CUSTODY_AGENT_CIDRS,
      ports: env.CUSTODY_AGENT_PORTS,
      ssdp: env.CUSTODY_AGENT_SSDP,
      mdns: env.CUSTODY_AGENT_MDNS,
      interfaceAddress: env.CUSTODY_AGENT_INTERFACE,
      intervalMs: env.CUSTODY_AGENT_DISCOVERY_INTERVAL_S * 1000,
    },
    refreshIntervalMs: env.CUSTODY_AGENT_REFRESH_INTERVAL_S * 1000,
    probeConcurrency: env.CUSTODY_AGENT_PROBE_CONCURRENCY,
    probeTimeoutMs: env.CUSTODY_AGENT_PROBE_TIMEOUT_S * 1000,
    maxCommands: env.CUSTODY_AGENT_MAX_COMMANDS,
    stopGraceMs: env.CUSTODY_AGENT_STOP_GRACE_S * 1000,
    allowInsecure: env.CUSTODY_AGENT_ALLOW_INSECURE,
    logLevel: env.CUSTODY_AGENT_LOG_LEVEL,
  };
}
