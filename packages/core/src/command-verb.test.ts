import { describe, expect, it } from 'vitest';
import {
  APPROVABLE_ACTIONS,
  ApprovableActionSchema,
  COMMAND_VERBS,
  CommandVerbSchema,
  DESTRUCTIVE_VERBS,
  isDestructiveVerb,
} from './command-verb.ts';

describe('command verbs', () => {
  it('treats only the two factory defaults as destructive', () => {
    expect([...DESTRUCTIVE_VERBS].sort()).toEqual(['factory-default-hard', 'factory-default-soft']);
    for (const verb of DESTRUCTIVE_VERBS) expect(isDestructiveVerb(verb)).toBe(true);
  });

  it('does not treat credential work, restarts, provisioning or probes as destructive', () => {
    for (const verb of COMMAND_VERBS.filter((verb) => !verb.startsWith('factory-default'))) {
      expect(isDestructiveVerb(verb)).toBe(false);
    }
    expect(isDestructiveVerb('format-sd-card')).toBe(false);
  });

  it('only parses known verbs', () => {
    for (const verb of COMMAND_VERBS) expect(CommandVerbSchema.parse(verb)).toBe(verb);
    expect(CommandVerbSchema.safeParse('factory-default').success).toBe(false);
  });

  it('lets owners approve the destructive verbs and the guided button reset, nothing else', () => {
    expect([...APPROVABLE_ACTIONS].sort()).toEqual([
      'factory-default-hard',
      'factory-default-soft',
      'guided-button-reset',
    ]);
    expect(ApprovableActionSchema.safeParse('provision').success).toBe(false);
  });
});
