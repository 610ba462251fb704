import { z } from 'zod';

/** What the server can ask an agent to do to one camera. */
export const COMMAND_VERBS = [
  'identify',
  'test-credential',
  'restart',
  'factory-default-soft',
  'factory-default-hard',
  'guided-button-reset',
  'create-initial-admin',
  'create-user',
  'set-password',
  'remove-user',
  'apply-network-settings',
  'apply-time-settings',
  'capture-snapshot',
  'rtsp-describe',
  'check-recording',
] as const;
export type CommandVerb = (typeof COMMAND_VERBS)[number];
export const CommandVerbSchema = z.enum(COMMAND_VERBS);

/**
 * Verbs that wipe the device's configuration and so need the owner's approval.
 * `guided-button-reset` is the agent watching a technician's control-button reset: the agent does
 * not press anything, but the outcome is the same wipe, so it is approved like the others.
 * Credential rotation and removing stale accounts are not here: clean-up runs with a working admin
 * credential and keeps the device configuration.
 */
export const DESTRUCTIVE_VERBS = [
  'factory-default-soft',
  'factory-default-hard',
  'guided-button-reset',
] as const satisfies readonly CommandVerb[];
export type DestructiveVerb = (typeof DESTRUCTIVE_VERBS)[number];

export function isDestructiveVerb(verb: string): verb is DestructiveVerb {
  return (DESTRUCTIVE_VERBS as readonly string[]).includes(verb);
}
