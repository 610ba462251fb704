import { hostname, networkInterfaces } from 'node:os';

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '::1'];
const WILDCARD_HOSTS = ['0.0.0.0', '::'];

function originOf(host: string, port: number): string {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  return new URL(`http://${bare.includes(':') ? `[${bare}]` : bare}:${port}`).origin;
}

/**
 * The origins browsers may use to reach this server: sign-in and every mutation must come from
 * one of them (better-auth's origin check and the tRPC handler's). Configured origins win;
 * otherwise they follow from the address the server listens on, that address first.
 */
export function resolvePublicOrigins(options: {
  configured?: readonly string[] | undefined;
  host: string;
  port: number;
}): string[] {
  const { configured, port } = options;
  if (configured && configured.length > 0) return [...new Set(configured)];
  const host = options.host.replace(/^\[(.*)\]$/, '$1');
  const hosts: string[] = [];
  if (WILDCARD_HOSTS.includes(host)) {
    hosts.push(...LOOPBACK_HOSTS, hostname());
    for (const entries of Object.values(networkInterfaces())) {
      for (const entry of entries ?? []) if (!entry.internal) hosts.push(entry.address);
    }
  } else {
    hosts.push(host);
    if (LOOPBACK_HOSTS.includes(host)) hosts.push(...LOOPBACK_HOSTS);
  }
  return [...new Set(hosts.map((name) => originOf(name, port)))];
}
