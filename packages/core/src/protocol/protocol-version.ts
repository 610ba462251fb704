/**
 * The agent protocol version this build speaks. The server accepts N and N-1 so a fleet of agents
 * can be upgraded site by site after the server; an agent offers every version it speaks and the
 * server picks the highest both share.
 */
export const PROTOCOL_VERSION = 1;

/** Versions a server of this build accepts, newest first (N and N-1, never below 1). */
export function acceptedProtocolVersions(current: number = PROTOCOL_VERSION): number[] {
  return [current, current - 1].filter((version) => version >= 1);
}

/** The highest version both sides speak, or null when they share none. */
export function negotiateProtocolVersion(
  offered: readonly number[],
  accepted: readonly number[] = acceptedProtocolVersions(),
): number | null {
  const shared = offered.filter((version) => accepted.includes(version));
  return shared.length === 0 ? null : Math.max(...shared);
}
