import { describe, expect, it } from 'vitest';
import { AGENT_STATUSES, AgentSchema } from './agent.ts';

const AGENT = {
  id: '3f1c2a9e-8b4d-4c6e-9f00-1a2b3c4d5e6f',
  siteId: '7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d',
  name: 'Rack 2 agent',
  publicKey: 'MCowBQYDK2VwAyEA1wq7lYb3hq2nYxqvJtW2b7dI5Q2oY8y0vVjzXn3cM8g=',
  status: 'pending',
  lastSeenAt: null,
  version: null,
};

describe('AgentSchema', () => {
  it('accepts a freshly enrolled agent that has not been seen yet', () => {
    expect(AgentSchema.parse(AGENT)).toEqual(AGENT);
  });

  it('accepts each status and a last-seen time', () => {
    for (const status of AGENT_STATUSES) {
      expect(
        AgentSchema.parse({
          ...AGENT,
          status,
          lastSeenAt: '2025-06-01T00:00:00Z',
          version: '1.2.0',
        }).status,
      ).toBe(status);
    }
  });

  it('rejects an unknown status or a missing public key', () => {
    expect(AgentSchema.safeParse({ ...AGENT, status: 'deleted' }).success).toBe(false);
    expect(AgentSchema.safeParse({ ...AGENT, publicKey: ' ' }).success).toBe(false);
  });
});
