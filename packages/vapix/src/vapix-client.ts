import { createHmac, randomBytes } from 'node:crypto';

import type { Dispatcher } from 'undici';

import { createAbortScope, type AbortScope } from './abort-scope.ts';
import {
  defaultAuthSessionCache,
  type AuthSession,
  type AuthSessionCache,
} from './auth-session-cache.ts';
import { defaultAttemptBudget, type AttemptBudget, type AttemptTicket } from './attempt-budget.ts';
import {
  createCameraDispatcher,
  type CameraTransport,
  type CertificateState,
  type SharedCameraConnections,
} from './camera-dispatcher.ts';
import { cameraKeyOf } from './camera-key.ts';
import { decodeText } from './decode-text.ts';
import { basicAuthorization, createCnonce, DigestSession } from './digest.ts';
import { defaultRequestLimiter, type RequestLimiter } from './request-limiter.ts';
import { encodeBody, requestTargetOf, type VapixRequest, type VapixResponse } from './request.ts';
import {
  DEFAULT_TIMEOUTS,
  type CallTimeouts,
  type CertificateInfo,
  type Credentials,
  type TlsPolicy,
} from './types.ts';
import {
  VapixAuthError,
  VapixBudgetExhaustedError,
  VapixCertificateError,
  VapixError,
  VapixHttpError,
  VapixInsecureAuthError,
  VapixLockedOutError,
  VapixMalformedResponseError,
  VapixTransportError,
  VapixUnsupportedError,
  type VapixErrorContext,
  forbiddenError,
} from './vapix-error.ts';
import {
  parseWwwAuthenticate,
  pickDigestChallenge,
  realmOf,
  type AuthChallenge,
} from './www-authenticate.ts';

export interface VapixClientOptions {
  /** Base URL of the camera, e.g. `http://192.168.0.90` or `https://cam.site:8443`. */
  url: string | URL;
  credentials?: Credentials | null;
  /** Certificate policy for https; defaults to normal CA verification. */
  tls?: TlsPolicy;
  /** Told about every new certificate fingerprint, so a first-use pin can be stored. */
  onCertificate?: (info: CertificateInfo) => void;
  /** Injected transport (tests use undici's MockAgent); the caller owns its lifecycle. */
  dispatcher?: Dispatcher;
  /**
   * Connections shared with other clients, which the caller owns and closes. Not used with
   * `onCertificate`, which belongs to one client, nor to learn a pin on first use: such a client
   * opens its own.
   */
  connections?: SharedCameraConnections;
  budget?: AttemptBudget;
  limiter?: RequestLimiter;
  /** Where Digest nonces are kept between calls and clients (default: process-wide). */
  sessions?: AuthSessionCache;
  timeouts?: Partial<CallTimeouts>;
  /** Overrides the key budgets and limits are shared under (default: host[:port]). */
  cameraKey?: string;
  /** Digest client nonce source; tests pin it to reproduce vectors. */
  cnonce?: () => string;
  /** Responses above this size are refused (default 32 MiB). */
  maxResponseBytes?: number;
}

export interface SendOptions {
  signal?: AbortSignal;
  /** Per-call credentials; `null` forces an anonymous call. Defaults to the client's. */
  credentials?: Credentials | null;
}

export interface VapixClient {
  readonly url: URL;
  readonly cameraKey: string;
  readonly secure: boolean;
  readonly budget: AttemptBudget;
  send<T>(request: VapixRequest<T>, options?: SendOptions): Promise<T>;
  /** Realm of the latest authentication challenge (`AXIS_<serial>` on AXIS devices). */
  lastRealm(): string | undefined;
  /** The certificate seen on the latest https handshake (not available with an injected dispatcher). */
  certificate(): CertificateInfo | undefined;
  close(): Promise<void>;
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

const CERTIFICATE_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function errorCodeOf(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    return typeof error.code === 'string' ? error.code : undefined;
  }
  return undefined;
}

