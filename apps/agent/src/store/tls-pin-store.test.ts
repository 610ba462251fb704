import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from './testing/temp-dirs.ts';
import { openTlsPinStore, TLS_PINS_FILE } from './tls-pin-store.ts';

const tempDir = useTempDirs('custody-pins-');
const SERIAL = 'ACCC8E012345';
const FIRST = 'AA:'.repeat(31) + 'AA';
const SECOND = 'BB:'.repeat(31) + 'BB';

describe('the TLS pin store', () => {
  it('trusts a camera certificate on first use, then only that certificate, across restarts', async () => {
    const dir = await tempDir();
    let pins = await openTlsPinStore(dir);
    expect(pins.policyFor(SERIAL)).toEqual({ mode: 'pin' });
    pins.observe(SERIAL, FIRST);
    expect(pins.policyFor(SERIAL)).toEqual({ mode: 'pin', fingerprint256: FIRST });
    // A different certificate later does not replace the pin.
    pins.observe(SERIAL, SECOND);
    expect(pins.policyFor(SERIAL)).toEqual({ mode: 'pin', fingerprint256: FIRST });
    await pins.flush();
    expect((await stat(join(dir, TLS_PINS_FILE))).mode & 0o777).toBe(0o600);

    pins = await openTlsPinStore(dir);
    expect(pins.policyFor(SERIAL)).toEqual({ mode: 'pin', fingerprint256: FIRST });
    expect(pins.policyFor(undefined)).toEqual({ mode: 'pin' });
  });

  it('pins afresh only after a verified factory default of that serial, even across a restart', async () => {
    const dir = await tempDir();
    let pins = await openTlsPinStore(dir);
    pins.observe(SERIAL, FIRST);
    pins.allowRepin(SERIAL);
    await pins.flush();
    pins = await openTlsPinStore(dir);
    expect(pins.policyFor(SERIAL)).toEqual({ mode: 'pin' });
    pins.observe(SERIAL, SECOND);
    expect(pins.policyFor(SERIAL)).toEqual({ mode: 'pin', fingerprint256: SECOND });
    // Once re-pinned, the new certificate is the only one again.
    pins.observe(SERIAL, FIRST);
    expect(pins.policyFor(SERIAL)).toEqual({ mode: 'pin', fingerprint256: SECOND });
    await pins.flush();
  });

  it('normalises fingerprints and ignores anything that is not one', async () => {
    const pins = await openTlsPinStore(await tempDir());
    pins.observe(SERIAL, FIRST.toLowerCase());
    expect(pins.policyFor(SERIAL)).toEqual({ mode: 'pin', fingerprint256: FIRST });
    pins.observe('ACCC8E000002', 'not a fingerprint');
    expect(pins.policyFor('ACCC8E000002')).toEqual({ mode: 'pin' });
    await pins.flush();
  });

  it('refuses to start from a pin file others can change', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, TLS_PINS_FILE), '{"format":1,"pins":{}}', { mode: 0o666 });
    const { chmod } = await import('node:fs/promises');
    await chmod(join(dir, TLS_PINS_FILE), 0o666);
    await expect(openTlsPinStore(dir)).rejects.toMatchObject({ code: 'file-insecure' });
  });
});
