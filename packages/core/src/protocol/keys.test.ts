import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Ed25519PublicKeySchema, Ed25519SignatureSchema, NonceSchema } from './keys.ts';

// Real keys from node:crypto, so the schemas are checked against the encodings callers produce.
const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const spki = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const signature = sign(null, Buffer.from('custody'), privateKey).toString('base64');

describe('Ed25519PublicKeySchema', () => {
  it('accepts the base64 DER SubjectPublicKeyInfo of a real Ed25519 key', () => {
    expect(Ed25519PublicKeySchema.parse(spki)).toBe(spki);
  });

  it('refuses a key of another algorithm, a raw 32-byte key and a PEM', () => {
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .publicKey.export({ type: 'spki', format: 'der' })
      .toString('base64');
    const raw = Buffer.from(spki, 'base64').subarray(12).toString('base64');
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    for (const key of [p256, raw, pem, `${spki}\n`]) {
      const result = Ed25519PublicKeySchema.safeParse(key);
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.message).toMatch(/SubjectPublicKeyInfo/);
    }
  });
});

describe('Ed25519SignatureSchema', () => {
  it('accepts the base64 of a real 64-byte signature', () => {
    expect(Ed25519SignatureSchema.parse(signature)).toBe(signature);
  });

  it('refuses a signature one byte short or in base64url', () => {
    const short = Buffer.from(signature, 'base64').subarray(1).toString('base64');
    const url = Buffer.from(signature, 'base64').toString('base64url');
    expect(Ed25519SignatureSchema.safeParse(short).success).toBe(false);
    expect(Ed25519SignatureSchema.safeParse(url).success).toBe(false);
  });
});

describe('NonceSchema', () => {
  it('accepts 16 to 64 random bytes in base64 or base64url', () => {
    for (const bytes of [16, 32, 64]) {
      const value = Buffer.alloc(bytes, 0xfb);
      expect(NonceSchema.safeParse(value.toString('base64')).success).toBe(true);
      expect(NonceSchema.safeParse(value.toString('base64url')).success).toBe(true);
    }
  });

  it('refuses a nonce that is too short to be unguessable or too long to be one', () => {
    expect(NonceSchema.safeParse(Buffer.alloc(15).toString('base64url')).success).toBe(false);
    expect(NonceSchema.safeParse(Buffer.alloc(67).toString('base64url')).success).toBe(false);
    expect(NonceSchema.safeParse('not a nonce at all, has spaces').success).toBe(false);
  });
});
