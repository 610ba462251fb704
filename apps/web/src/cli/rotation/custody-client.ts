import { createTRPCClient, httpLink, TRPCClientError, type TRPCClient } from '@trpc/client';
import superjson from 'superjson';
import type { AppRouter } from '../../server/api/root.ts';

/** What went wrong talking to Custody, so the CLI can say it plainly. */
export type CustodyErrorKind =
  /** No answer at the address (refused, unknown host, TLS, timeout). */
  | 'unreachable'
  /** Something answered, but not the way Custody does: probably the wrong address. */
  | 'not-custody'
  /** Wrong e-mail or password. */
  | 'sign-in-refused'
  /** The request came from an origin Custody does not accept (CSRF gate, sign-in origin check). */
  | 'origin-refused'
  | 'rate-limited'
  /** Signed in with a one-time password that must be replaced first, in the browser. */
  | 'password-change-required'
  /** No session, or it ended. */
  | 'unauthorized'
  /** Signed in, but the role or the site's scope does not allow it. */
  | 'forbidden'
  | 'not-found'
  /** Refused input or a state that does not allow it (e.g. resuming a completed job). */
  | 'invalid'
  | 'server';

export class CustodyError extends Error {
  override readonly name = 'CustodyError';
  readonly kind: CustodyErrorKind;
  readonly status: number | undefined;

  constructor(
    kind: CustodyErrorKind,
    message: string,
    options: { status?: number | undefined; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.kind = kind;
    this.status = options.status;
  }
}

export interface CustodyClientOptions {
  /** Custody's origin, e.g. https://custody.example.com. */
  baseUrl: URL;
  /** For tests; the global fetch otherwise. */
  fetch?: typeof fetch;
  signal?: AbortSignal | undefined;
}

export interface SignedIn {
  name: string;
  email: string;
  roles: string[];
}

/** The subscription ended: the server returned (`ended`) or the connection closed (`closed`). */
export type StreamEnd = 'ended' | 'closed';

export interface CustodyClient {
  /** tRPC over HTTP with the session cookie and the Origin the CSRF gate needs. */
  readonly trpc: TRPCClient<AppRouter>;
  signIn(email: string, password: string): Promise<SignedIn>;
  /**
   * Follows a tRPC subscription over server-sent events, calling `onData` for each event, until
   * the server ends it, the connection closes or `signal` aborts. Rejects on an error event.
   * `onOpen` runs once the server has accepted the subscription.
   */
  subscribe(
    path: string,
    input: unknown,
    onData: (data: unknown) => void,
    signal: AbortSignal,
    onOpen?: () => void,
  ): Promise<StreamEnd>;
  /** Ends the session on the server; the cookie is forgotten either way. */
  signOut(): Promise<void>;
}

const TRPC_PATH = '/api/trpc';
const SIGN_IN_PATH = '/api/auth/sign-in/email';
const SIGN_OUT_PATH = '/api/auth/sign-out';

function describeCause(error: unknown): string {
  const cause = (error as { cause?: unknown } | null)?.cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${cause.message}` : cause.message;
  }
  return error instanceof Error ? error.message : String(error);
}

async function messageFrom(response: Response): Promise<string | null> {
  try {
    const body = (await response.json()) as {
      message?: unknown;
      error?: { message?: unknown; json?: { message?: unknown } };
    };
    // better-auth: { message }; the CSRF gate: { error: { message } }; tRPC: { error: { json } }.
    const message = body.message ?? body.error?.message ?? body.error?.json?.message;
    if (typeof message === 'string') return message.slice(0, 300);
  } catch {
    // Not JSON: nothing more to say than the status.
  }
  return null;
}

function isJson(response: Response): boolean {
  return /^application\/json\b/i.test(response.headers.get('content-type') ?? '');
}

function redirectError(response: Response, origin: string): CustodyError {
  const location = response.headers.get('location');
  return new CustodyError(
    'not-custody',
    `${origin} answered with a redirect${location ? ` to ${location}` : ''} (HTTP ${response.status}); give Custody's final address with --url`,
    { status: response.status },
  );
}

