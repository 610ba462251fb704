import { randomUUID } from 'node:crypto';
import { IdSchema } from '@custody/core';
import { describe, expect, it } from 'vitest';
import { commandResultMessageId, createAgentMessage } from './agent-message.ts';

describe('commandResultMessageId', () => {
  it('gives one command always the same valid message id, and another command another', () => {
    const commandId = randomUUID();
    const id = commandResultMessageId(commandId);
    expect(IdSchema.safeParse(id).success).toBe(true);
    expect(commandResultMessageId(commandId)).toBe(id);
    expect(commandResultMessageId(randomUUID())).not.toBe(id);
  });

  it('is the id a message is created with when asked', () => {
    const id = commandResultMessageId(randomUUID());
    const message = createAgentMessage('command-ack', { commandId: randomUUID() }, { id, v: 2 });
    expect(message).toMatchObject({ id, v: 2, type: 'command-ack' });
  });
});
