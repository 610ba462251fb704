import { describe, expect, it } from 'vitest';
import { createMasterKeyRing, generateMasterKey, type MasterKey } from './master-keys.ts';
import { createVault, isVaultError, type Sealed, type VaultErrorCode } from './vault.ts';

const SECRET = 'Tr0ub4dor-and-3';
const AAD = 'credential|ACCC8E000001|admin|1|root';

function flipByte(bytes: Uint8Array, index: number): Uint8Array {
  const copy = Uint8Array.from(bytes);
  copy[index] = (copy[index] ?? 0) ^ 0x01;
  return copy;
}

async function failureOf(
  promise: Promise<unknown>,
): Promise<{ code: VaultErrorCode; text: string }> {
  try {
    await promise;
  } catch (error) {
    if (!isVaultError(error)) throw error;
    return {
      code: error.code,
      text: `${error.message} ${JSON.stringify(error)} ${String(error.cause)}`,
    };
  }
  throw new Error('expected the vault to refuse');
}

function vaultWith(...keys: MasterKey[]) {
  return createVault({ keys: createMasterKeyRing(keys) });
}

describe('the vault', () => {
  it('opens what it sealed, with the same AAD', async () => {
    const vault = vaultWith(generateMasterKey());
    const sealed = vault.seal(SECRET, AAD);
    expect(await vault.open(sealed, AAD)).toBe(SECRET);
    expect(sealed.keyId).toBe(vault.keys.active().id);
  });

  it('seals the same secret differently every time and never stores it in clear', () => {
    const vault = vaultWith(generateMasterKey());
    const one = vault.seal(SECRET, AAD);
    const two = vault.seal(SECRET, AAD);
    expect(Buffer.from(one.ciphertext).equals(Buffer.from(two.ciphertext))).toBe(false);
    expect(Buffer.from(one.wrappedKey).equals(Buffer.from(two.wrappedKey))).toBe(false);
    expect(Buffer.from(one.ciphertext).includes(SECRET)).toBe(false);
  });

  it('packs the format byte, a 12-byte IV and a 16-byte tag in front of each ciphertext', () => {
    const vault = vaultWith(generateMasterKey());
    const sealed = vault.seal(SECRET, AAD);
    expect(sealed.ciphertext[0]).toBe(1);
    expect(sealed.ciphertext.length).toBe(1 + 12 + 16 + SECRET.length);
    expect(sealed.wrappedKey[0]).toBe(1);
    expect(sealed.wrappedKey.length).toBe(1 + 12 + 16 + 32);
  });

  it('round-trips empty and non-ASCII secrets', async () => {
    const vault = vaultWith(generateMasterKey());
    for (const secret of ['', 'pässwörd-✓', 'x'.repeat(256)]) {
      expect(await vault.open(vault.seal(secret, AAD), AAD)).toBe(secret);
    }
  });

  const tampers: [string, (sealed: Sealed) => Sealed][] = [
    [
      'a ciphertext byte',
      (s) => ({ ...s, ciphertext: flipByte(s.ciphertext, s.ciphertext.length - 1) }),
    ],
    ['the IV', (s) => ({ ...s, ciphertext: flipByte(s.ciphertext, 1) })],
    ['the tag', (s) => ({ ...s, ciphertext: flipByte(s.ciphertext, 13) })],
    ['the wrapped data key', (s) => ({ ...s, wrappedKey: flipByte(s.wrappedKey, 40) })],
    ['the wrapped key tag', (s) => ({ ...s, wrappedKey: flipByte(s.wrappedKey, 20) })],
  ];
  for (const [what, tamper] of tampers) {
    it(`refuses a secret whose ${what} was altered, without revealing it`, async () => {
      const vault = vaultWith(generateMasterKey());
      const failure = await failureOf(vault.open(tamper(vault.seal(SECRET, AAD)), AAD));
      expect(failure.code).toBe('vault-decrypt-failed');
      expect(failure.text).not.toContain(SECRET);
    });
  }

  it('refuses a ciphertext moved to another row (a different AAD)', async () => {
    const vault = vaultWith(generateMasterKey());
    const sealed = vault.seal(SECRET, AAD);
    const failure = await failureOf(vault.open(sealed, 'credential|ACCC8E000002|admin|1|root'));
    expect(failure.code).toBe('vault-decrypt-failed');
    expect(failure.text).not.toContain(SECRET);
    expect(failure.text).not.toContain('ACCC8E000002');
  });

  it('refuses a data key claimed to be wrapped with another loaded key', async () => {
    const first = generateMasterKey();
    const second = generateMasterKey();
    const vault = vaultWith(first, second);
    const sealed = vault.seal(SECRET, AAD);
    const failure = await failureOf(vault.open({ ...sealed, keyId: second.id }, AAD));
    expect(failure.code).toBe('vault-decrypt-failed');
  });

  it('names an unknown master key id before trying to decrypt', async () => {
    const vault = vaultWith(generateMasterKey());
    const sealed = vault.seal(SECRET, AAD);
    const failure = await failureOf(vault.open({ ...sealed, keyId: '0123456789abcdef' }, AAD));
    expect(failure.code).toBe('vault-unknown-key');
    expect(failure.text).toContain('0123456789abcdef');
  });

  it('refuses bytes that are not in its format', async () => {
    const vault = vaultWith(generateMasterKey());
    const sealed = vault.seal(SECRET, AAD);
    const wrongVersion = Uint8Array.from(sealed.ciphertext);
    wrongVersion[0] = 2;
    expect((await failureOf(vault.open({ ...sealed, ciphertext: wrongVersion }, AAD))).code).toBe(
      'vault-malformed',
    );
    expect(
      (await failureOf(vault.open({ ...sealed, wrappedKey: new Uint8Array(5) }, AAD))).code,
    ).toBe('vault-malformed');
  });

  it('opens secrets sealed with an older key and re-wraps them to the active one', async () => {
    const old = generateMasterKey();
    const sealed = vaultWith(old).seal(SECRET, AAD);
    const next = generateMasterKey();
    const rotating = vaultWith(next, old);
    expect(await rotating.open(sealed, AAD)).toBe(SECRET);
    const rewrapped = { ...sealed, ...(await rotating.rewrap(sealed)) };
    expect(rewrapped.keyId).toBe(next.id);
    expect(await vaultWith(next).open(rewrapped, AAD)).toBe(SECRET);
  });

  it('re-reads its keys once when it meets a key id it does not hold', async () => {
    const old = generateMasterKey();
    const next = generateMasterKey();
    let keys = [old];
    let reloads = 0;
    const ring = {
      ...createMasterKeyRing([old]),
      active: () => keys[0] ?? old,
      find: (id: string) => keys.find((key) => key.id === id),
      ids: () => keys.map((key) => key.id),
      reload: () => {
        reloads += 1;
        keys = [next, old];
        return Promise.resolve(true);
      },
    };
    const sealed = vaultWith(next).seal(SECRET, AAD);
    expect(await createVault({ keys: ring }).open(sealed, AAD)).toBe(SECRET);
    expect(reloads).toBe(1);
  });
});