/** The CLI-facing error for a failed tRPC call: the server's own message, classified. */
export function toCustodyError(error: unknown): CustodyError {
  if (error instanceof CustodyError) return error;
  if (error instanceof TRPCClientError) {
    const cause: unknown = error.cause;
    if (cause instanceof CustodyError) return cause;
    const data = (error as TRPCClientError<AppRouter>).data as
      | { code?: string; httpStatus?: number; fieldErrors?: Record<string, string[]> }
      | null
      | undefined;
    if (!data || typeof data.code !== 'string') {
      return new CustodyError('not-custody', `unexpected answer from Custody: ${error.message}`, {
        cause: error,
      });
    }
    const fields = Object.entries(data.fieldErrors ?? {}).map(
      ([field, messages]) => `${field}: ${messages.join(' ')}`,
    );
    const message = fields.length > 0 ? `${error.message} (${fields.join('; ')})` : error.message;
    const options = { status: data.httpStatus, cause: error };
    switch (data.code) {
      case 'UNAUTHORIZED':
        return new CustodyError('unauthorized', `not signed in: ${message}`, options);
      case 'FORBIDDEN':
        return /new password/i.test(message)
          ? new CustodyError(
              'password-change-required',
              'this account still has its one-time password: sign in once in the browser and choose your own',
              options,
            )
          : new CustodyError('forbidden', `forbidden: ${message}`, options);
      case 'NOT_FOUND':
        return new CustodyError('not-found', message, options);
      case 'TOO_MANY_REQUESTS':
        return new CustodyError('rate-limited', message, options);
      case 'BAD_REQUEST':
      case 'CONFLICT':
      case 'PRECONDITION_FAILED':
      case 'UNPROCESSABLE_CONTENT':
        return new CustodyError('invalid', message, options);
      default:
        return new CustodyError('server', `Custody failed: ${message}`, options);
    }
  }
  return new CustodyError('server', error instanceof Error ? error.message : String(error), {
    cause: error,
  });
}

/**
 * Reads `text/event-stream` as the SSE specification says: fields up to a blank line make one
 * event; comments (`:`) are keep-alives.
 */
export async function* readServerSentEvents(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<{ event: string; data: string }> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffer.search(/\r\n|\r|\n/)) !== -1) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
      if (line === '') {
        if (data.length > 0 || event !== '') {
          yield { event: event || 'message', data: data.join('\n') };
        }
        event = '';
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
  }
}

/**
 * A client for one Custody server, holding the session cookie in memory only. Every request
 * carries Custody's own origin, which its CSRF gate and sign-in origin check require of
 * anything that changes state.
 */
