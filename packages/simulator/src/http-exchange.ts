import type { IncomingMessage, ServerResponse } from 'node:http';
import { HARDENING_HEADERS, errorPage, type SimResponse } from './error-pages.ts';
import {
  computeDigestResponse,
  parseAuthorization,
  safeEqual,
  type ParsedAuthorization,
} from './http-auth.ts';
import type { SimulatedCamera } from './simulated-camera.ts';
import { hasRole, type Role, type UserAccount } from './user-accounts.ts';

export type { SimResponse } from './error-pages.ts';

export interface RequestContext {
  camera: SimulatedCamera;
  req: IncomingMessage;
  secure: boolean;
  method: string;
  path: string;
  /** The request-target exactly as sent, which a Digest `uri` must equal. */
  target: string;
  query: URLSearchParams;
  body: Buffer;
  source: string;
}

export type JsonObject = Record<string, unknown>;

export function textResponse(body: string, contentType = 'text/plain', status = 200): SimResponse {
  return { status, headers: { 'Content-Type': contentType }, body };
}

export function jsonResponse(body: unknown, contentType = 'application/json'): SimResponse {
  return { status: 200, headers: { 'Content-Type': contentType }, body: JSON.stringify(body) };
}

export function notFound(context: RequestContext): SimResponse {
  return errorPage(context.camera.profile, 404, context.path);
}

export function methodNotAllowed(context: RequestContext, allow: string): SimResponse {
  return errorPage(context.camera.profile, 405, context.path, { Allow: allow });
}

/** Query parameters merged with an `application/x-www-form-urlencoded` body (body wins). */
export function formParameters(context: RequestContext): URLSearchParams {
  const merged = new URLSearchParams(context.query);
  const type = context.req.headers['content-type'] ?? '';
  if (
    context.method === 'POST' &&
    (type === '' || type.startsWith('application/x-www-form-urlencoded'))
  ) {
    for (const [key, value] of new URLSearchParams(context.body.toString('utf8'))) {
      merged.set(key, value);
    }
  }
  return merged;
}

/** The JSON object in the body, or undefined when the body is not a JSON object. */
export function parseJsonObject(context: RequestContext): JsonObject | undefined {
  try {
    const value: unknown = JSON.parse(context.body.toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as JsonObject)
      : undefined;
  } catch {
    return undefined;
  }
}

function challengeHeaders(context: RequestContext, stale: boolean): string[] {
  const { camera } = context;
  const schemes = context.secure ? camera.profile.httpsAuthSchemes : camera.profile.httpAuthSchemes;
  return schemes.map((scheme) => {
    if (scheme === 'basic') return `Basic realm="${camera.realm}"`;
    const nonce = camera.nonces.issue(camera.clockNow());
    return `Digest realm="${camera.realm}", nonce="${nonce}", algorithm=MD5${stale ? ', stale=true' : ''}, qop="auth"`;
  });
}

export function unauthorized(context: RequestContext, stale = false): SimResponse {
  return errorPage(context.camera.profile, 401, context.path, {
    'WWW-Authenticate': challengeHeaders(context, stale),
  });
}

function recordFailure(context: RequestContext): SimResponse {
  context.camera.recordAuthFailure(context.source);
  return unauthorized(context);
}

type Verified = { account: UserAccount } | { response: SimResponse };

