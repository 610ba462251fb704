import type { IncomingMessage, ServerResponse } from 'node:http';
import { EnrollRequestSchema, EnrollResponseSchema, type EnrollResponse } from '@custody/core';
import type { Database } from '@custody/db';
import type { CommandSigner } from './command-signing-key.ts';
import { enrollAgent } from './enrollment.ts';
import { clientAddressOf } from '../auth/client-address.ts';
import { hitThrottle, peekThrottle, type ThrottleRule } from '../services/login-throttle.ts';
import { errorText, type GatewayLogger } from './gateway-logger.ts';

/** A request is a token, a key, a name and a version: a few hundred bytes. */
const MAX_BODY_BYTES = 8 * 1024;

/**
 * Attempts per client address; wrong tokens are counted more strictly. The counts are kept in
 * the database (see hitThrottle), so every server process sharing it enforces one limit.
 */
export interface EnrollRateRules {
  perAddress: ThrottleRule;
  badTokensPerAddress: ThrottleRule;
}

export const DEFAULT_ENROLL_RATE_RULES: EnrollRateRules = {
  perAddress: { limit: 10, windowSeconds: 60 },
  badTokensPerAddress: { limit: 5, windowSeconds: 10 * 60 },
};

export function enrollAddressKey(address: string): string {
  return `enroll:address:${address}`;
}

export function enrollBadTokenKey(address: string): string {
  return `enroll:bad-token:${address}`;
}

export interface EnrollEndpointContext {
  db: Database;
  signer: CommandSigner;
  /** The WebSocket URL agents dial, for this request (see gatewayUrlFor). */
  gatewayUrl: (request: IncomingMessage) => string | null;
  log: GatewayLogger;
  rules: EnrollRateRules;
}

interface ErrorBody {
  code: string;
  message: string;
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  response.end(text);
}

function tooMany(response: ServerResponse, retryAfterSeconds: number): void {
  response.setHeader('retry-after', String(retryAfterSeconds));
  sendError(response, 429, {
    code: 'too-many-requests',
    message: `Too many enrollment attempts from this address. Try again in ${retryAfterSeconds} s.`,
  });
}

/** `{ "error": { "code", "message" } }`, as docs/protocol.md states it. */
function sendError(response: ServerResponse, status: number, error: ErrorBody): void {
  sendJson(response, status, { error });
}

/** The body as text, or null when it is larger than an enrollment request can be. */
async function readBody(request: IncomingMessage): Promise<string | null> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) return null;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * POST /agent/v1/enroll. The token travels in the body only and is never logged; refusals are
 * 4xx with a stable code; an unknown, used and expired token get the same 401. Per client
 * address, attempts beyond `limits` get a 429 with Retry-After.
 */
export async function handleEnrollRequest(
  request: IncomingMessage,
  response: ServerResponse,
  context: EnrollEndpointContext,
): Promise<void> {
  // Counted before the body is read: a flood costs one upsert a request, not a body and a
  // token lookup.
  const address = clientAddressOf(request);
  const attempt = await hitThrottle(
    context.db,
    enrollAddressKey(address),
    context.rules.perAddress,
  );
  if (!attempt.allowed) {
    tooMany(response, attempt.retryAfterSeconds);
    return;
  }
  const guessing = await peekThrottle(
    context.db,
    enrollBadTokenKey(address),
    context.rules.badTokensPerAddress,
  );
  if (!guessing.allowed) {
    tooMany(response, guessing.retryAfterSeconds);
    return;
  }
  if (request.method !== 'POST') {
    response.setHeader('allow', 'POST');
    sendError(response, 405, {
      code: 'method-not-allowed',
      message: 'Enroll with POST and a JSON body.',
    });
    return;
  }
  const text = await readBody(request);
  if (text === null) {
    response.setHeader('connection', 'close');
    sendError(response, 413, {
      code: 'too-large',
      message: `An enrollment request is at most ${MAX_BODY_BYTES} bytes.`,
    });
    return;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    sendError(response, 400, { code: 'not-json', message: 'The body is not JSON.' });
    return;
  }
  const parsed = EnrollRequestSchema.safeParse(json);
  if (!parsed.success) {
    // Paths and messages only: a value (the token) is never echoed.
    const problems = parsed.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`)
      .join('; ');
    sendError(response, 400, {
      code: 'invalid-request',
      message: `Invalid enrollment request: ${problems}`,
    });
    return;
  }
  const gatewayUrl = context.gatewayUrl(request);
  if (gatewayUrl === null) {
    sendError(response, 400, {
      code: 'invalid-request',
      message: 'The request has no usable Host header.',
    });
    return;
  }
  const outcome = await enrollAgent(context.db, parsed.data);
  if (!outcome.ok) {
    if (outcome.reason === 'public-key-in-use') {
      sendError(response, 409, {
        code: 'public-key-in-use',
        message: 'Another agent is enrolled with this public key; generate a new key pair.',
      });
      return;
    }
    const verdict = await hitThrottle(
      context.db,
      enrollBadTokenKey(address),
      context.rules.badTokensPerAddress,
    );
    if (!verdict.allowed) {
      context.log.warn('Enrollment tokens keep failing from one address; refusing it a while.', {
        remote: address,
      });
    }
    sendError(response, 401, {
      code: 'invalid-token',
      message: 'The enrollment token is unknown, already used or expired. Ask for a new one.',
    });
    return;
  }
  const body: EnrollResponse = EnrollResponseSchema.parse({
    agentId: outcome.agentId,
    siteId: outcome.siteId,
    commandSigningKey: context.signer.publicKey,
    gatewayUrl,
  });
  context.log.info('Agent enrolled.', {
    agentId: outcome.agentId,
    siteId: outcome.siteId,
    name: parsed.data.name,
    agentVersion: parsed.data.agentVersion,
  });
  sendJson(response, 201, body);
}

/** Runs the handler; a failure becomes a 500 whose body says nothing about the request. */
export function serveEnrollRequest(
  request: IncomingMessage,
  response: ServerResponse,
  context: EnrollEndpointContext,
): void {
  handleEnrollRequest(request, response, context).catch((error: unknown) => {
    context.log.error('Enrollment failed.', { error: errorText(error) });
    if (response.headersSent) {
      response.destroy();
      return;
    }
    sendError(response, 500, {
      code: 'internal',
      message:
        'Enrollment failed on the server; try again, and tell the administrator if it persists.',
    });
  });
}
