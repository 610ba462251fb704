import { createHash, randomBytes } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/**
 * A minimal camera on 127.0.0.1 for handshake tests: it issues Digest challenges and checks
 * responses with its own hashing (independent of src/digest.ts), counts requests and the
 * peak number in flight. Test material only; the faithful camera is @custody/simulator.
 */

export interface FakeReply {
  status?: number;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
}

export interface FakeRequest {
  method: string;
  /** The request-target exactly as received. */
  target: string;
  path: string;
  authorization: string | undefined;
  body: string;
  /** Set once the request passed authentication (or needed none). */
  user: string | undefined;
}

export type FakeRoute = (request: FakeRequest) => FakeReply | Promise<FakeReply>;

export interface FakeCameraOptions {
  users?: Record<string, string>;
  realm?: string;
  /** Which challenges a 401 carries, in order. */
  challenges?: Array<'digest' | 'digest-sha256' | 'basic'>;
  qop?: boolean;
  opaque?: string;
  /** Paths answered without credentials. */
  anonymousPaths?: string[];
  /** Finer rule for anonymous access, e.g. by JSON-RPC method or factory-default state. */
  isAnonymous?: (request: FakeRequest) => boolean;
  /** `METHOD /path` → handler; unknown routes answer 404. */
  routes?: Record<string, FakeRoute>;
  /** Milliseconds every request is held before it is answered. */
  delayMs?: number;
  tls?: { key: string; cert: string };
}

export interface FakeCamera {
  readonly url: string;
  readonly port: number;
  readonly requests: FakeRequest[];
  readonly maxInFlight: number;
  /** Every nc value received, per nonce. */
  readonly nonceCounts: Map<string, string[]>;
  /** Marks every issued nonce stale: the next use gets 401 with stale=true. */
  expireNonces(): void;
  /** Answers 403 to everything while on (a brute-force block). */
  setBlocked(blocked: boolean): void;
  server: Server;
  close(): Promise<void>;
}

function parseAuthParams(header: string): Record<string, string> {
  const params: Record<string, string> = {};
  const pattern = /(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))/g;
  for (const match of header.matchAll(pattern)) {
    const name = match[1];
    if (name !== undefined) params[name] = (match[2] ?? match[3] ?? '').replace(/\\(.)/g, '$1');
  }
  return params;
}

function h(algorithm: string, data: string): string {
  return createHash(algorithm === 'SHA-256' ? 'sha256' : 'md5')
    .update(data)
    .digest('hex');
}

export async function startFakeCamera(options: FakeCameraOptions = {}): Promise<FakeCamera> {
  const users = options.users ?? {};
  const realm = options.realm ?? 'AXIS_ACCC8EF7DE6B';
  const challenges = options.challenges ?? ['digest'];
  const qop = options.qop ?? true;
  const anonymous = new Set(options.anonymousPaths ?? []);
  const routes = options.routes ?? {};
  const requests: FakeRequest[] = [];
  const nonceCounts = new Map<string, string[]>();
  const staleNonces = new Set<string>();
  let inFlight = 0;
  let maxInFlight = 0;
  let blocked = false;

  const challengeHeaders = (stale: boolean): string[] =>
    challenges.map((kind) => {
      if (kind === 'basic') return `Basic realm="${realm}"`;
      const nonce = randomBytes(12).toString('base64');
      nonceCounts.set(nonce, []);
      const parts = [`realm="${realm}"`, `nonce="${nonce}"`];
      parts.push(`algorithm=${kind === 'digest-sha256' ? 'SHA-256' : 'MD5'}`);
      if (qop) parts.push('qop="auth"');
      if (options.opaque !== undefined) parts.push(`opaque="${options.opaque}"`);
      if (stale) parts.push('stale=true');
      return `Digest ${parts.join(', ')}`;
    });

  /** The authenticated user, 'stale', or undefined when the credentials are wrong. */
  const authenticate = (
    method: string,
    target: string,
    header: string | undefined,
  ): string | undefined => {
    if (header === undefined) return undefined;
    if (header.startsWith('Basic ')) {
      const [user, ...rest] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
      return user !== undefined && users[user] === rest.join(':') ? user : undefined;
    }
    if (!header.startsWith('Digest ')) return undefined;
    const params = parseAuthParams(header.slice(7));
    const { username, nonce, uri, response, nc, cnonce } = params;
    const algorithm = params.algorithm ?? 'MD5';
    if (username === undefined || nonce === undefined || !nonceCounts.has(nonce)) return undefined;
    if (uri !== target || params.realm !== realm) return undefined;
    if (options.opaque !== undefined && params.opaque !== options.opaque) return undefined;
    const password = users[username];
    if (password === undefined) return undefined;
    const ha1 = h(algorithm, `${username}:${realm}:${password}`);
    const ha2 = h(algorithm, `${method}:${uri}`);
    const expected = qop
      ? h(algorithm, `${ha1}:${nonce}:${nc ?? ''}:${cnonce ?? ''}:auth:${ha2}`)
      : h(algorithm, `${ha1}:${nonce}:${ha2}`);
    if (expected !== response) return undefined;
    nonceCounts.get(nonce)?.push(nc ?? '');
    if (staleNonces.has(nonce)) return 'stale';
    return username;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const target = req.url ?? '/';
      const request: FakeRequest = {
        method: req.method ?? 'GET',
        target,
        path: target.split('?')[0] ?? target,
        authorization: req.headers.authorization,
        body: Buffer.concat(chunks).toString('utf8'),
        user: undefined,
      };
      requests.push(request);
      if (options.delayMs !== undefined)
        await new Promise((resolve) => setTimeout(resolve, options.delayMs));
      if (blocked) {
        res.writeHead(403, { 'content-type': 'text/plain' }).end('Forbidden');
        return;
      }
      if (!anonymous.has(request.path) && options.isAnonymous?.(request) !== true) {
        const user = authenticate(request.method, target, request.authorization);
        if (user === undefined || user === 'stale') {
          res.setHeader('www-authenticate', challengeHeaders(user === 'stale'));
          res
            .writeHead(401, { 'content-type': 'text/html' })
            .end('<html><body>401 Unauthorized</body></html>');
          return;
        }
        request.user = user;
      }
      const route = routes[`${request.method} ${request.path}`];
      const reply: FakeReply =
        route === undefined ? { status: 404, body: 'Not Found' } : await route(request);
      res.writeHead(reply.status ?? 200, reply.headers ?? { 'content-type': 'text/plain' });
      res.end(reply.body ?? '');
    } finally {
      inFlight -= 1;
    }
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch(() => res.destroy());
  };
  const server: Server =
    options.tls === undefined
      ? createHttpServer(listener)
      : createHttpsServer(options.tls, listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `${options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    port,
    requests,
    get maxInFlight() {
      return maxInFlight;
    },
    nonceCounts,
    expireNonces: () => {
      for (const nonce of nonceCounts.keys()) staleNonces.add(nonce);
    },
    setBlocked: (value) => {
      blocked = value;
    },
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function json(value: unknown): FakeReply {
  return {
    headers: { 'content-type': 'application/json' },
    body: typeof value === 'string' ? value : JSON.stringify(value),
  };
}

export function text(body: string, contentType = 'text/plain'): FakeReply {
  return { headers: { 'content-type': contentType }, body };
}
