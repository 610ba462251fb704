import { Ed25519PublicKeySchema, Ed25519SignatureSchema } from '@custody/core';
import { describe, expect, it } from 'vitest';
import { generateKeyPair, signText, verifyText } from './ed25519.ts';

describe('ed25519', () => {
  it('makes keys and signatures in the shapes the protocol schemas accept', () => {
    const keys = generateKeyPair();
    expect(Ed25519PublicKeySchema.safeParse(keys.publicKey).success).toBe(true);
    const signature = signText(keys.privateKeyPem, 'hello');
    expect(Ed25519SignatureSchema.safeParse(signature).success).toBe(true);
    expect(keys.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('verifies a signature only for the same text and the same key', () => {
    const keys = generateKeyPair();
    const other = generateKeyPair();
    const signature = signText(keys.privateKeyPem, 'custody');
    expect(verifyText(keys.publicKey, 'custody', signature)).toBe(true);
    expect(verifyText(keys.publicKey, 'custodY', signature)).toBe(false);
    expect(verifyText(other.publicKey, 'custody', signature)).toBe(false);
  });

  it('answers false instead of throwing for malformed keys and signatures', () => {
    const keys = generateKeyPair();
    const signature = signText(keys.privateKeyPem, 'x');
    expect(verifyText('not a key', 'x', signature)).toBe(false);
    expect(verifyText(keys.publicKey, 'x', 'AAAA')).toBe(false);
    expect(verifyText(keys.publicKey, 'x', signature.slice(0, -4) + '====')).toBe(false);
  });
});
