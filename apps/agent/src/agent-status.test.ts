import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AgentStatusSchema,
  readAgentStatus,
  writeAgentStatus,
  type AgentStatus,
} from './agent-status.ts';
import { LINK_STATES } from './link/gateway-link.ts';
import { useTempDirs } from './store/testing/temp-dirs.ts';

const tempDir = useTempDirs('custody-status-');

const STATUS: AgentStatus = {
  pid: 4242,
  agentVersion: '0.0.0',
  link: 'connected',
  linkSince: '2031-04-02T10:00:00.000Z',
  lastConnectedAt: '2031-04-02T10:00:00.000Z',
  outboxDepth: 3,
  outboxDropped: 0,
  cameras: 12,
  runningCommands: 1,
  updatedAt: '2031-04-02T10:00:05.000Z',
};

describe('the status file', () => {
  it('accepts exactly the states the link can be in', () => {
    expect(AgentStatusSchema.shape.link.options).toEqual([...LINK_STATES]);
  });

  it('is replaced whole, readable by the agent user only, with no temporary file left', async () => {
    const dir = await tempDir();
    await writeAgentStatus(dir, STATUS);
    await writeAgentStatus(dir, { ...STATUS, cameras: 13 });
    expect(await readAgentStatus(dir)).toEqual({ ...STATUS, cameras: 13 });
    expect((await stat(join(dir, 'status.json'))).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['status.json']);
  });
});
