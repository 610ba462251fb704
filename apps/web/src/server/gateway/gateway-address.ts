import type { IncomingHttpHeaders } from 'node:http';

/** The path agents open their WebSocket on. */
export const AGENT_GATEWAY_PATH = '/agent/v1';

/** How this server is reached, for the relay check and the URL handed out at enrollment. */
export interface GatewayAddressOptions {
  /**
   * CUSTODY_TRUST_PROXY: a reverse proxy in front sets X-Forwarded-Host (and -Proto), so its
   * first value names the host the agent dialled. Without it the header is ignored: anyone
   * could send it.
   */
  trustProxy: boolean;
  /** CUSTODY_PUBLIC_URL origins: the agent may have dialled any of them. */
  publicOrigins: readonly string[];
}

function firstValue(header: string | string[] | undefined): string | undefined {
  const joined = Array.isArray(header) ? header.join(',') : header;
  const first = joined?.split(',')[0]?.trim();
  return first === undefined || first === '' ? undefined : first;
}

/** A Host-style value (name or address, optional port), nothing else. */
function isHostValue(value: string): boolean {
  return /^[A-Za-z0-9.:[\]-]+$/.test(value);
}

/**
 * The host (and port) the client addressed: the Host header, or behind a trusted proxy the first
 * X-Forwarded-Host. Undefined when there is none or it is not a plain host.
 */
export function requestedHost(
  headers: IncomingHttpHeaders,
  options: Pick<GatewayAddressOptions, 'trustProxy'>,
): string | undefined {
  const host =
    (options.trustProxy ? firstValue(headers['x-forwarded-host']) : undefined) ?? headers.host;
  return host !== undefined && isHostValue(host) ? host : undefined;
}

/**
 * Whether the request reached the proxy over TLS, as the trusted proxy's X-Forwarded-Proto says;
 * undefined when there is no trusted word on it.
 */
export function forwardedTls(
  headers: IncomingHttpHeaders,
  options: Pick<GatewayAddressOptions, 'trustProxy'>,
): boolean | undefined {
  if (!options.trustProxy) return undefined;
  const proto = firstValue(headers['x-forwarded-proto'])?.toLowerCase();
  return proto === undefined ? undefined : proto === 'https' || proto === 'wss';
}

/**
 * Whether the gateway URL the agent signed names this server: the same host and port as the Host
 * header of the upgrade request this server received, and the gateway path. A hello relayed by
 * another server carries that server's URL and fails here.
 */
export function isSameGateway(dialled: string, hostHeader: string | undefined): boolean {
  if (hostHeader === undefined || hostHeader === '') return false;
  let url: URL;
  let received: URL;
  try {
    url = new URL(dialled);
    received = new URL(`${url.protocol}//${hostHeader}`);
  } catch {
    return false;
  }
  return url.pathname === AGENT_GATEWAY_PATH && received.host === url.host;
}

const SECURE_SCHEMES = new Set(['https:', 'wss:']);

function effectivePort(url: URL): string {
  if (url.port !== '') return url.port;
  return SECURE_SCHEMES.has(url.protocol) ? '443' : '80';
}

/** The dialled gateway URL is on a public origin (same host, same port, TLS or not alike). */
function isOnOrigin(dialled: string, origin: string): boolean {
  try {
    const url = new URL(dialled);
    const public_ = new URL(origin);
    return (
      url.pathname === AGENT_GATEWAY_PATH &&
      url.hostname === public_.hostname &&
      effectivePort(url) === effectivePort(public_) &&
      SECURE_SCHEMES.has(url.protocol) === SECURE_SCHEMES.has(public_.protocol)
    );
  } catch {
    return false;
  }
}

/**
 * The relay check: the URL the agent signed must name this server as it was reached: the Host
 * header of the upgrade, or behind a trusted proxy its X-Forwarded-Host, or one of the public
 * origins Custody is configured with.
 */
export function namesThisGateway(
  dialled: string,
  headers: IncomingHttpHeaders,
  options: GatewayAddressOptions,
): boolean {
  if (isSameGateway(dialled, headers.host)) return true;
  if (options.trustProxy) {
    const forwarded = firstValue(headers['x-forwarded-host']);
    if (forwarded !== undefined && isHostValue(forwarded) && isSameGateway(dialled, forwarded)) {
      return true;
    }
  }
  return options.publicOrigins.some((origin) => isOnOrigin(dialled, origin));
}
