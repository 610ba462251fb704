import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Result } from '../result.ts';
import { AgentErrorMessageSchema, MAX_FRAME_BYTES, MAX_FRAME_DEPTH } from './messages.ts';
import { parseAgentFrame, parseServerFrame } from './parse-frame.ts';
import type { FrameError } from './parse-frame.ts';

const MESSAGE_ID = '0e5d7c3a-1f2b-4d8e-9a6c-3b7f1e2d4c5a';
const COMMAND_ID = '7f1a3b5c-9d2e-4f60-a1b3-c5d7e9f0a2b4';

const ACK = {
  v: 1,
  id: MESSAGE_ID,
  type: 'command-ack',
  sentAt: '2031-04-02T10:00:00Z',
  commandId: COMMAND_ID,
};
const SERVER_HEARTBEAT = {
  v: 1,
  id: MESSAGE_ID,
  type: 'heartbeat',
  sentAt: '2031-04-02T10:00:00Z',
  serverTime: '2031-04-02T10:00:00Z',
};
const SNAPSHOT = {
  v: 1,
  id: MESSAGE_ID,
  type: 'inventory-snapshot',
  sentAt: '2031-04-02T10:00:00Z',
  snapshotId: COMMAND_ID,
  part: 1,
  parts: 1,
  cameras: [],
};

function frameError(result: Result<unknown, FrameError>): FrameError {
  if (result.ok) throw new Error('expected the frame to be refused');
  return result.error;
}

/** A JSON string literal of exactly `bytes` UTF-8 bytes, made of `unit` (2 bytes per "é"). */
function jsonStringOfBytes(bytes: number, unit: string, unitBytes: number): string {
  const units = Math.floor((bytes - 2) / unitBytes);
  return `"${unit.repeat(units)}${'a'.repeat(bytes - 2 - units * unitBytes)}"`;
}

