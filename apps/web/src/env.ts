import { z } from 'zod';

function flag() {
  return z
    .enum(['', '0', '1', 'false', 'true'])
    .default('')
    .transform((value) => value === '1' || value === 'true');
}

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('production'),
  HOST: z.string().min(1).default('localhost'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must be a postgres:// or postgresql:// URL')
    .optional(),
  CUSTODY_DATA_DIR: z.string().min(1).default('.data/pglite'),
  /** Origins browsers use to reach Custody, comma-separated; defaults to http://HOST:PORT. */
  CUSTODY_PUBLIC_URL: z
    .string()
    .optional()
    .transform((value, context) => {
      if (value === undefined || value.trim() === '') return undefined;
      const origins: string[] = [];
      for (const part of value.split(',')) {
        const parsed = z.url({ protocol: /^https?$/ }).safeParse(part.trim());
        if (!parsed.success) {
          context.addIssue({ code: 'custom', message: `not an http(s) URL: ${part.trim()}` });
          return z.NEVER;
        }
        origins.push(new URL(parsed.data).origin);
      }
      return origins;
    }),
  /** Signs session cookies; without it a random secret is created once and kept in the database. */
  CUSTODY_AUTH_SECRET: z
    .string()
    .min(32, 'CUSTODY_AUTH_SECRET must be at least 32 characters')
    .optional(),
  /**
   * Behind a reverse proxy: take the client address from the last X-Forwarded-For hop, and the
   * host agents dialled from the first X-Forwarded-Host (with X-Forwarded-Proto).
   */
  CUSTODY_TRUST_PROXY: flag(),
  /** The e-mail address of the administrator created on first start. */
  CUSTODY_ADMIN_EMAIL: z.email().default('admin@custody.local'),
  /** Creates (or resets) one demo user per role at start and prints their credentials. */
  CUSTODY_DEMO_USERS: flag(),
  /**
   * The demo `npm start` turns on: the demo users, a demo site of simulated cameras on
   * loopback and a local agent enrolled for it. Off unless asked for.
   */
  CUSTODY_DEMO: flag(),
  /** The demo's simulated-site file, agent data directory and logs. */
  CUSTODY_DEMO_DIR: z.string().min(1).default('.data/demo'),
  /**
   * The Ed25519 key commands are signed with, PEM; created (0600) on first start. Default:
   * command-signing-key.pem in CUSTODY_DATA_DIR. Server processes sharing one database must
   * point at the same file.
   */
  CUSTODY_COMMAND_KEY_FILE: z.string().min(1).optional(),
  /**
   * The vault's master key: base64 of 32 random bytes (openssl rand -base64 32). During a key
   * rotation, several comma-separated, the active one first, each optionally `id:key`. Without
   * it, a key file is used (CUSTODY_MASTER_KEY_FILE), created at first start.
   */
  CUSTODY_MASTER_KEY: z.string().optional(),
  /**
   * The vault's key file when CUSTODY_MASTER_KEY is not set; created (0600) on first start.
   * Default: master-keys.json in CUSTODY_DATA_DIR.
   */
  CUSTODY_MASTER_KEY_FILE: z.string().min(1).optional(),
  /** How often agents and the server exchange heartbeats. */
  CUSTODY_AGENT_HEARTBEAT_S: z.coerce.number().int().min(1).max(300).default(30),
  /** How long processed agent message ids are kept to recognise replays. */
  CUSTODY_AGENT_MESSAGE_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
});

export type Env = z.infer<typeof EnvSchema>;

/** The only reader of process.env in the web app. */
export function readEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = EnvSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `  ${issue.path.join('.')}: ${issue.message}`,
    );
    throw new Error(`Invalid environment:\n${problems.join('\n')}`);
  }
  return parsed.data;
}
