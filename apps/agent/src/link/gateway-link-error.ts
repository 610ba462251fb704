export type GatewayLinkErrorCode =
  'invalid-gateway-url' | 'insecure-gateway-url' | 'invalid-identity' | 'invalid-message';

/** A mistake in how the link was set up or used; connection trouble is state, not an error. */
export class GatewayLinkError extends Error {
  override readonly name = 'GatewayLinkError';
  readonly code: GatewayLinkErrorCode;

  constructor(code: GatewayLinkErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
