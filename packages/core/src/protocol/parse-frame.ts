import type { z } from 'zod';
import { err, ok } from '../result.ts';
import type { Result } from '../result.ts';
import { AgentMessageSchema, MAX_FRAME_BYTES, ServerMessageSchema } from './messages.ts';
import type { AgentMessage, ServerMessage } from './messages.ts';

export interface FrameError {
  code: 'frame-too-large' | 'not-json' | 'invalid-message';
  message: string;
  /** The message id when the frame was JSON with a readable id, so the error can refer to it. */
  refId?: string;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map(
      (issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(message)'}: ${issue.message}`,
    )
    .join('; ');
}

function utf8Length(text: string): number {
  let bytes = 0;
  for (let index = 0; index < text.length; index += 1) {
    const unit = text.charCodeAt(index);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff) {
      bytes += 4;
      index += 1;
    } else bytes += 3;
  }
  return bytes;
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
  const parsed = schema.safeParse(json);
  if (parsed.success) return ok(parsed.data);
  const id = typeof json === 'object' && json !== null ? (json as { id?: unknown }).id : undefined;
  const type =
    typeof json === 'object' && json !== null ? (json as { type?: unknown }).type : undefined;
  return err({
    code: 'invalid-message',
    message: `Invalid ${typeof type === 'string' ? `"${type.slice(0, 40)}" ` : ''}message: ${describeIssues(parsed.error)}`,
    ...(typeof id === 'string' && /^[0-9a-f-]{36}$/i.test(id) ? { refId: id } : {}),
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
