import { connect, type Socket } from 'node:net';

import { defaultAttemptBudget, type AttemptBudget, type AttemptTicket } from './attempt-budget.ts';
import { cameraKeyOf } from './camera-key.ts';
import { createCnonce, DigestSession } from './digest.ts';
import { parseSdp, type SessionDescription } from './sdp.ts';
import type { Credentials } from './types.ts';
import {
  VapixAuthError,
  VapixBudgetExhaustedError,
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
import { parseWwwAuthenticate, pickDigestChallenge, realmOf } from './www-authenticate.ts';

export interface RtspDescribeOptions {
  signal?: AbortSignal;
  /** Whole exchange (connect, OPTIONS, DESCRIBE and its retry); default 15 s. */
  timeoutMs?: number;
  budget?: AttemptBudget;
  /** Defaults to the URL's host (port 554 counts as the camera itself). */
  cameraKey?: string;
  cnonce?: () => string;
  userAgent?: string;
}

export interface RtspDescribeResult {
  /** Methods from the OPTIONS `Public` header. */
  publicMethods: string[];
  contentBase: string | undefined;
  sdp: SessionDescription;
  realm: string | undefined;
}

export interface RtspResponse {
  status: number;
  reason: string;
  headers: Readonly<Record<string, string[]>>;
  body: Buffer;
}

const MAX_RESPONSE_BYTES = 1024 * 1024;
const HEADER_END = Buffer.from('\r\n\r\n');

/** Parses one RTSP response head (RTSP/1.0 status line, headers, obs-fold continuations). */
export function parseRtspHead(
  head: string,
  context?: VapixErrorContext,
): Omit<RtspResponse, 'body'> {
  const lines = head.split(/\r\n|\n/);
  const status = /^RTSP\/\d\.\d (\d{3})(?: (.*))?$/.exec(lines[0] ?? '');
  if (status === null)
    throw new VapixMalformedResponseError('the RTSP status line is unreadable', context);
  const headers = Object.create(null) as Record<string, string[]>;
  let last: { name: string; index: number } | undefined;
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    if ((line.startsWith(' ') || line.startsWith('\t')) && last !== undefined) {
      const values = headers[last.name];
      if (values !== undefined) values[last.index] = `${values[last.index] ?? ''} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const values = headers[name] ?? [];
    values.push(line.slice(colon + 1).trim());
    headers[name] = values;
    last = { name, index: values.length - 1 };
  }
  return { status: Number(status[1]), reason: status[2] ?? '', headers };
}

/** Reads sequential RTSP responses from a socket. */
class RtspReader {
  private buffer = Buffer.alloc(0);
  private pending:
    { resolve: (response: RtspResponse) => void; reject: (error: Error) => void } | undefined;
  private failure: Error | undefined;

  constructor(
    socket: Socket,
    private readonly context: VapixErrorContext,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      if (this.buffer.length > MAX_RESPONSE_BYTES) {
        this.fail(new VapixMalformedResponseError('the RTSP response is too large', context));
        socket.destroy();
        return;
      }
      this.pump();
    });
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () =>
      this.fail(
        new VapixTransportError('VAPIX_UNREACHABLE', 'the RTSP connection closed', context),
      ),
    );
  }

  private fail(error: Error): void {
    this.failure ??= error;
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(this.failure);
  }

  private pump(): void {
    if (this.pending === undefined) return;
    const end = this.buffer.indexOf(HEADER_END);
    if (end === -1) return;
    let head: Omit<RtspResponse, 'body'>;
    try {
      head = parseRtspHead(this.buffer.subarray(0, end).toString('latin1'), this.context);
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    const length = Number(head.headers['content-length']?.[0] ?? '0');
    if (!Number.isSafeInteger(length) || length < 0) {
      this.fail(
        new VapixMalformedResponseError('the RTSP Content-Length is unreadable', this.context),
      );
      return;
    }
    const start = end + HEADER_END.length;
    if (this.buffer.length < start + length) return;
    const body = this.buffer.subarray(start, start + length);
    this.buffer = this.buffer.subarray(start + length);
    const pending = this.pending;
    this.pending = undefined;
    pending.resolve({ ...head, body: Buffer.from(body) });
  }

  next(): Promise<RtspResponse> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.pump();
    });
  }
}

function openSocket(host: string, port: number, signal: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const onAbort = (): void => {
      socket.destroy();
      reject(new Error('RTSP connect aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      signal.removeEventListener('abort', onAbort);
      resolve(socket);
    });
    socket.once('error', (error) => {
      signal.removeEventListener('abort', onAbort);
      reject(error);
    });
  });
}

/**
 * RTSP OPTIONS then DESCRIBE over a raw socket (reference §6.2): DESCRIBE is challenged with
 * Digest (RFC 2069 form on AXIS/GStreamer) and retried once with credentials; the SDP answer is
 * parsed into media sections. Shares the attempt budget and lock-out rules of HTTP calls.
 */
export async function rtspDescribe(
  url: string | URL,
  credentials: Credentials | null,
  options: RtspDescribeOptions = {},
): Promise<RtspDescribeResult> {
  const parsed = new URL(url);
  if (parsed.protocol !== 'rtsp:') throw new TypeError(`not an rtsp:// URL: ${parsed.protocol}`);
  parsed.username = '';
  parsed.password = '';
  const target = parsed.href;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const port = parsed.port === '' ? 554 : Number(parsed.port);
  const cameraKey = options.cameraKey ?? cameraKeyOf(parsed);
  const budget = options.budget ?? defaultAttemptBudget;
  const makeCnonce = options.cnonce ?? createCnonce;
  const userAgent = options.userAgent ?? 'vapix-client';
  const context: VapixErrorContext = { method: 'DESCRIBE', path: parsed.pathname };

  const assertNotLockedOut = (): void => {
    const wait = budget.lockedOutFor(cameraKey);
    if (wait > 0) {
      throw new VapixLockedOutError('the device is blocking after authentication failures', {
        ...context,
        retryAfterMs: wait,
      });
    }
  };
  assertNotLockedOut();

  const controller = new AbortController();
  let why: 'caller' | 'timeout' | undefined;
  const onCallerAbort = (): void => {
    why ??= 'caller';
    controller.abort(options.signal?.reason);
  };
  if (options.signal?.aborted) onCallerAbort();
  options.signal?.addEventListener('abort', onCallerAbort, { once: true });
  const timer = setTimeout(() => {
    why ??= 'timeout';
    controller.abort(new Error('RTSP timeout'));
  }, options.timeoutMs ?? 15_000);

  let socket: Socket | undefined;
  let ticket: AttemptTicket | undefined;
  const mapError = (error: unknown): VapixError => {
    if (why === 'caller')
      return new VapixTransportError('VAPIX_ABORTED', 'the RTSP call was aborted', {
        ...context,
        cause: error,
      });
    if (why === 'timeout')
      return new VapixTransportError('VAPIX_TIMEOUT', 'the RTSP call timed out', {
        ...context,
        cause: error,
      });
    if (error instanceof VapixError) return error;
    const code = (error as { code?: unknown } | null)?.code;
    return new VapixTransportError(
      'VAPIX_UNREACHABLE',
      `the RTSP service is unreachable (${typeof code === 'string' ? code : 'error'})`,
      {
        ...context,
        cause: error,
      },
    );
  };

  try {
    if (controller.signal.aborted) throw new Error('RTSP call aborted before it started');
    const aborted = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(new Error('RTSP call aborted')), {
        once: true,
      });
    });
    aborted.catch(() => undefined);
    socket = await Promise.race([openSocket(host, port, controller.signal), aborted]);
    const connection = socket;
    const reader = new RtspReader(connection, context);
    let cseq = 0;
    const exchange = async (
      method: string,
      headers: Record<string, string>,
    ): Promise<RtspResponse> => {
      cseq += 1;
      const lines = [`${method} ${target} RTSP/1.0`, `CSeq: ${cseq}`, `User-Agent: ${userAgent}`];
      for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
      connection.write(`${lines.join('\r\n')}\r\n\r\n`);
      const response = await Promise.race([reader.next(), aborted]);
      const echoed = response.headers.cseq?.[0];
      if (echoed !== undefined && Number(echoed) !== cseq) {
        throw new VapixMalformedResponseError(
          'the RTSP response CSeq does not match the request',
          context,
        );
      }
      return response;
    };

    const optionsResponse = await exchange('OPTIONS', {});
    const publicMethods = (optionsResponse.headers.public?.[0] ?? '')
      .split(',')
      .map((method) => method.trim())
      .filter((method) => method !== '');

    let session: DigestSession | undefined;
    let staleRetried = false;
    let realm: string | undefined;
    let authorization: string | undefined;
    for (;;) {
      assertNotLockedOut();
      const headers: Record<string, string> = { Accept: 'application/sdp' };
      if (authorization !== undefined) headers.Authorization = authorization;
      const response = await exchange('DESCRIBE', headers);
      if (response.status === 401) {
        const challenges = parseWwwAuthenticate(response.headers['www-authenticate']);
        realm = realmOf(challenges) ?? realm;
        const digest = pickDigestChallenge(challenges);
        if (authorization !== undefined && credentials !== null) {
          if (digest?.stale === true && !staleRetried) {
            staleRetried = true;
            session = new DigestSession(digest, makeCnonce);
            authorization = session.authorize('DESCRIBE', target, credentials);
            continue;
          }
          ticket?.fail();
          ticket = undefined;
          throw new VapixAuthError(
            'VAPIX_LOGIN_FAILED',
            'the device rejected the RTSP credentials',
            { ...context, realm },
          );
        }
        if (credentials === null) {
          throw new VapixAuthError('VAPIX_AUTH_REQUIRED', 'the RTSP stream requires credentials', {
            ...context,
            realm,
          });
        }
        if (digest === undefined) {
          if (challenges.some((challenge) => challenge.scheme === 'basic')) {
            throw new VapixInsecureAuthError(
              'the RTSP server offers only Basic authentication; the password is not sent in clear',
              context,
            );
          }
          throw new VapixAuthError(
            'VAPIX_AUTH_UNSUPPORTED',
            'no usable RTSP authentication scheme offered',
            { ...context, realm },
          );
        }
        ticket = budget.reserve(cameraKey);
        if (ticket === undefined) {
          throw new VapixBudgetExhaustedError(
            'credential attempt budget for this device is spent',
            {
              ...context,
              retryAfterMs: budget.retryAfter(cameraKey),
            },
          );
        }
        session = new DigestSession(digest, makeCnonce);
        authorization = session.authorize('DESCRIBE', target, credentials);
        continue;
      }
      ticket?.release();
      ticket = undefined;
      if (response.status === 403) {
        throw forbiddenError(budget, cameraKey, 'the RTSP DESCRIBE (403)', context);
      }
      if (response.status === 404)
        throw new VapixUnsupportedError('the RTSP stream does not exist (404)', context);
      if (response.status !== 200) {
        throw new VapixHttpError(
          response.status,
          `the RTSP server answered ${response.status}`,
          context,
        );
      }
      const sdp = parseSdp(response.body.toString('utf8'), {
        method: 'DESCRIBE',
        path: parsed.pathname,
      });
      return { publicMethods, contentBase: response.headers['content-base']?.[0], sdp, realm };
    }
  } catch (error) {
    throw mapError(error);
  } finally {
    ticket?.release();
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onCallerAbort);
    socket?.destroy();
  }
}
