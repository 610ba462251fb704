import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256, sha256Hex } from './sha256.ts';

function nodeSha256Hex(input: string | Uint8Array): string {
  return createHash('sha256').update(input).digest('hex');
}

describe('sha256Hex', () => {
  it.each([
    ['the empty string', '', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['"abc"', 'abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    [
      'the 448-bit NIST message',
      'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq',
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    ],
    [
      'the 896-bit NIST message',
      'abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu',
      'cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1',
    ],
  ])('matches the known digest of %s', (_label, input, digest) => {
    expect(sha256Hex(input)).toBe(digest);
  });

  it('matches the known digest of one million "a"', () => {
    expect(sha256Hex('a'.repeat(1_000_000))).toBe(
      'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0',
    );
  });

  // 55, 56 and 64 bytes are where the length field stops fitting in the last block.
  it.each([55, 56, 63, 64, 65, 119, 120, 128])(
    'matches node:crypto for %i bytes around block boundaries',
    (length) => {
      const bytes = Uint8Array.from({ length }, (_, index) => (index * 31 + 7) & 0xff);
      expect(sha256Hex(bytes)).toBe(nodeSha256Hex(bytes));
    },
  );

  it('hashes strings as UTF-8', () => {
    const text = 'Zürich — カメラ 📷';
    expect(sha256Hex(text)).toBe(nodeSha256Hex(Buffer.from(text, 'utf8')));
    expect(sha256Hex(text)).toBe(sha256Hex(new TextEncoder().encode(text)));
  });

  it('hashes only the bytes of a view, not its whole buffer', () => {
    const buffer = Uint8Array.from([1, 2, 3, 4, 5, 6]);
    expect(sha256Hex(buffer.subarray(2, 4))).toBe(nodeSha256Hex(Uint8Array.from([3, 4])));
  });

  it('agrees with node:crypto on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(sha256Hex(bytes)).toBe(nodeSha256Hex(bytes));
      }),
    );
  });

  it('agrees with node:crypto on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 100 }), (text) => {
        expect(sha256Hex(text)).toBe(nodeSha256Hex(text));
      }),
    );
  });
});

describe('sha256', () => {
  it('returns the 32-byte digest that sha256Hex spells out', () => {
    const digest = sha256('abc');
    expect(digest).toBeInstanceOf(Uint8Array);
    expect(digest).toHaveLength(32);
    expect(Buffer.from(digest).toString('hex')).toBe(sha256Hex('abc'));
  });

  it('does not modify its input', () => {
    const input = Uint8Array.from([0x61, 0x62, 0x63]);
    sha256(input);
    expect(Array.from(input)).toEqual([0x61, 0x62, 0x63]);
  });
});
