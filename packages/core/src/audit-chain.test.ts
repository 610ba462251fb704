import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  GENESIS_HASH,
  appendAuditEvent,
  createAuditEvent,
  hashAuditEvent,
  verifyAuditChain,
} from './audit-chain.ts';
import { canonicalJson } from './canonical-json.ts';
import { ACTOR_KINDS, AuditEventSchema } from './schemas/audit-event.ts';
import type { AuditEvent, AuditEventContent } from './schemas/audit-event.ts';

function contentAt(minute: number, data: Record<string, unknown> = {}): AuditEventContent {
  return {
    at: new Date(Date.UTC(2025, 5, 1, 12, minute)),
    actor: { kind: 'user', id: 'user-1' },
    action: 'case.transitioned',
    subject: { kind: 'case', id: 'case-1' },
    data,
  };
}

function buildChain(contents: readonly AuditEventContent[]): AuditEvent[] {
  return contents.reduce<AuditEvent[]>((chain, content) => appendAuditEvent(chain, content), []);
}

function flipHexDigit(hash: string, position: number): string {
  const index = position % hash.length;
  const replacement = hash[index] === '0' ? '1' : '0';
  return hash.slice(0, index) + replacement + hash.slice(index + 1);
}

const sampleChain = buildChain([
  contentAt(0, { to: 'triaged' }),
  contentAt(1, { to: 'awaiting-ownership' }),
  contentAt(2, { to: 'awaiting-approval', note: null }),
  contentAt(3, { to: 'approved', approvers: ['a', 'b'] }),
]);

describe('hashAuditEvent', () => {
  it('is the SHA-256 of the canonical JSON of the previous hash and the content', () => {
    const content = contentAt(0, { z: 1, a: [true] });
    const expectedJson =
      '{"content":{"action":"case.transitioned","actor":{"id":"user-1","kind":"user"},' +
      '"at":"2025-06-01T12:00:00.000Z","data":{"a":[true],"z":1},' +
      '"subject":{"id":"case-1","kind":"case"}},"prev":"' +
      GENESIS_HASH +
      '"}';
    expect(canonicalJson({ prev: GENESIS_HASH, content })).toBe(expectedJson);
    expect(hashAuditEvent(content, GENESIS_HASH)).toBe(
      createHash('sha256').update(expectedJson).digest('hex'),
    );
  });

  it('changes when the previous hash changes', () => {
    const content = contentAt(0);
    expect(hashAuditEvent(content, GENESIS_HASH)).not.toBe(
      hashAuditEvent(content, flipHexDigit(GENESIS_HASH, 5)),
    );
  });
});

describe('createAuditEvent and appendAuditEvent', () => {
  it('starts a chain at sequence 0 from the genesis hash', () => {
    const first = createAuditEvent(contentAt(0));
    expect(GENESIS_HASH).toBe('0'.repeat(64));
    expect(first).toEqual({
      seq: 0,
      prevHash: GENESIS_HASH,
      hash: hashAuditEvent(contentAt(0), GENESIS_HASH),
      content: contentAt(0),
    });
  });

  it('links each event to the hash and sequence of the one before', () => {
    expect(sampleChain.map((event) => event.seq)).toEqual([0, 1, 2, 3]);
    for (const [index, event] of sampleChain.entries()) {
      const previous = sampleChain[index - 1];
      expect(event.prevHash).toBe(previous?.hash ?? GENESIS_HASH);
      expect(event.hash).toBe(hashAuditEvent(event.content, event.prevHash));
    }
  });

  it('produces events that satisfy the audit event schema', () => {
    for (const event of sampleChain) expect(AuditEventSchema.parse(event)).toEqual(event);
  });

  it('returns a new array and leaves the given chain alone', () => {
    const before = sampleChain.slice(0, 2);
    const after = appendAuditEvent(before, contentAt(9));
    expect(before).toHaveLength(2);
    expect(after).toHaveLength(3);
    expect(after.slice(0, 2)).toEqual(before);
  });
});

