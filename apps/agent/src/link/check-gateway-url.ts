import { GatewayLinkError } from './gateway-link-error.ts';
import { isLoopbackHost } from './loopback.ts';

/**
 * The gateway URL as the link will dial it: ws:// or wss://, no credentials in it, and plain ws://
 * only to a loopback host unless the operator explicitly allowed it. Throws GatewayLinkError.
 */
export function checkGatewayUrl(raw: string, options: { allowInsecure?: boolean } = {}): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (cause) {
    throw new GatewayLinkError('invalid-gateway-url', 'The gateway URL is not a valid URL.', {
      cause,
    });
  }
  if (url.username !== '' || url.password !== '') {
    throw new GatewayLinkError(
      'invalid-gateway-url',
      'The gateway URL must not carry credentials; the agent authenticates with its key.',
    );
  }
  if (url.protocol !== 'wss:' && url.protocol !== 'ws:') {
    throw new GatewayLinkError(
      'invalid-gateway-url',
      `The gateway URL must start with wss:// (got ${url.protocol}//).`,
    );
  }
  if (url.protocol === 'ws:' && !isLoopbackHost(url.hostname) && options.allowInsecure !== true) {
    throw new GatewayLinkError(
      'insecure-gateway-url',
      `Refusing unencrypted ws:// to ${url.host}: use wss://. Plain ws:// is allowed only to a ` +
        'loopback host, or when insecure connections are explicitly allowed.',
    );
  }
  return url;
}
