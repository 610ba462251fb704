import type { z } from 'zod';

import { decodeText } from './decode-text.ts';
import type { ParseContext, VapixRequest, VapixResponse } from './request.ts';
import type { CallClass } from './types.ts';
import { VapixApiError, VapixMalformedResponseError } from './vapix-error.ts';

export interface JsonRpcEnvelope {
  /** The device's version, often higher than requested (reference §7.3). */
  apiVersion: string | undefined;
  /** Echoes are optional: 10.12+ omit `method` when no context was sent. */
  method: string | undefined;
  context: string | undefined;
  data: unknown;
}

export interface JsonRpcResult<T> {
  apiVersion: string | undefined;
  data: T;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

/**
 * Reads the JSON-RPC style envelope AXIS CGIs use. Errors arrive with HTTP 200 (reference
 * §7.3), so an `error` member always becomes a VapixApiError, whatever the status.
 */
export function parseJsonRpcEnvelope(text: string, context?: ParseContext): JsonRpcEnvelope {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new VapixMalformedResponseError('the response is not JSON', { ...context, cause: error });
  }
  if (!isRecord(json)) {
    throw new VapixMalformedResponseError('the response is not a JSON object', context);
  }
  if (json.error !== undefined && json.error !== null) {
    const { error } = json;
    const code = isRecord(error) ? error.code : undefined;
    const numericCode =
      typeof code === 'number' ? code : typeof code === 'string' ? Number(code) : NaN;
    if (!isRecord(error) || !Number.isFinite(numericCode)) {
      throw new VapixMalformedResponseError(
        'the response carries an unreadable error object',
        context,
      );
    }
    const message = typeof error.message === 'string' ? error.message : '';
    throw new VapixApiError(numericCode, message, context);
  }
  return {
    apiVersion: optionalString(json.apiVersion),
    method: optionalString(json.method),
    context: optionalString(json.context),
    data: json.data ?? {},
  };
}

/** Parses the envelope from a response and validates `data` with a schema. */
export function parseJsonRpcResponse<T>(
  response: VapixResponse,
  schema: z.ZodType<T>,
  context?: ParseContext,
): JsonRpcResult<T> {
  const envelope = parseJsonRpcEnvelope(decodeText(response.body, response.contentType), context);
  const result = schema.safeParse(envelope.data);
  if (!result.success) {
    const issues = result.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.map(String).join('.') || 'data'}: ${issue.message}`)
      .join('; ');
    throw new VapixMalformedResponseError(
      `the response data has an unexpected shape (${issues})`,
      context,
    );
  }
  return { apiVersion: envelope.apiVersion, data: result.data };
}

export interface JsonRpcCall<D, T> {
  path: string;
  method: string;
  apiVersion: string;
  params?: Record<string, unknown>;
  callClass?: CallClass;
  longPollSeconds?: number;
  anonymous?: boolean;
  data: z.ZodType<D>;
  map: (result: JsonRpcResult<D>) => T;
}

/** Sent as `context` so replies can be matched; it names this library, nothing more. */
export const JSON_RPC_CONTEXT = 'vapix';

/** A POST JSON-RPC request (JSON APIs are POST-only, reference §7.13). */
export function jsonRpcRequest<D, T>(call: JsonRpcCall<D, T>): VapixRequest<T> {
  const body: Record<string, unknown> = {
    apiVersion: call.apiVersion,
    context: JSON_RPC_CONTEXT,
    method: call.method,
  };
  if (call.params !== undefined) body.params = call.params;
  return {
    method: 'POST',
    path: call.path,
    body: { type: 'json', value: body },
    callClass: call.callClass ?? 'normal',
    ...(call.longPollSeconds !== undefined ? { longPollSeconds: call.longPollSeconds } : {}),
    ...(call.anonymous === true ? { anonymous: true } : {}),
    parse: (response, context) => call.map(parseJsonRpcResponse(response, call.data, context)),
  };
}
