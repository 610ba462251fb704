import { describe, expect, it } from 'vitest';
import {
  COMMAND_VERBS,
  CommandVerbSchema,
  DESTRUCTIVE_VERBS,
  isDestructiveVerb,
} from './command-verb.ts';

describe('command verbs', () => {
  it('treats the factory defaults and the guided button reset as destructive', () => {
    expect([...DESTRUCTIVE_VERBS].sort()).toEqual([
      'factory-default-hard',
      'factory-default-soft',
      'guided-button-reset',
    ]);
    for (const verb of DESTRUCTIVE_VERBS) expect(isDestructiveVerb(verb)).toBe(true);
  });

  it('does not treat credential work or probes as destructive', () => {
    for (const verb of [
      'set-password',
      'remove-user',
      'create-initial-admin',
      'restart',
      'identify',
    ]) {
      expect(isDestructiveVerb(verb)).toBe(false);
    }
    expect(isDestructiveVerb('format-sd-card')).toBe(false);
  });

  it('only parses known verbs', () => {
    for (const verb of COMMAND_VERBS) expect(CommandVerbSchema.parse(verb)).toBe(verb);
    expect(CommandVerbSchema.safeParse('factory-default').success).toBe(false);
  });
});
