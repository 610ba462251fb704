import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

export const LINK_STATES = [
  'starting',
  'connecting',
  'connected',
  'backing-off',
  'revoked',
  'auth-failed',
  'stopped',
] as const;

export const AgentStatusSchema = z.object({
  pid: z.int(),
  agentVersion: z.string(),
  link: z.enum(LINK_STATES),
  linkSince: z.string(),
  lastConnectedAt: z.string().nullable(),
  outboxDepth: z.int().min(0),
  outboxDropped: z.int().min(0),
  cameras: z.int().min(0),
  runningCommands: z.int().min(0),
  updatedAt: z.string(),
});
export type AgentStatus = z.infer<typeof AgentStatusSchema>;

const FILE = 'status.json';

/** Written by `custody-agent run` on every change and every few seconds, read by `status`. */
export async function writeAgentStatus(dataDir: string, status: AgentStatus): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, FILE);
  const temporary = `${path}.${process.pid}.tmp`;
  // Not fsync'd: losing the last status to a power cut is harmless, it is rewritten in seconds.
  await writeFile(temporary, `${JSON.stringify(status)}\n`, { mode: 0o600 });
  await rename(temporary, path);
}

export async function readAgentStatus(dataDir: string): Promise<AgentStatus | null> {
  let text: string;
  try {
    text = await readFile(join(dataDir, FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const parsed = AgentStatusSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Whether the process that wrote the status is still alive. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
