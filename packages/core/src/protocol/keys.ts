import { z } from 'zod';

/*
 * Ed25519 keys and signatures travel as base64 of their standard encodings: a public key as its
 * DER SubjectPublicKeyInfo (44 bytes, always starting with the same 12-byte Ed25519 header, which
 * is "MCowBQYDK2VwAyEA" in base64), a signature as its 64 raw bytes. Checking the shape here means
 * a malformed key is refused with a clear message before any crypto library sees it.
 */
export const Ed25519PublicKeySchema = z
  .string()
  .regex(
    /^MCowBQYDK2VwAyEA[A-Za-z0-9+/]{43}=$/,
    'An Ed25519 public key is the base64 of its 44-byte SubjectPublicKeyInfo.',
  );
export type Ed25519PublicKey = z.infer<typeof Ed25519PublicKeySchema>;

export const Ed25519SignatureSchema = z
  .string()
  .regex(/^[A-Za-z0-9+/]{86}==$/, 'An Ed25519 signature is the base64 of 64 bytes.');

/** Random one-time values (challenges, command nonces): base64 or base64url of 16 to 64 bytes. */
export const NonceSchema = z
  .string()
  .regex(/^[A-Za-z0-9+/_-]{22,88}={0,2}$/, 'A nonce is the base64 of 16 to 64 random bytes.');
