import { z } from 'zod';

/**
 * What the server can ask an agent to do to one camera. Each verb is one whole job on the agent
 * (a provision creates every account and applies the network plan), so a case step maps to one
 * command and one result.
 */
export const COMMAND_VERBS = [
  'probe',
  'test-credential',
  'rotate-credential',
  'soft-restart',
  'factory-default-soft',
  'factory-default-hard',
  'watch-for-device',
  'provision',
  'verify',
] as const;
export type CommandVerb = (typeof COMMAND_VERBS)[number];
export const CommandVerbSchema = z.enum(COMMAND_VERBS);

/**
 * Verbs that wipe the device's configuration, so the agent runs them only with a signed command
 * bound to an owner's approval. Credential rotation is not here: clean-up runs with a working
 * admin credential and keeps the device configuration.
 */
export const DESTRUCTIVE_VERBS = [
  'factory-default-soft',
  'factory-default-hard',
] as const satisfies readonly CommandVerb[];
export type DestructiveVerb = (typeof DESTRUCTIVE_VERBS)[number];

export function isDestructiveVerb(verb: string): verb is DestructiveVerb {
  return (DESTRUCTIVE_VERBS as readonly string[]).includes(verb);
}

/**
 * What an owner approves. Besides the destructive verbs, `guided-button-reset`: a technician's
 * control-button reset wipes the camera just the same, though the agent only watches for the
 * device to come back (`watch-for-device`) and presses nothing.
 */
export const APPROVABLE_ACTIONS = [...DESTRUCTIVE_VERBS, 'guided-button-reset'] as const;
export type ApprovableAction = (typeof APPROVABLE_ACTIONS)[number];
export const ApprovableActionSchema = z.enum(APPROVABLE_ACTIONS);
