import { createHash } from 'node:crypto';

/**
 * What the rotation invariant compares: a password's SHA-256 under a fixed label, never the
 * password itself, so a device reader in another process never hands a password over.
 */
export function passwordFingerprint(password: string): string {
  return createHash('sha256').update(`custody-rotation-invariant|${password}`).digest('hex');
}