describe('parseAgentFrame and parseServerFrame', () => {
  it('return the parsed message for a valid frame', () => {
    expect(parseAgentFrame(JSON.stringify(ACK))).toEqual({ ok: true, value: ACK });
    expect(parseServerFrame(JSON.stringify(SERVER_HEARTBEAT))).toEqual({
      ok: true,
      value: SERVER_HEARTBEAT,
    });
  });

  it('refuse a message meant for the other direction', () => {
    expect(frameError(parseServerFrame(JSON.stringify(ACK))).code).toBe('invalid-message');
  });

  it.each(['', '{', 'hello', '{"v":1,}', "{'v':1}"])('call %j not JSON', (text) => {
    expect(frameError(parseAgentFrame(text))).toEqual({
      code: 'not-json',
      message: 'The frame is not JSON.',
    });
  });

  it('refuse a frame of 600,000 "é" as too large, counting two UTF-8 bytes each', () => {
    const text = 'é'.repeat(600_000);
    expect(text.length).toBeLessThan(MAX_FRAME_BYTES);
    expect(frameError(parseAgentFrame(text)).code).toBe('frame-too-large');
    expect(frameError(parseServerFrame(text)).code).toBe('frame-too-large');
  });

  it.each([
    ['ASCII', 'a', 1],
    ['two-byte', 'é', 2],
    ['three-byte', '€', 3],
    ['four-byte (surrogate pairs)', '😀', 4],
    ['lone surrogates, encoded as U+FFFD', '\ud800é', 5],
  ])('accept exactly the maximum size and refuse one byte more, for %s text', (_, unit, size) => {
    const atLimit = jsonStringOfBytes(MAX_FRAME_BYTES, unit, size);
    const overLimit = jsonStringOfBytes(MAX_FRAME_BYTES + 1, unit, size);
    expect(new TextEncoder().encode(atLimit).length).toBe(MAX_FRAME_BYTES);
    expect(new TextEncoder().encode(overLimit).length).toBe(MAX_FRAME_BYTES + 1);
    // A JSON string is not a message, so a frame within the limit gets past the size check only.
    expect(frameError(parseAgentFrame(atLimit)).code).toBe('invalid-message');
    expect(frameError(parseAgentFrame(overLimit))).toEqual({
      code: 'frame-too-large',
      message: `A frame may be at most ${MAX_FRAME_BYTES} bytes.`,
    });
  });

  it('name the message type and the path of what is wrong, and refer to the message id', () => {
    const frame = JSON.stringify({ ...SNAPSHOT, cameras: [{ serial: 'nope' }] });
    const error = frameError(parseAgentFrame(frame));
    expect(error.code).toBe('invalid-message');
    expect(error.message).toMatch(/^Invalid "inventory-snapshot" message: cameras\.0\.serial: /);
    expect(error.refId).toBe(MESSAGE_ID);
  });

  it('describe at most three problems', () => {
    const error = frameError(parseAgentFrame(JSON.stringify({ id: MESSAGE_ID, type: 'hello' })));
    expect(error.message.split('; ')).toHaveLength(3);
  });

  it('say "(message)" when the whole value is wrong', () => {
    expect(frameError(parseAgentFrame('[1,2]')).message).toMatch(/^Invalid message: \(message\): /);
    expect(frameError(parseAgentFrame('null')).refId).toBeUndefined();
  });

  it('give no refId when the id is missing or is not a message id', () => {
    const { id: _id, ...withoutId } = ACK;
    const frames = [
      { ...withoutId, commandId: 'x' },
      { ...ACK, id: '-'.repeat(36), commandId: 'x' },
      { ...ACK, id: 42, commandId: 'x' },
    ];
    for (const frame of frames) {
      const error = frameError(parseAgentFrame(JSON.stringify(frame)));
      expect(error.code).toBe('invalid-message');
      expect(error).not.toHaveProperty('refId');
    }
  });

  it('cut a long message type short in the error', () => {
    const error = frameError(parseAgentFrame(JSON.stringify({ ...ACK, type: 't'.repeat(500) })));
    expect(error.message).toContain(`"${'t'.repeat(40)}"`);
    expect(error.message).not.toContain('t'.repeat(41));
  });

  it('refuse a frame nested deeper than the limit without overflowing the stack', () => {
    const depth = 200_000;
    const deep = `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const frame = JSON.stringify({
      v: 1,
      id: MESSAGE_ID,
      type: 'command-result',
      sentAt: '2031-04-02T10:00:00Z',
      commandId: COMMAND_ID,
      outcome: 'succeeded',
      result: { value: 0 },
      error: null,
      replayed: false,
    }).replace('{"value":0}', `{"value":${deep}}`);
    const error = frameError(parseAgentFrame(frame));
    expect(error).toEqual({
      code: 'invalid-message',
      message: `A message may be nested at most ${MAX_FRAME_DEPTH} levels deep.`,
      refId: MESSAGE_ID,
    });
    expect(frameError(parseServerFrame(deep)).code).toBe('invalid-message');
  });

  it('accept nesting up to the limit', () => {
    // The message is level 1, result level 2, so 30 more arrays reach the limit exactly.
    const nested = (levels: number): unknown => (levels === 0 ? 0 : [nested(levels - 1)]);
    const result = (levels: number) => ({
      v: 1,
      id: MESSAGE_ID,
      type: 'command-result',
      sentAt: '2031-04-02T10:00:00Z',
      commandId: COMMAND_ID,
      outcome: 'succeeded',
      result: { value: nested(levels) },
      error: null,
      replayed: false,
    });
    expect(parseAgentFrame(JSON.stringify(result(MAX_FRAME_DEPTH - 2))).ok).toBe(true);
    expect(frameError(parseAgentFrame(JSON.stringify(result(MAX_FRAME_DEPTH - 1)))).code).toBe(
      'invalid-message',
    );
  });

  it('keep the error short enough to echo back in an error message, whatever the keys', () => {
    // 1e400 parses to Infinity, which is not a JSON value, so the issue path holds the long key.
    const longKey = 'k'.repeat(100_000);
    const frame = JSON.stringify({
      ...ACK,
      type: 'command-result',
      outcome: 'succeeded',
      error: null,
      replayed: false,
      result: { [longKey]: 0 },
    }).replace(`"${longKey}":0`, `"${longKey}":1e400`);
    const error = frameError(parseAgentFrame(frame));
    expect(error.message).toContain(`result.${'k'.repeat(40)}:`);
    expect(error.message).not.toContain('k'.repeat(41));
    const echoed = AgentErrorMessageSchema.safeParse({
      ...ACK,
      type: 'error',
      code: error.code,
      message: error.message,
      refId: error.refId,
    });
    expect(echoed.success).toBe(true);
  });

  it('never throw, and always answer with a known code, for any string', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' })), (text) => {
        for (const parse of [parseAgentFrame, parseServerFrame]) {
          const result = parse(text);
          if (!result.ok) expect(['not-json', 'invalid-message']).toContain(result.error.code);
        }
      }),
    );
  });

  it('never throw for any JSON value, and keep every error echoable', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        for (const parse of [parseAgentFrame, parseServerFrame]) {
          const result = parse(JSON.stringify(value));
          expect(result.ok).toBe(false);
          if (!result.ok) {
            expect(result.error.code).toBe('invalid-message');
            expect(result.error.message.length).toBeLessThanOrEqual(2_000);
          }
        }
      }),
    );
  });

  it('never throw for a valid message with any one field replaced by any JSON value', () => {
    const fields = [...new Set([...Object.keys(SNAPSHOT), ...Object.keys(SERVER_HEARTBEAT)])];
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.jsonValue(), (field, value) => {
        const agent = parseAgentFrame(JSON.stringify({ ...SNAPSHOT, [field]: value }));
        const server = parseServerFrame(JSON.stringify({ ...SERVER_HEARTBEAT, [field]: value }));
        for (const result of [agent, server]) {
          if (!result.ok) expect(result.error.refId).toBe(field === 'id' ? undefined : MESSAGE_ID);
        }
      }),
    );
  });
});
