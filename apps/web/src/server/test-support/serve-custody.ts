import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Database } from '@custody/db';
import { handleTrpcRequest } from '../api/http-handler.ts';
import { stampClientAddress } from '../auth/client-address.ts';
import { createAuth } from '../auth/create-auth.ts';
import type { FleetFeed } from '../services/fleet-feed.ts';
import type { RotationFeed } from '../services/rotation/rotation-feed.ts';

export interface ServedCustody {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  close(): Promise<void>;
}

function headersOf(req: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const entry of Array.isArray(value) ? value : [value]) headers.append(name, entry);
  }
  return headers;
}

async function bodyOf(req: IncomingMessage): Promise<Uint8Array<ArrayBuffer>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Uint8Array.from(Buffer.concat(chunks));
}

/**
 * Custody's HTTP surface as server.ts serves it, minus Next and the gateway: better-auth under
 * /api/auth, the tRPC handler (CSRF gate included) under /api/trpc, on a loopback port. For
 * tests of HTTP clients such as the rotation CLI.
 */
export async function serveCustody(options: {
  db: Database;
  fleetFeed?: FleetFeed | null;
  rotationFeed?: RotationFeed | null;
  /** The origins Custody accepts; default: the address it listens on. */
  origins?: readonly string[];
}): Promise<ServedCustody> {
  let respond: (req: IncomingMessage, res: ServerResponse) => Promise<void> = () =>
    Promise.resolve();
  const server = createServer((req, res) => {
    stampClientAddress(req, false);
    respond(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const origins = options.origins ?? [url];
  const auth = createAuth({ db: options.db, secret: 's'.repeat(32), origins });

  respond = async (req, res) => {
    const target = new URL(req.url ?? '/', url);
    const aborted = new AbortController();
    res.on('close', () => aborted.abort());
    const method = req.method ?? 'GET';
    const body = method === 'GET' || method === 'HEAD' ? undefined : await bodyOf(req);
    const request = new Request(target, {
      method,
      headers: headersOf(req),
      body,
      signal: aborted.signal,
    });
    const response = target.pathname.startsWith('/api/auth/')
      ? await auth.handler(request)
      : target.pathname.startsWith('/api/trpc/')
        ? await handleTrpcRequest(request, {
            db: options.db,
            auth,
            origins,
            fleetFeed: options.fleetFeed ?? null,
            rotationFeed: options.rotationFeed ?? null,
          })
        : new Response('<!doctype html><title>Not found</title>', {
            status: 404,
            headers: { 'content-type': 'text/html' },
          });
    const headers: Record<string, string | string[]> = {};
    response.headers.forEach((value, name) => {
      if (name !== 'set-cookie') headers[name] = value;
    });
    const cookies = response.headers.getSetCookie();
    if (cookies.length > 0) headers['set-cookie'] = cookies;
    res.writeHead(response.status, headers);
    if (response.body) {
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          res.write(chunk);
        }
      } catch {
        // The client went away mid-stream.
      }
    }
    res.end();
  };

  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