function verifyDigest(context: RequestContext, params: Map<string, string>): Verified {
  const { camera } = context;
  const username = params.get('username');
  const realm = params.get('realm');
  const nonce = params.get('nonce');
  const uri = params.get('uri');
  const response = params.get('response');
  if (!username || realm === undefined || !nonce || uri === undefined || !response) {
    return { response: errorPage(camera.profile, 400, context.path) };
  }
  // Apache compares the digest uri with the raw request-target and answers 400 on mismatch.
  if (uri !== context.target) return { response: errorPage(camera.profile, 400, context.path) };
  if (realm !== camera.realm) return { response: recordFailure(context) };
  const account = camera.users.get(username);
  if (!account) return { response: recordFailure(context) };
  const algorithm = params.get('algorithm');
  if (algorithm !== undefined && algorithm.toUpperCase() !== 'MD5') {
    return { response: recordFailure(context) };
  }
  const qop = params.get('qop');
  const nc = params.get('nc');
  const cnonce = params.get('cnonce');
  if (qop !== 'auth' || !nc || !/^[0-9a-fA-F]{8}$/.test(nc) || cnonce === undefined) {
    return { response: recordFailure(context) };
  }
  const now = camera.clockNow();
  const nonceState = camera.nonces.check(nonce, now);
  if (nonceState === 'invalid') return { response: recordFailure(context) };
  const expected = computeDigestResponse({
    username,
    realm,
    password: account.password,
    method: context.method,
    uri,
    nonce,
    nc,
    cnonce,
    qop,
  });
  if (!safeEqual(expected, response.toLowerCase())) return { response: recordFailure(context) };
  if (!camera.nonces.acceptNonceCount(nonce, parseInt(nc, 16), now)) {
    return { response: recordFailure(context) };
  }
  // Checked last, as mod_auth_digest does, so a right password on an old nonce gets stale=true.
  if (nonceState === 'stale') return { response: unauthorized(context, true) };
  return { account };
}

function verifyBasic(context: RequestContext, username: string, password: string): Verified {
  const account = context.camera.users.get(username);
  if (!account || !safeEqual(account.password, password)) {
    return { response: recordFailure(context) };
  }
  return { account };
}

/** Who the request authenticates as, when it carries credentials the transport accepts. */
export function authenticate(context: RequestContext): Verified | undefined {
  const { camera } = context;
  const schemes = context.secure ? camera.profile.httpsAuthSchemes : camera.profile.httpAuthSchemes;
  const parsed: ParsedAuthorization | undefined = parseAuthorization(
    context.req.headers.authorization,
  );
  if (!parsed || parsed.scheme === 'other') return undefined;
  if (parsed.scheme === 'basic') {
    return schemes.includes('basic')
      ? verifyBasic(context, parsed.username, parsed.password)
      : undefined;
  }
  return schemes.includes('digest') ? verifyDigest(context, parsed.params) : undefined;
}

/** Authenticates and checks the role; the failure is the response to send. */
export function authorize(context: RequestContext, minimum: Role): Verified {
  const verified = authenticate(context) ?? { response: unauthorized(context) };
  if ('response' in verified) return verified;
  if (!hasRole(verified.account, minimum)) {
    return { response: errorPage(context.camera.profile, 403, context.path) };
  }
  return verified;
}

let lastDate = { second: Number.NaN, text: '' };

/** The `Date` header for a simulated time; the text changes once a second, so it is reused. */
function httpDate(nowMs: number): string {
  const second = Math.floor(nowMs / 1000);
  if (second !== lastDate.second) {
    lastDate = { second, text: new Date(second * 1000).toUTCString() };
  }
  return lastDate.text;
}

export function writeResponse(
  res: ServerResponse,
  camera: SimulatedCamera,
  response: SimResponse,
): void {
  const body = response.body ?? '';
  res.statusCode = response.status;
  res.setHeader('Date', httpDate(camera.clockNow()));
  if (camera.profile.serverHeader) res.setHeader('Server', camera.profile.serverHeader);
  if (camera.profile.unauthorizedStyle === 'json') {
    for (const [name, value] of Object.entries(HARDENING_HEADERS)) res.setHeader(name, value);
  }
  for (const [name, value] of Object.entries(response.headers ?? {})) res.setHeader(name, value);
  res.setHeader('Content-Length', typeof body === 'string' ? Buffer.byteLength(body) : body.length);
  // A string body goes out in one write with the header block; a Buffer takes a second chunk.
  res.end(body);
}
