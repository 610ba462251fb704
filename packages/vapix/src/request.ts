import type { z } from 'zod';

import type { CallClass } from './types.ts';

export type QueryValue = string | number | boolean;

export type RequestBody =
  { type: 'json'; value: unknown } | { type: 'form'; value: Readonly<Record<string, string>> };

export interface VapixResponse {
  status: number;
  /** Lower-case header names; repeated headers are arrays. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  contentType: string | undefined;
  body: Buffer;
}

/** Where a response came from, for the errors a parser raises. */
export interface ParseContext {
  method: string;
  path: string;
}

/** Turns a 2xx response into a value or throws a VapixError. */
export type ResponseParser<T> = (response: VapixResponse, context: ParseContext) => T;

/**
 * A VAPIX call as data (STYLE: requests are data, one `send()` does the I/O). Builders in
 * `apis/` return these; `client.send()` performs them.
 */
export interface VapixRequest<T> {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** Sent in insertion order; encoded once so the Digest `uri` matches the request line. */
  readonly query?: Readonly<Record<string, QueryValue>>;
  readonly body?: RequestBody;
  readonly callClass: CallClass;
  /** For `long-poll`: the seconds the device may hold the request. */
  readonly longPollSeconds?: number;
  /**
   * The endpoint answers without credentials (systemready, unrestricted properties, first
   * admin). No cached Digest session is sent with it, so a stale session cannot turn an
   * anonymous call into a counted login failure.
   */
  readonly anonymous?: boolean;
  /** A zod schema (body read as JSON) or a parser over the raw response. */
  readonly parse: z.ZodType<T> | ResponseParser<T>;
}

/**
 * Percent-encodes a query or form component. Everything outside RFC 3986 unreserved is
 * encoded (as K does for `: \ = space & + ? / # [ ]`, reference §2) except `,`, which
 * param.cgi group lists use literally.
 */
export function encodeComponent(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%2C/g, ',');
}

export function encodePairs(pairs: Readonly<Record<string, QueryValue>>): string {
  return Object.entries(pairs)
    .map(([key, value]) => `${encodeComponent(key)}=${encodeComponent(String(value))}`)
    .join('&');
}

/** The exact request-target: used on the request line and as the Digest `uri`. */
export function requestTargetOf(request: Pick<VapixRequest<unknown>, 'path' | 'query'>): string {
  const query = request.query === undefined ? '' : encodePairs(request.query);
  return query === '' ? request.path : `${request.path}?${query}`;
}

export function encodeBody(
  body: RequestBody | undefined,
): { contentType: string; payload: string } | undefined {
  if (body === undefined) return undefined;
  if (body.type === 'json') {
    return { contentType: 'application/json', payload: JSON.stringify(body.value) };
  }
  return { contentType: 'application/x-www-form-urlencoded', payload: encodePairs(body.value) };
}
