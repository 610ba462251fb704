import type { IncomingMessage } from 'node:http';

/**
 * The request header that carries the client's address to better-auth and the sign-in
 * throttle. server.ts sets it on every request from the socket (or, behind a trusted proxy,
 * from the last X-Forwarded-For hop), replacing whatever the client sent.
 */
export const CLIENT_ADDRESS_HEADER = 'x-custody-client-address';

export function stampClientAddress(req: IncomingMessage, trustProxy: boolean): void {
  let address = req.socket.remoteAddress ?? '';
  if (trustProxy) {
    const forwarded = req.headers['x-forwarded-for'];
    const hops = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? ''))
      .split(',')
      .map((hop) => hop.trim())
      .filter(Boolean);
    // The proxy appends the address it saw; earlier hops are whatever the client claimed.
    address = hops.at(-1) ?? address;
  }
  if (address.startsWith('::ffff:')) address = address.slice('::ffff:'.length);
  req.headers[CLIENT_ADDRESS_HEADER] = address;
}

export function readClientAddress(headers: Headers | undefined): string | null {
  const address = headers?.get(CLIENT_ADDRESS_HEADER)?.trim();
  return address ? address : null;
}

/**
 * The client address of a request server.ts stamped (or, for a server that does not stamp, such
 * as a test's, the socket's peer).
 */
export function clientAddressOf(req: IncomingMessage): string {
  const stamped = req.headers[CLIENT_ADDRESS_HEADER];
  const address = (Array.isArray(stamped) ? stamped[0] : stamped)?.trim();
  if (address) return address;
  const peer = req.socket.remoteAddress ?? 'unknown';
  return peer.startsWith('::ffff:') ? peer.slice('::ffff:'.length) : peer;
}