/** Our own certificate errors can arrive wrapped by undici; find them in the cause chain. */
function findVapixError(error: unknown): VapixError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    if (current instanceof VapixError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function toTransportError(
  error: unknown,
  scope: AbortScope,
  context: VapixErrorContext,
): VapixError {
  const own = findVapixError(error);
  if (own !== undefined) return own;
  const reason = scope.reason();
  if (reason === 'caller') {
    return new VapixTransportError('VAPIX_ABORTED', 'the call was aborted', {
      ...context,
      cause: error,
    });
  }
  const code = errorCodeOf(error) ?? errorCodeOf((error as { cause?: unknown } | null)?.cause);
  if (reason === 'timeout' || (code !== undefined && TIMEOUT_CODES.has(code))) {
    return new VapixTransportError('VAPIX_TIMEOUT', 'the device did not answer in time', {
      ...context,
      cause: error,
    });
  }
  if (code !== undefined && CERTIFICATE_CODES.has(code)) {
    return new VapixCertificateError(
      'VAPIX_TLS_UNTRUSTED',
      `the device certificate was rejected (${code})`,
      {
        ...context,
        cause: error,
      },
    );
  }
  const detail = code ?? (error instanceof Error ? error.message : 'unknown error');
  return new VapixTransportError('VAPIX_UNREACHABLE', `the device is unreachable (${detail})`, {
    ...context,
    cause: error,
  });
}

function summarizeIssues(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
): string {
  return issues
    .slice(0, 3)
    .map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}

function parseResponse<T>(
  request: VapixRequest<T>,
  response: VapixResponse,
  context: { method: string; path: string },
): T {
  try {
    if (typeof request.parse === 'function') return request.parse(response, context);
    const text = decodeText(response.body, response.contentType);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new VapixMalformedResponseError('the response is not JSON', {
        ...context,
        cause: error,
      });
    }
    const result = request.parse.safeParse(json);
    if (!result.success) {
      throw new VapixMalformedResponseError(
        `the response has an unexpected shape (${summarizeIssues(result.error.issues)})`,
        context,
      );
    }
    return result.data;
  } catch (error) {
    if (error instanceof VapixError) throw error;
    throw new VapixMalformedResponseError('the response could not be parsed', {
      ...context,
      cause: error,
    });
  }
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

/**
 * Receives one response through the transport's handler interface: the body is collected from
 * the chunks as they come (no response stream), and the call's scope aborts the request
 * through its dispatch controller (no AbortSignal per call). Settles its promise once.
 */
class ResponseCollector implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private settled = false;
  private status = 0;
  private headers: VapixResponse['headers'] = {};
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(
    private readonly resolve: (response: VapixResponse) => void,
    private readonly reject: (error: VapixError) => void,
    private readonly scope: AbortScope,
    private readonly context: VapixErrorContext,
    private readonly maxBytes: number,
  ) {}

  abort(reason: unknown): void {
    this.controller?.abort(asError(reason));
    this.fail(reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    // Called again when the transport retries the request on a new connection.
    this.controller = controller;
    if (this.scope.reason() !== undefined) controller.abort(asError(this.scope.error()));
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: VapixResponse['headers'],
  ): void {
    this.status = statusCode;
    this.headers = headers;
    this.chunks = [];
    this.size = 0;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.size += chunk.byteLength;
    if (this.size > this.maxBytes) {
      const tooLarge = new VapixMalformedResponseError(
        `the response exceeds ${this.maxBytes} bytes`,
        this.context,
      );
      controller.abort(tooLarge);
      this.fail(tooLarge);
      return;
    }
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.settled) return;
    this.settled = true;
    const contentType = this.headers['content-type'];
    this.resolve({
      status: this.status,
      headers: this.headers,
      contentType: Array.isArray(contentType) ? contentType[0] : contentType,
      body: Buffer.concat(this.chunks, this.size),
    });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.fail(error);
  }

  private fail(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.reject(toTransportError(error, this.scope, this.context));
  }
}

// Tags identify a credential inside this process without being an offline-guessable hash of it.
const TAG_KEY = randomBytes(32);

interface Tagged {
  username: string;
  password: string;
  tag: string;
}

