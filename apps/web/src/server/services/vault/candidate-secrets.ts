import { credentialCandidates } from '@custody/db/schema';
import { and, eq } from 'drizzle-orm';
import type { Executor } from '../executor.ts';
import type { Sealed, Vault } from './vault.ts';

/**
 * The additional authenticated data of a credential candidate's ciphertext. The id is part of
 * it, so the row's id is chosen (randomUUID) before sealing.
 */
export function candidateAad(serial: string, id: string): string {
  return `candidate|${serial}|${id}`;
}

/** Seals a candidate password the technician typed, for a credential_candidates row `id`. */
export function sealCandidatePassword(
  vault: Vault,
  candidate: { id: string; serial: string; password: string },
): Sealed {
  return vault.seal(candidate.password, candidateAad(candidate.serial, candidate.id));
}

/**
 * A credential candidate, decrypted, if it was entered for `serial` (null otherwise): a
 * candidate is only ever tried against the camera it was typed for.
 */
export async function readCandidateForSerial(
  executor: Executor,
  vault: Vault,
  id: string,
  serial: string,
): Promise<{ id: string; username: string; password: string } | null> {
  const [row] = await executor
    .select()
    .from(credentialCandidates)
    .where(and(eq(credentialCandidates.id, id), eq(credentialCandidates.serial, serial)));
  if (!row) return null;
  const password = await vault.open(row, candidateAad(row.serial, row.id));
  return { id: row.id, username: row.username, password };
}
