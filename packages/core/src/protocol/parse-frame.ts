import type { z } from 'zod';
import { err, ok } from '../result.ts';
import type { Result } from '../result.ts';
import { IdSchema } from '../schemas/common.ts';
import {
  AgentMessageSchema,
  MAX_FRAME_BYTES,
  MAX_FRAME_DEPTH,
  ServerMessageSchema,
} from './messages.ts';
import type { AgentMessage, ServerMessage } from './messages.ts';

export interface FrameError {
  code: 'frame-too-large' | 'not-json' | 'invalid-message';
  message: string;
  /** The message id when the frame was JSON with a readable id, so the error can refer to it. */
  refId?: string;
}

// The error text is echoed to the peer in an `error` message, whose text is at most 2,000
// characters. Issue paths can hold peer-chosen keys of any length, hence the cut per segment; the
// overall cut is a backstop for future schemas (three of today's issues stay well under it).
const MAX_PATH_SEGMENT = 40;
const MAX_ISSUES_TEXT = 1_000;

function describePath(path: readonly PropertyKey[], rootLabel: string): string {
  if (path.length === 0) return rootLabel;
  return path.map((segment) => String(segment).slice(0, MAX_PATH_SEGMENT)).join('.');
}

/**
 * The first three issues of a failed parse as one line of at most 1,000 characters, paths cut
 * short, fit to send back to a peer. `rootLabel` names the value itself when an issue has no path.
 */
export function describeIssues(error: z.ZodError, rootLabel = '(message)'): string {
  const text = error.issues
    .slice(0, 3)
    .map((issue) => `${describePath(issue.path, rootLabel)}: ${issue.message}`)
    .join('; ');
  return text.length > MAX_ISSUES_TEXT ? `${text.slice(0, MAX_ISSUES_TEXT - 1)}…` : text;
}

function utf8Length(text: string): number {
  let bytes = 0;
  for (let index = 0; index < text.length; index += 1) {
    const unit = text.charCodeAt(index);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && isLowSurrogate(text.charCodeAt(index + 1))) {
      bytes += 4;
      index += 1;
    } else bytes += 3; // includes a lone surrogate, which an encoder replaces with U+FFFD
  }
  return bytes;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

/** Walks without recursion, so the check itself cannot overflow the stack it protects. */
function isNestedDeeperThan(value: unknown, limit: number): boolean {
  const pending: Array<{ value: unknown; depth: number }> = [{ value, depth: 1 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (typeof next.value !== 'object' || next.value === null) continue;
    if (next.depth > limit) return true;
    for (const child of Object.values(next.value)) {
      pending.push({ value: child, depth: next.depth + 1 });
    }
  }
  return false;
}

function readableIdOf(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const id = IdSchema.safeParse((json as { id?: unknown }).id);
  return id.success ? id.data : undefined;
}

function parseFrame<T>(text: string, schema: z.ZodType<T>): Result<T, FrameError> {
  // A UTF-16 unit is at least one UTF-8 byte, so the length check rejects most oversized frames
  // without encoding them.
  if (text.length > MAX_FRAME_BYTES || utf8Length(text) > MAX_FRAME_BYTES) {
    return err({
      code: 'frame-too-large',
      message: `A frame may be at most ${MAX_FRAME_BYTES} bytes.`,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return err({ code: 'not-json', message: 'The frame is not JSON.' });
  }
  const refId = readableIdOf(json);
  if (isNestedDeeperThan(json, MAX_FRAME_DEPTH)) {
    return err({
      code: 'invalid-message',
      message: `A message may be nested at most ${MAX_FRAME_DEPTH} levels deep.`,
      ...(refId === undefined ? {} : { refId }),
    });
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return ok(parsed.data);
  const type =
    typeof json === 'object' && json !== null ? (json as { type?: unknown }).type : undefined;
  return err({
    code: 'invalid-message',
    message: `Invalid ${typeof type === 'string' ? `"${type.slice(0, 40)}" ` : ''}message: ${describeIssues(parsed.error)}`,
    ...(refId === undefined ? {} : { refId }),
  });
}

/** Parses one text frame from an agent. Never throws; the error says what was wrong and where. */
export function parseAgentFrame(text: string): Result<AgentMessage, FrameError> {
  return parseFrame(text, AgentMessageSchema);
}

/** Parses one text frame from the server. Never throws. */
export function parseServerFrame(text: string): Result<ServerMessage, FrameError> {
  return parseFrame(text, ServerMessageSchema);
}