describe('verifyAuditChain', () => {
  it('accepts an intact chain and reports its length and head hash', () => {
    expect(verifyAuditChain(sampleChain)).toEqual({
      ok: true,
      length: 4,
      headHash: sampleChain[3]!.hash,
    });
  });

  it('accepts an empty chain, whose head is the genesis hash', () => {
    expect(verifyAuditChain([])).toEqual({ ok: true, length: 0, headHash: GENESIS_HASH });
  });

  it('verifies a page of a longer chain from a trusted anchor', () => {
    const anchor = sampleChain[1]!;
    expect(verifyAuditChain(sampleChain.slice(2), { anchor })).toEqual({
      ok: true,
      length: 2,
      headHash: sampleChain[3]!.hash,
    });
    expect(verifyAuditChain([], { anchor })).toEqual({
      ok: true,
      length: 0,
      headHash: anchor.hash,
    });
  });

  it('refuses a page that does not follow its anchor', () => {
    const result = verifyAuditChain(sampleChain.slice(2), { anchor: sampleChain[0]! });
    expect(result).toMatchObject({ ok: false, brokenAt: 0, code: 'sequence-gap' });
    const wrongHash = verifyAuditChain(sampleChain.slice(2), {
      anchor: { seq: 1, hash: flipHexDigit(sampleChain[1]!.hash, 0) },
    });
    expect(wrongHash).toMatchObject({ ok: false, brokenAt: 0, code: 'prev-hash-mismatch' });
  });

  it('still verifies events read back as rows: other key order, same dates', () => {
    const rows = sampleChain.map((event) => ({
      hash: event.hash,
      content: {
        data: { ...event.content.data },
        subject: { id: event.content.subject.id, kind: event.content.subject.kind },
        at: new Date(event.content.at.getTime()),
        actor: { id: event.content.actor.id, kind: event.content.actor.kind },
        action: event.content.action,
      },
      prevHash: event.prevHash,
      seq: event.seq,
    }));
    expect(verifyAuditChain(rows).ok).toBe(true);
  });

  it('names the event whose content was edited', () => {
    const chain = structuredClone(sampleChain);
    chain[2]!.content.data = { to: 'approved' };
    const result = verifyAuditChain(chain);
    expect(result).toMatchObject({ ok: false, brokenAt: 2, code: 'hash-mismatch' });
    expect(!result.ok && result.reason).toMatch(/Event 2 \(seq 2\)/);
  });

  it('names the event whose hash was replaced', () => {
    const chain = structuredClone(sampleChain);
    chain[1]!.hash = flipHexDigit(chain[1]!.hash, 10);
    expect(verifyAuditChain(chain)).toMatchObject({
      ok: false,
      brokenAt: 1,
      code: 'hash-mismatch',
    });
  });

  it('names the event that was re-hashed after an edit, because its successor no longer links', () => {
    const chain = structuredClone(sampleChain);
    chain[1]!.content.actor.id = 'someone-else';
    chain[1]!.hash = hashAuditEvent(chain[1]!.content, chain[1]!.prevHash);
    expect(verifyAuditChain(chain)).toMatchObject({
      ok: false,
      brokenAt: 2,
      code: 'prev-hash-mismatch',
    });
  });

  it('names the first event after a deletion', () => {
    const chain = [...sampleChain];
    chain.splice(1, 1);
    const result = verifyAuditChain(chain);
    expect(result).toMatchObject({ ok: false, brokenAt: 1, code: 'sequence-gap' });
    expect(!result.ok && result.reason).toMatch(/sequence 2, expected 1/);
  });

  it('names the first event after a reordering', () => {
    const chain = [sampleChain[0]!, sampleChain[2]!, sampleChain[1]!, sampleChain[3]!];
    expect(verifyAuditChain(chain)).toMatchObject({ ok: false, brokenAt: 1, code: 'sequence-gap' });
  });

  it('reports content that cannot be hashed instead of throwing', () => {
    const chain = structuredClone(sampleChain);
    chain[3]!.content.data = { when: new Map() };
    const result = verifyAuditChain(chain);
    expect(result).toMatchObject({ ok: false, brokenAt: 3, code: 'unhashable' });
    expect(!result.ok && result.reason).toMatch(/non-plain object at \$\.content\.data\.when/);
  });

  describe('properties', () => {
    const contentArbitrary: fc.Arbitrary<AuditEventContent> = fc.record({
      at: fc.date({
        min: new Date('2020-01-01T00:00:00Z'),
        max: new Date('2030-01-01T00:00:00Z'),
        noInvalidDate: true,
      }),
      actor: fc.record({
        kind: fc.constantFrom(...ACTOR_KINDS),
        id: fc.string({ minLength: 1, maxLength: 12 }),
      }),
      action: fc.constantFrom('case.opened', 'case.transitioned', 'credential.revealed'),
      subject: fc.record({ kind: fc.constantFrom('case', 'camera'), id: fc.uuid() }),
      data: fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), {
        maxKeys: 3,
      }),
    });
    const chainArbitrary = fc
      .array(contentArbitrary, { minLength: 1, maxLength: 6 })
      .map(buildChain);

    type Mutation = (event: AuditEvent, choice: number) => void;
    /** Each mutation changes what is stored, in a way the canonical form can see. */
    const mutations: Record<string, Mutation> = {
      action: (event) => {
        event.content.action = `${event.content.action}.edited`;
      },
      actor: (event) => {
        event.content.actor.id = `${event.content.actor.id}!`;
      },
      actorKind: (event) => {
        event.content.actor.kind = event.content.actor.kind === 'user' ? 'system' : 'user';
      },
      at: (event, choice) => {
        event.content.at = new Date(event.content.at.getTime() + 1 + choice);
      },
      subject: (event) => {
        event.content.subject.kind = `${event.content.subject.kind}s`;
      },
      dataAdded: (event) => {
        // Wrapping the old value (or null) in an array always yields a different value.
        event.content.data = { ...event.content.data, x: [event.content.data.x ?? null] };
      },
      hash: (event, choice) => {
        event.hash = flipHexDigit(event.hash, choice);
      },
      prevHash: (event, choice) => {
        event.prevHash = flipHexDigit(event.prevHash, choice);
      },
      seq: (event, choice) => {
        event.seq += choice % 2 === 0 ? 1 + choice : -1 - choice;
      },
    };

    it('detects any single mutation of any event at exactly that index', () => {
      fc.assert(
        fc.property(
          chainArbitrary,
          fc.nat(),
          fc.constantFrom(...Object.keys(mutations)),
          fc.nat(200),
          (chain, position, mutationName, choice) => {
            expect(verifyAuditChain(chain).ok).toBe(true);
            const index = position % chain.length;
            const tampered = structuredClone(chain);
            mutations[mutationName]!(tampered[index]!, choice);
            const result = verifyAuditChain(tampered);
            expect(result.ok).toBe(false);
            expect(!result.ok && result.brokenAt).toBe(index);
          },
        ),
      );
    });

    it('detects a forged event that was re-linked into the chain at the event after it', () => {
      fc.assert(
        fc.property(chainArbitrary, fc.nat(), contentArbitrary, (chain, position, content) => {
          const index = position % chain.length;
          const original = chain[index]!;
          fc.pre(canonicalJson(content) !== canonicalJson(original.content));
          const forged = createAuditEvent(content, chain[index - 1]);
          const result = verifyAuditChain(chain.with(index, forged));
          if (index < chain.length - 1) {
            expect(result).toMatchObject({ ok: false, brokenAt: index + 1 });
          } else {
            // A forged head links correctly; it shows as a head hash that differs from the stored one.
            expect(result).toEqual({ ok: true, length: chain.length, headHash: forged.hash });
            expect(forged.hash).not.toBe(original.hash);
          }
        }),
      );
    });

    it('detects deleting any event except the head at the index it leaves empty', () => {
      fc.assert(
        fc.property(chainArbitrary, fc.nat(), (chain, position) => {
          fc.pre(chain.length > 1);
          const index = position % (chain.length - 1);
          const result = verifyAuditChain(chain.toSpliced(index, 1));
          expect(result).toMatchObject({ ok: false, brokenAt: index });
        }),
      );
    });
  });
});
