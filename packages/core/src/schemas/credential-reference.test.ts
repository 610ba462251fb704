import { describe, expect, it } from 'vitest';
import { CREDENTIAL_ACCOUNTS, CredentialReferenceSchema } from './credential-reference.ts';

const REFERENCE = {
  id: '3f1c2a9e-8b4d-4c6e-9f00-1a2b3c4d5e6f',
  serial: 'e8-27-25-00-00-01',
  account: 'service',
  username: 'custody',
  version: 2,
  createdAt: '2025-06-01T09:00:00Z',
};

describe('CredentialReferenceSchema', () => {
  it('points at a vault entry by id, account and version', () => {
    expect(CREDENTIAL_ACCOUNTS).toEqual(['admin', 'service', 'vms']);
    expect(CredentialReferenceSchema.parse(REFERENCE)).toEqual({
      ...REFERENCE,
      serial: 'E82725000001',
      createdAt: new Date('2025-06-01T09:00:00Z'),
    });
  });

  it('refuses to carry a password or any other unknown field', () => {
    expect(CredentialReferenceSchema.safeParse({ ...REFERENCE, password: 'hunter2' }).success).toBe(
      false,
    );
    expect(CredentialReferenceSchema.safeParse({ ...REFERENCE, secret: 'x' }).success).toBe(false);
  });

  it('rejects version 0, fractional versions and unknown accounts', () => {
    expect(CredentialReferenceSchema.safeParse({ ...REFERENCE, version: 0 }).success).toBe(false);
    expect(CredentialReferenceSchema.safeParse({ ...REFERENCE, version: 1.5 }).success).toBe(false);
    expect(CredentialReferenceSchema.safeParse({ ...REFERENCE, account: 'root' }).success).toBe(
      false,
    );
  });
});
