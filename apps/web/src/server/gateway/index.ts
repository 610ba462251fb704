export { startAgentGateway, ENROLL_PATH } from './agent-gateway.ts';
export type { AgentGateway, AgentGatewayOptions } from './agent-gateway.ts';
export { AGENT_GATEWAY_PATH } from './agent-session.ts';
export { loadCommandSigningKey, CommandSigningKeyError } from './command-signing-key.ts';
export type { CommandSigner } from './command-signing-key.ts';
export { createEnrollmentToken, hashEnrollmentToken } from './enrollment.ts';
export type { CreateEnrollmentTokenInput, CreatedEnrollmentToken } from './enrollment.ts';
export { queueCommand, DEFAULT_COMMAND_TTL_MS } from './queue-command.ts';
export type { QueueCommandInput, QueuedCommand } from './queue-command.ts';
export { revokeAgent } from './revoke-agent.ts';
export type { RevokeAgentInput } from './revoke-agent.ts';
export {
  resolveSecrets,
  createMemorySecretsResolver,
  SecretsUnavailableError,
} from './resolve-secrets.ts';
export type { SecretsRequest, SecretsResolver } from './resolve-secrets.ts';
export type { FleetEvent } from './notifications.ts';
export { consoleGatewayLogger, silentGatewayLogger } from './gateway-logger.ts';
export type { GatewayLogger } from './gateway-logger.ts';
