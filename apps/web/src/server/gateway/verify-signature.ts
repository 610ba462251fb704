import { createPublicKey, verify } from 'node:crypto';

/**
 * Verifies an Ed25519 signature (base64 of 64 bytes) over UTF-8 text with a public key given as
 * base64 DER SubjectPublicKeyInfo. False for a wrong signature and for a malformed key or
 * signature; never throws.
 */
export function verifySignature(publicKey: string, text: string, signature: string): boolean {
  try {
    const key = createPublicKey({
      key: Buffer.from(publicKey, 'base64'),
      format: 'der',
      type: 'spki',
    });
    if (key.asymmetricKeyType !== 'ed25519') return false;
    const bytes = Buffer.from(signature, 'base64');
    if (bytes.length !== 64) return false;
    return verify(null, Buffer.from(text, 'utf8'), key, bytes);
  } catch {
    return false;
  }
}
