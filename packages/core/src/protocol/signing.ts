import { canonicalJson } from '../canonical-json.ts';

/*
 * What gets signed, as bytes-to-be: a purpose line, then canonical JSON. The purpose line keeps a
 * signature made for one purpose from being replayed as another (an auth response can never pass
 * as a command). Signing and verifying are the callers' (node:crypto Ed25519); core stays pure.
 */

const COMMAND_PURPOSE = 'custody-command-v1';
const AUTH_PURPOSE = 'custody-agent-auth-v1';

/**
 * The text the server signs for a command: the payload exactly as sent. Verify it over the
 * payload as received, before any parsing that could add defaults or reorder anything.
 */
export function commandSigningText(payload: unknown): string {
  return `${COMMAND_PURPOSE}\n${canonicalJson(payload)}`;
}

export interface AuthChallengeBinding {
  agentId: string;
  /** The server's one-time challenge. */
  nonce: string;
  /** The gateway URL the agent dialled, so a challenge relayed from another server fails. */
  gatewayUrl: string;
}

/** The text an agent signs with its identity key to answer a connection challenge. */
export function authSigningText(binding: AuthChallengeBinding): string {
  // Exactly these three fields: a caller passing a wider object (the whole hello message) must not
  // sign something the other side cannot reproduce.
  const { agentId, nonce, gatewayUrl } = binding;
  return `${AUTH_PURPOSE}\n${canonicalJson({ agentId, nonce, gatewayUrl })}`;
}
