import { readFileSync } from 'node:fs';
import { createPublicKey, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { COMMAND_REFUSALS, CommandPayloadSchema, checkCommandBinding } from './command-payload.ts';
import {
  AgentMessageSchema,
  CLOSE_CODES,
  EnrollRequestSchema,
  EnrollResponseSchema,
  MAX_CAMERAS_PER_FRAME,
  MAX_FRAME_BYTES,
  MAX_FRAME_DEPTH,
  ServerMessageSchema,
} from './messages.ts';
import { PROTOCOL_VERSION } from './protocol-version.ts';
import type { AgentMessage, ServerMessage } from './messages.ts';
import { authSigningText, commandSigningText } from './signing.ts';

/*
 * docs/protocol.md is what people write servers and agents from, so its examples are checked here
 * against the schemas and its signatures against its keys; the document cannot drift silently.
 */

const DOC = readFileSync(new URL('../../../../docs/protocol.md', import.meta.url), 'utf8');

const SCHEMAS = {
  agent: AgentMessageSchema,
  server: ServerMessageSchema,
  'enroll-request': EnrollRequestSchema,
  'enroll-response': EnrollResponseSchema,
} satisfies Record<string, z.ZodType>;
type Tag = keyof typeof SCHEMAS;

interface Block {
  lang: string;
  tag: string;
  body: string;
  line: number;
}

function codeBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  for (const match of markdown.matchAll(/^```(\S*)[ \t]*(\S*)\n([\s\S]*?)^```$/gm)) {
    const line = markdown.slice(0, match.index).split('\n').length;
    blocks.push({ lang: match[1]!, tag: match[2]!, body: match[3]!, line });
  }
  return blocks;
}

const blocks = codeBlocks(DOC);
const jsonBlocks = blocks.filter((block) => block.lang === 'json');

function examples<T extends Tag>(tag: T): Array<z.output<(typeof SCHEMAS)[T]>> {
  return jsonBlocks
    .filter((block) => block.tag === tag)
    .map((block) => SCHEMAS[tag].parse(JSON.parse(block.body)) as z.output<(typeof SCHEMAS)[T]>);
}

function only<T>(items: T[], what: string): T {
  expect(items, what).toHaveLength(1);
  return items[0]!;
}

function textBlock(tag: string): string {
  return only(
    blocks.filter((block) => block.lang === 'text' && block.tag === tag),
    tag,
  ).body.replace(/\n$/, '');
}

function verifies(publicKey: string, text: string, signature: string): boolean {
  const key = createPublicKey({
    key: Buffer.from(publicKey, 'base64'),
    format: 'der',
    type: 'spki',
  });
  return verify(null, Buffer.from(text, 'utf8'), key, Buffer.from(signature, 'base64'));
}

describe('docs/protocol.md', () => {
  it('tags every JSON example with the schema that checks it', () => {
    expect(jsonBlocks.length).toBeGreaterThan(10);
    for (const block of jsonBlocks) {
      expect(Object.keys(SCHEMAS), `json block at line ${block.line}`).toContain(block.tag);
    }
  });

  it.each(jsonBlocks.map((block) => [block.tag, block.line, block] as const))(
    'has a valid %s example at line %i',
    (tag, _line, block) => {
      const result = SCHEMAS[tag as Tag].safeParse(JSON.parse(block.body));
      expect(result.error?.issues ?? []).toEqual([]);
    },
  );

  it('shows an example of every message type in both directions', () => {
    const agentTypes = new Set(examples('agent').map((message: AgentMessage) => message.type));
    const serverTypes = new Set(examples('server').map((message: ServerMessage) => message.type));
    expect([...agentTypes].sort()).toEqual(
      AgentMessageSchema.options.map((option) => option.shape.type.value).sort(),
    );
    expect([...serverTypes].sort()).toEqual(
      ServerMessageSchema.options.map((option) => option.shape.type.value).sort(),
    );
  });

  it('names every refusal code, close code, limit and the current version', () => {
    for (const code of COMMAND_REFUSALS) expect(DOC).toContain(`\`${code}\``);
    for (const [name, code] of Object.entries(CLOSE_CODES)) {
      expect(DOC).toMatch(new RegExp(`\\| ${code} \\| \`${name}\` +\\|`));
    }
    const grouped = (value: number) => value.toLocaleString('en-US');
    expect(DOC).toContain(`\`MAX_FRAME_BYTES\` = **${grouped(MAX_FRAME_BYTES)} bytes**`);
    expect(DOC).toContain(`\`MAX_FRAME_DEPTH\` = **${MAX_FRAME_DEPTH}**`);
    expect(DOC).toContain(`\`MAX_CAMERAS_PER_FRAME\` = ${grouped(MAX_CAMERAS_PER_FRAME)}`);
    expect(DOC).toContain(`(currently **${PROTOCOL_VERSION}**)`);
  });

  it('uses a distinct id for every example message', () => {
    const ids = [...examples('agent'), ...examples('server')].map((message) => message.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('shows a hello whose signature verifies with the enrolled key over the challenge', () => {
    const enrollment = only(examples('enroll-request'), 'enroll-request');
    const enrolled = only(examples('enroll-response'), 'enroll-response');
    const challenge = only(
      examples('server').filter((message) => message.type === 'challenge'),
      'challenge',
    );
    const hello = only(
      examples('agent').filter((message) => message.type === 'hello'),
      'hello',
    );
    expect(hello.agentId).toBe(enrolled.agentId);
    expect(hello.gatewayUrl).toBe(enrolled.gatewayUrl);
    const text = authSigningText({
      agentId: hello.agentId,
      nonce: challenge.nonce,
      gatewayUrl: hello.gatewayUrl,
    });
    expect(textBlock('auth-signing-text')).toBe(text);
    expect(verifies(enrollment.publicKey, text, hello.signature)).toBe(true);
    expect(verifies(enrollment.publicKey, `${text} `, hello.signature)).toBe(false);
  });

  it('shows a command that verifies with the server key, parses and passes its binding', () => {
    const enrolled = only(examples('enroll-response'), 'enroll-response');
    const command = only(
      examples('server').filter((message) => message.type === 'command'),
      'command',
    );
    const text = commandSigningText(command.payload);
    expect(textBlock('command-signing-text')).toBe(text);
    expect(verifies(enrolled.commandSigningKey, text, command.signature)).toBe(true);
    const payload = CommandPayloadSchema.parse(command.payload);
    const binding = checkCommandBinding(payload, {
      agentId: enrolled.agentId,
      siteId: enrolled.siteId,
      now: new Date(command.sentAt),
    });
    expect(binding).toBeNull();
  });
});