export function createCustodyClient(options: CustodyClientOptions): CustodyClient {
  const origin = options.baseUrl.origin;
  const fetchImpl = options.fetch ?? fetch;
  const cookies = new Map<string, string>();

  function remember(response: Response) {
    for (const header of response.headers.getSetCookie()) {
      const pair = header.split(';')[0] ?? '';
      const equals = pair.indexOf('=');
      if (equals <= 0) continue;
      const name = pair.slice(0, equals).trim();
      const value = pair.slice(equals + 1).trim();
      if (value === '' || /;\s*max-age=0\b/i.test(header)) cookies.delete(name);
      else cookies.set(name, value);
    }
  }

  function headersWith(extra: HeadersInit | undefined): Headers {
    const headers = new Headers(extra);
    headers.set('origin', origin);
    if (cookies.size > 0) {
      headers.set('cookie', [...cookies].map(([name, value]) => `${name}=${value}`).join('; '));
    }
    return headers;
  }

  async function send(path: string | URL, init: RequestInit = {}): Promise<Response> {
    const url = new URL(path, options.baseUrl);
    let response: Response;
    try {
      response = await fetchImpl(url, {
        ...init,
        headers: headersWith(init.headers),
        // A redirect would carry the cookie, or on sign-in the password, somewhere else.
        redirect: 'manual',
        signal: init.signal ?? options.signal ?? null,
      });
    } catch (error) {
      if ((error as { name?: unknown }).name === 'AbortError') throw error;
      throw new CustodyError(
        'unreachable',
        `cannot reach Custody at ${origin} (${describeCause(error)})`,
        {
          cause: error,
        },
      );
    }
    if (response.status >= 300 && response.status < 400) throw redirectError(response, origin);
    remember(response);
    return response;
  }

  /** Checks what the tRPC endpoint answered before tRPC's client reads it. */
  async function sendTrpc(url: string | URL | Request, init?: RequestInit): Promise<Response> {
    const response = await send(url instanceof Request ? url.url : url, init);
    if (isJson(response)) {
      if (response.status === 403 || response.status === 415) {
        // The CSRF gate answers before tRPC, with a plain { error: { message } }.
        const body = (await response
          .clone()
          .json()
          .catch(() => null)) as {
          error?: { message?: unknown; json?: unknown };
        } | null;
        if (body?.error && body.error.json === undefined) {
          throw new CustodyError(
            'origin-refused',
            `Custody refused the request from ${origin} (${String(body.error.message)}): use the address Custody announces (its CUSTODY_PUBLIC_URL) with --url`,
            { status: response.status },
          );
        }
      }
      return response;
    }
    throw new CustodyError(
      'not-custody',
      `${origin} answered HTTP ${response.status} (${response.headers.get('content-type') ?? 'no content type'}) where Custody's API should be: is --url Custody's address?`,
      { status: response.status },
    );
  }

  const trpc = createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: new URL(TRPC_PATH, options.baseUrl).toString(),
        transformer: superjson,
        fetch: (url, init) => sendTrpc(url, init as RequestInit),
      }),
    ],
  });

  async function signIn(email: string, password: string): Promise<SignedIn> {
    const response = await send(SIGN_IN_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ email, password, rememberMe: false }),
    });
    if (!response.ok) {
      const message = isJson(response) ? await messageFrom(response) : null;
      if (response.status === 401) {
        throw new CustodyError(
          'sign-in-refused',
          `Custody refused the sign-in of ${email}: wrong e-mail or password`,
          { status: 401 },
        );
      }
      if (response.status === 429) {
        throw new CustodyError('rate-limited', message ?? 'too many sign-in attempts; try later', {
          status: 429,
        });
      }
      if (response.status === 403 && message !== null && /origin/i.test(message)) {
        throw new CustodyError(
          'origin-refused',
          `Custody refused a sign-in from ${origin} (${message}): use the address Custody announces (its CUSTODY_PUBLIC_URL) with --url`,
          { status: 403 },
        );
      }
      if (message === null || response.status === 404) {
        throw new CustodyError(
          'not-custody',
          `${origin} has no Custody sign-in (HTTP ${response.status} on ${SIGN_IN_PATH}): is --url Custody's address?`,
          { status: response.status },
        );
      }
      throw new CustodyError('server', `sign-in failed: ${message} (HTTP ${response.status})`, {
        status: response.status,
      });
    }
    if (cookies.size === 0) {
      throw new CustodyError(
        'not-custody',
        `${origin} accepted the sign-in but set no session: is --url Custody's address?`,
      );
    }
    let me;
    try {
      me = await trpc.me.get.query();
    } catch (error) {
      throw toCustodyError(error);
    }
    if (me.passwordChangeRequired) {
      throw new CustodyError(
        'password-change-required',
        `${email} still has its one-time password: sign in once in the browser and choose your own`,
      );
    }
    return {
      name: me.name,
      email: me.email,
      roles: [...new Set(me.memberships.map((membership) => membership.role))],
    };
  }

  async function subscribe(
    path: string,
    input: unknown,
    onData: (data: unknown) => void,
    signal: AbortSignal,
    onOpen?: () => void,
  ): Promise<StreamEnd> {
    const url = new URL(`${TRPC_PATH}/${path}`, options.baseUrl);
    url.searchParams.set('input', JSON.stringify(superjson.serialize(input)));
    const response = await send(url, { headers: { accept: 'text/event-stream' }, signal });
    if (!response.ok || response.body === null) {
      const message = isJson(response) ? await messageFrom(response) : null;
      throw new CustodyError(
        response.status === 401 ? 'unauthorized' : response.status === 403 ? 'forbidden' : 'server',
        `the live feed was refused: ${message ?? `HTTP ${response.status}`}`,
        { status: response.status },
      );
    }
    onOpen?.();
    try {
      for await (const message of readServerSentEvents(response.body)) {
        switch (message.event) {
          case 'message':
            onData(superjson.deserialize(JSON.parse(message.data) as never));
            break;
          case 'serialized-error': {
            // The procedure refused after the stream opened: as final as an error status.
            const error = superjson.deserialize<{
              message?: unknown;
              data?: { httpStatus?: unknown };
            } | null>(JSON.parse(message.data) as never);
            const status = error?.data?.httpStatus;
            throw new CustodyError(
              status === 401 ? 'unauthorized' : status === 403 ? 'forbidden' : 'server',
              `the live feed was refused: ${typeof error?.message === 'string' ? error.message : 'unknown error'}`,
              { status: typeof status === 'number' ? status : 500 },
            );
          }
          case 'return':
            return 'ended';
          default:
            // connected, ping: the stream is alive.
            break;
        }
      }
    } catch (error) {
      if (signal.aborted) return 'closed';
      if (error instanceof CustodyError) throw error;
      return 'closed';
    }
    return 'closed';
  }

  async function signOut(): Promise<void> {
    if (cookies.size === 0) return;
    try {
      await send(SIGN_OUT_PATH, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
        // Also after Ctrl+C, which aborted everything else.
        signal: AbortSignal.timeout(5_000),
      });
    } catch {
      // The session expires by itself; the cookie goes with this process.
    } finally {
      cookies.clear();
    }
  }

  return { trpc, signIn, subscribe, signOut };
}
