import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { LINK_STATES } from './link/gateway-link.ts';
import { ensureDirectory, nodeStoreFs, writeFileAtomic } from './store/store-fs.ts';

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
  await ensureDirectory(nodeStoreFs, dataDir);
  await writeFileAtomic(
    nodeStoreFs,
    join(dataDir, FILE),
    Buffer.from(`${JSON.stringify(status)}\n`),
  );
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