/**
 * Tags by credentials object: an agent passes the same object for every camera of a site, so
 * a sweep computes one HMAC rather than one per camera. Weakly held, so an entry lives no
 * longer than the caller's object, and recomputed when its username or password changed.
 */
const tags = new WeakMap<Credentials, Tagged>();

function passwordTag(credentials: Credentials): Tagged {
  const { username, password } = credentials;
  const known = tags.get(credentials);
  if (known !== undefined && known.username === username && known.password === password) {
    return known;
  }
  const tagged = {
    username,
    password,
    tag: createHmac('sha256', TAG_KEY).update(`${username}\0${password}`).digest('hex'),
  };
  tags.set(credentials, tagged);
  return tagged;
}

export function createVapixClient(options: VapixClientOptions): VapixClient {
  const url = new URL(options.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`unsupported VAPIX URL scheme ${url.protocol}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new TypeError('pass credentials separately, never inside the URL');
  }
  const secure = url.protocol === 'https:';
  const origin = url.origin;
  const cameraKey = options.cameraKey ?? cameraKeyOf(url);
  const budget = options.budget ?? defaultAttemptBudget;
  const limiter = options.limiter ?? defaultRequestLimiter;
  const timeouts: CallTimeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const makeCnonce = options.cnonce ?? createCnonce;
  const maxResponseBytes = options.maxResponseBytes ?? 32 * 1024 * 1024;

  let dispatcher: CameraTransport;
  let ownedDispatcher: CameraTransport | undefined;
  let certificates: CertificateState | undefined;
  if (options.dispatcher !== undefined) {
    dispatcher = options.dispatcher;
  } else {
    const pool = {
      origin,
      tls: options.tls ?? { mode: 'verify' as const },
      connectTimeoutMs: timeouts.probeMs,
      connections: limiter.maxConcurrent,
    };
    // A pin learned on first use is this client's to learn: a shared pool would hold a client
    // made after a factory default to the certificate the camera had before it.
    const learnsPin = pool.tls.mode === 'pin' && pool.tls.fingerprint256 === undefined;
    const shared =
      options.onCertificate === undefined && !learnsPin ? options.connections : undefined;
    const created =
      shared === undefined
        ? createCameraDispatcher({ ...pool, onCertificate: options.onCertificate })
        : shared.poolFor(pool);
    dispatcher = created.dispatcher;
    if (shared === undefined) ownedDispatcher = created.dispatcher;
    certificates = created.certificates;
  }

  const cache = options.sessions ?? defaultAuthSessionCache;
  const sessions = {
    get: (username: string) => cache.get(origin, username),
    set: (username: string, session: AuthSession) => cache.set(origin, username, session),
    delete: (username: string) => cache.delete(origin, username),
  };
  const verified = new Set<string>();
  let latestRealm: string | undefined;
  // The client holds its credentials anyway; remembering the last tag saves two SHA-256 per call.
  let lastTag: Tagged | undefined;
  const tagOf = (credentials: Credentials): string => {
    if (
      lastTag === undefined ||
      lastTag.username !== credentials.username ||
      lastTag.password !== credentials.password
    ) {
      lastTag = passwordTag(credentials);
    }
    return lastTag.tag;
  };

  const timeoutFor = (request: VapixRequest<unknown>): number => {
    switch (request.callClass) {
      case 'probe':
        return timeouts.probeMs;
      case 'long-poll':
        return (request.longPollSeconds ?? 0) * 1000 + timeouts.longPollMarginMs;
      default:
        return timeouts.normalMs;
    }
  };

  const assertNotLockedOut = (context: VapixErrorContext): void => {
    const wait = budget.lockedOutFor(cameraKey);
    if (wait > 0) {
      throw new VapixLockedOutError(
        `the device is blocking after authentication failures; not contacting it for ${Math.ceil(wait / 1000)} s`,
        { ...context, retryAfterMs: wait },
      );
    }
  };

  const exhausted = (context: VapixErrorContext): VapixBudgetExhaustedError =>
    new VapixBudgetExhaustedError(
      `credential attempt budget for this device is spent (${budget.maxFailures} rejected attempts per ${Math.round(budget.windowMs / 60_000)} min)`,
      { ...context, retryAfterMs: budget.retryAfter(cameraKey) },
    );

  /**
   * Admits a credentialed request or fails fast without sending anything. Credentials not yet
   * seen to work reserve an attempt, so parallel calls cannot overshoot the budget.
   */
  const admitCredentials = (
    credentials: Credentials,
    context: VapixErrorContext,
  ): AttemptTicket | undefined => {
    if (verified.has(tagOf(credentials))) {
      if (budget.failures(cameraKey) >= budget.maxFailures) throw exhausted(context);
      return undefined;
    }
    const ticket = budget.reserve(cameraKey);
    if (ticket === undefined) throw exhausted(context);
    return ticket;
  };

  const authorizationFromChallenges = (
    challenges: AuthChallenge[],
    credentials: Credentials,
    method: string,
    target: string,
    context: VapixErrorContext,
  ): string => {
    const digest = pickDigestChallenge(challenges);
    if (digest !== undefined) {
      const session = new DigestSession(digest, makeCnonce);
      sessions.set(credentials.username, { kind: 'digest', digest: session });
      return session.authorize(method, target, credentials);
    }
    if (challenges.some((challenge) => challenge.scheme === 'basic')) {
      if (!secure) {
        throw new VapixInsecureAuthError(
          'the device offers only Basic authentication over plain HTTP; the password is not sent in clear',
          context,
        );
      }
      sessions.set(credentials.username, { kind: 'basic' });
      return basicAuthorization(credentials);
    }
    const offered = challenges.map((challenge) => challenge.scheme).join(', ') || 'none';
    throw new VapixAuthError(
      'VAPIX_AUTH_UNSUPPORTED',
      `no usable authentication scheme offered (${offered})`,
      {
        ...context,
        realm: realmOf(challenges),
      },
    );
  };

  /** One HTTP exchange; see ResponseCollector. */
  const dispatch = (
    method: Dispatcher.HttpMethod,
    target: string,
    authorization: string | undefined,
    body: { contentType: string; payload: string } | undefined,
    scope: AbortScope,
    context: VapixErrorContext,
  ): Promise<VapixResponse> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = { accept: '*/*' };
      if (authorization !== undefined) headers.authorization = authorization;
      if (body !== undefined) headers['content-type'] = body.contentType;
      const collector = new ResponseCollector(resolve, reject, scope, context, maxResponseBytes);
      scope.onAbort((error) => collector.abort(error));
      try {
        dispatcher.dispatch(
          { origin, path: target, method, headers, body: body?.payload ?? null },
          collector,
        );
      } catch (error) {
        // Transports report failures to the handler; one that throws instead is mapped alike.
        collector.abort(error);
      }
    });

  const exchange = async <T>(
    request: VapixRequest<T>,
    credentials: Credentials | null,
    scope: AbortScope,
  ): Promise<T> => {
    const context = { method: request.method, path: request.path };
    const target = requestTargetOf(request);
    const body = encodeBody(request.body);
    let ticket: AttemptTicket | undefined;
    let authorization: string | undefined;
    let session: AuthSession | undefined;
    let staleRetried = false;
    // A nonce cached from an earlier call dies with a reboot or factory default, and the device
    // answers it with a plain 401 (no stale=true). That says nothing about the password yet, so
    // the fresh challenge gets one attempt before anything counts as a rejection.
    let signedWithCachedNonce = false;

    try {
      if (credentials !== null && request.anonymous !== true) {
        // A spent budget stops credentialed calls before anything is sent, the anonymous
        // first round trip included.
        if (budget.failures(cameraKey) >= budget.maxFailures) throw exhausted(context);
        session = sessions.get(credentials.username);
        // A nonce another password of this user worked with may have died with a reboot (a
        // factory default, then a new password for the same user); a 401 to it would be read as
        // a rejection of the new password. Ask for a fresh challenge instead: one round trip
        // more, and the new password still gets exactly one attempt.
        if (
          session?.kind === 'digest' &&
          session.verifiedTag !== undefined &&
          session.verifiedTag !== tagOf(credentials)
        ) {
          session = undefined;
        }
        if (session !== undefined) {
          // Only a nonce this very credential already succeeded with earns the retry below, so a
          // wrong password never gets a second attempt from somebody else's cached nonce.
          signedWithCachedNonce =
            session.kind === 'digest' && session.verifiedTag === tagOf(credentials);
          ticket = admitCredentials(credentials, context);
          authorization =
            session.kind === 'digest'
              ? session.digest.authorize(request.method, target, credentials)
              : basicAuthorization(credentials);
        }
      }

      for (;;) {
        assertNotLockedOut(context);
        const response = await dispatch(
          request.method,
          target,
          authorization,
          body,
          scope,
          context,
        );
        const sentCredentials = authorization !== undefined;

        if (response.status === 401) {
          const challenges = parseWwwAuthenticate(response.headers['www-authenticate']);
          latestRealm = realmOf(challenges) ?? latestRealm;
          if (sentCredentials && credentials !== null) {
            const digest = pickDigestChallenge(challenges);
            // stale=true: the nonce expired but the credentials were right (RFC 7616 §3.3).
            if (digest?.stale === true && !staleRetried && session?.kind === 'digest') {
              staleRetried = true;
              const renewed = new DigestSession(digest, makeCnonce);
              session = { kind: 'digest', digest: renewed };
              sessions.set(credentials.username, session);
              authorization = renewed.authorize(request.method, target, credentials);
              continue;
            }
            if (signedWithCachedNonce && digest !== undefined) {
              signedWithCachedNonce = false;
              ticket?.release();
              ticket = admitCredentials(credentials, context);
              authorization = authorizationFromChallenges(
                challenges,
                credentials,
                request.method,
                target,
                context,
              );
              session = sessions.get(credentials.username);
              continue;
            }
            sessions.delete(credentials.username);
            verified.delete(tagOf(credentials));
            if (ticket !== undefined) ticket.fail();
            else budget.recordFailure(cameraKey);
            ticket = undefined;
            throw new VapixAuthError('VAPIX_LOGIN_FAILED', 'the device rejected the credentials', {
              ...context,
              realm: latestRealm,
            });
          }
          if (credentials === null) {
            throw new VapixAuthError(
              'VAPIX_AUTH_REQUIRED',
              'the device requires credentials for this call',
              {
                ...context,
                realm: latestRealm,
              },
            );
          }
          ticket = admitCredentials(credentials, context);
          authorization = authorizationFromChallenges(
            challenges,
            credentials,
            request.method,
            target,
            context,
          );
          session = sessions.get(credentials.username);
          continue;
        }

        ticket?.release();
        ticket = undefined;

        if (response.status === 403) {
          throw forbiddenError(budget, cameraKey, 'the call (HTTP 403)', context);
        }
        if (sentCredentials && credentials !== null) {
          verified.add(tagOf(credentials));
          if (session?.kind === 'digest') session.verifiedTag = tagOf(credentials);
        }
        if (response.status === 404) {
          throw new VapixUnsupportedError(
            'the device does not provide this API (HTTP 404)',
            context,
          );
        }
        if (response.status < 200 || response.status >= 300) {
          throw new VapixHttpError(
            response.status,
            `the device answered HTTP ${response.status}`,
            context,
          );
        }
        return parseResponse(request, response, context);
      }
    } finally {
      ticket?.release();
    }
  };

  return {
    url,
    cameraKey,
    secure,
    budget,
    async send(request, sendOptions = {}) {
      const credentials =
        sendOptions.credentials === undefined
          ? (options.credentials ?? null)
          : sendOptions.credentials;
      const context = { method: request.method, path: request.path };
      assertNotLockedOut(context);
      const release = await limiter.acquire(cameraKey, sendOptions.signal);
      const scope = createAbortScope(sendOptions.signal, timeoutFor(request));
      try {
        return await exchange(request, credentials, scope);
      } finally {
        scope.dispose();
        release();
      }
    },
    lastRealm: () => latestRealm,
    certificate: () => certificates?.observed,
    async close() {
      await ownedDispatcher?.close();
    },
  };
}
