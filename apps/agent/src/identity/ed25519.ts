import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/*
 * Ed25519 over node:crypto. Public keys travel as base64 DER SubjectPublicKeyInfo (the shape
 * core's Ed25519PublicKeySchema checks); private keys stay in PKCS#8 PEM inside the agent's
 * identity file and never leave it.
 */

export interface KeyPair {
  publicKey: string;
  privateKeyPem: string;
}

export function generateKeyPair(): KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

export function publicKeyObject(publicKey: string): KeyObject {
  return createPublicKey({ key: Buffer.from(publicKey, 'base64'), format: 'der', type: 'spki' });
}

/** Signs UTF-8 text; returns the 64-byte signature in base64. */
export function signText(privateKey: KeyObject | string, text: string): string {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  return sign(null, Buffer.from(text, 'utf8'), key).toString('base64');
}

/** False for a wrong signature, a malformed key or a malformed signature; never throws. */
export function verifyText(
  publicKey: KeyObject | string,
  text: string,
  signature: string,
): boolean {
  try {
    const key = typeof publicKey === 'string' ? publicKeyObject(publicKey) : publicKey;
    const bytes = Buffer.from(signature, 'base64');
    if (bytes.length !== 64) return false;
    return verify(null, Buffer.from(text, 'utf8'), key, bytes);
  } catch {
    return false;
  }
}
