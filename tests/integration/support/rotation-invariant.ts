import type { CredentialAccount } from '@custody/core';
import type { Database } from '@custody/db';
import type { SimulatedCamera } from '@custody/simulator';
import { openCredentialRow } from '../../../apps/web/src/server/services/vault/credential-store.ts';
import type { Vault } from '../../../apps/web/src/server/services/vault/vault.ts';
import { passwordFingerprint } from './password-fingerprint.ts';

/*
 * The safety property of bulk rotation, checked against the devices themselves: at no moment is
 * there a camera whose working password is missing from the vault (as its active or a pending
 * version), and once a job has settled, every camera works with its active version.
 *
 * Passwords are compared by fingerprint (a SHA-256), so that a device reader in another process
 * (the benchmark's simulator host) never has to hand a password over; fingerprints stay in
 * memory and are never printed.
 */

export { passwordFingerprint };

export interface DeviceAccount {
  serial: string;
  username: string;
}

/**
 * The fingerprint of the password each device account takes right now (null: no such account
 * or no such camera), keyed `serial|username`.
 */
export type DeviceFingerprintReader = (
  accounts: readonly DeviceAccount[],
) => Promise<Map<string, string | null>>;

export const deviceKey = (serial: string, username: string) => `${serial}|${username}`;

/** Reads simulated cameras in this process (powered or not: the account is what counts). */
export function simulatorFingerprints(
  cameraOf: (serial: string) => SimulatedCamera | undefined,
): DeviceFingerprintReader {
  return (accounts) => {
    const result = new Map<string, string | null>();
    for (const { serial, username } of accounts) {
      const password = cameraOf(serial)?.passwordOf(username);
      result.set(
        deviceKey(serial, username),
        password === undefined ? null : passwordFingerprint(password),
      );
    }
    return Promise.resolve(result);
  };
}

export interface InvariantSample {
  /** Date.now() when the devices were read. */
  at: number;
  cameras: number;
  /** The working password is neither the active nor a pending version: must always be empty. */
  notVaulted: string[];
  /** The working password is a pending version (a change in flight or not yet proven). */
  onPending: string[];
  /** The working password is the active version. */
  onActive: number;
}

export interface SettledReport extends InvariantSample {
  /** The active version is not the working password: must be empty once a job has settled. */
  activeNotWorking: string[];
  /** Cameras that still have a pending version for the account. */
  pendingLeft: string[];
}

interface VaultedVersions {
  username: string | undefined;
  active: string | undefined;
  pending: Set<string>;
}

export interface RotationInvariant {
  sample(): Promise<InvariantSample>;
  /** A sample, plus what must hold once the job has settled. */
  settled(): Promise<SettledReport>;
}

export function createRotationInvariant(options: {
  db: Database;
  vault: Vault;
  account: CredentialAccount;
  serials: readonly string[];
  devices: DeviceFingerprintReader;
}): RotationInvariant {
  const { db, vault, account, serials, devices } = options;
  // A credential row never changes its secret: its fingerprint is computed once.
  const fingerprints = new Map<string, string>();

  async function readVault(): Promise<Map<string, VaultedVersions>> {
    const rows = await db.query.credentials.findMany({
      where: (table, { and, eq, inArray }) =>
        and(
          inArray(table.serial, [...serials]),
          eq(table.account, account),
          inArray(table.status, ['active', 'pending']),
        ),
    });
    const bySerial = new Map<string, VaultedVersions>();
    for (const row of rows) {
      let fingerprint = fingerprints.get(row.id);
      if (fingerprint === undefined) {
        fingerprint = passwordFingerprint((await openCredentialRow(vault, row)).password);
        fingerprints.set(row.id, fingerprint);
      }
      const entry = bySerial.get(row.serial) ?? {
        username: undefined,
        active: undefined,
        pending: new Set<string>(),
      };
      if (row.status === 'active') {
        entry.active = fingerprint;
        entry.username = row.username;
      } else {
        entry.pending.add(fingerprint);
        entry.username ??= row.username;
      }
      bySerial.set(row.serial, entry);
    }
    return bySerial;
  }

  const isVaulted = (versions: VaultedVersions | undefined, fingerprint: string) =>
    versions !== undefined &&
    (versions.active === fingerprint || versions.pending.has(fingerprint));

  async function check(): Promise<{
    sample: InvariantSample;
    after: Map<string, VaultedVersions>;
    device: Map<string, string | null>;
  }> {
    // Vault, devices, vault again: a password the device held when read was stored before the
    // command that set it, so it shows in the read before, or (stored in between) in the read
    // after; only a password in neither was unvaulted while the device held it.
    const before = await readVault();
    const wanted = serials.map((serial) => ({
      serial,
      username: before.get(serial)?.username ?? 'root',
    }));
    const at = Date.now();
    const device = await devices(wanted);
    const after = await readVault();
    const sample: InvariantSample = {
      at,
      cameras: serials.length,
      notVaulted: [],
      onPending: [],
      onActive: 0,
    };
    for (const { serial, username } of wanted) {
      const fingerprint = device.get(deviceKey(serial, username)) ?? null;
      const versions = [before.get(serial), after.get(serial)];
      if (fingerprint === null || !versions.some((v) => isVaulted(v, fingerprint))) {
        sample.notVaulted.push(serial);
      } else if (after.get(serial)?.active === fingerprint) {
        sample.onActive += 1;
      } else {
        sample.onPending.push(serial);
      }
    }
    return { sample, after, device };
  }

  return {
    sample: async () => (await check()).sample,
    async settled() {
      const { sample, after, device } = await check();
      const activeNotWorking: string[] = [];
      const pendingLeft: string[] = [];
      for (const serial of serials) {
        const versions = after.get(serial);
        const fingerprint = device.get(deviceKey(serial, versions?.username ?? 'root'));
        if (versions?.active === undefined || versions.active !== fingerprint) {
          activeNotWorking.push(serial);
        }
        if ((versions?.pending.size ?? 0) > 0) pendingLeft.push(serial);
      }
      return { ...sample, activeNotWorking, pendingLeft };
    },
  };
}

export interface InvariantWatch {
  /** Samples taken so far. */
  readonly samples: number;
  /** The largest `notVaulted` count seen in one sample. */
  readonly worstNotVaulted: number;
  /** Every camera ever seen not vaulted, with when. */
  readonly violations: readonly { serial: string; at: number }[];
  /** Samples that could not be taken (the sampler's own database connection failed). */
  readonly failedSamples: number;
  /** Stops sampling after the one in progress; resolves with the last sample. */
  stop(): Promise<InvariantSample | undefined>;
}

/** Samples the invariant back to back, `intervalMs` apart, until stopped. */
export function watchInvariant(invariant: RotationInvariant, intervalMs = 50): InvariantWatch {
  let samples = 0;
  let worstNotVaulted = 0;
  const violations: { serial: string; at: number }[] = [];
  let last: InvariantSample | undefined;
  let stopped = false;
  let failedSamples = 0;
  let failure: unknown;
  const loop = (async () => {
    while (!stopped) {
      try {
        const sample = await invariant.sample();
        samples += 1;
        last = sample;
        worstNotVaulted = Math.max(worstNotVaulted, sample.notVaulted.length);
        for (const serial of sample.notVaulted) violations.push({ serial, at: sample.at });
      } catch (error) {
        failedSamples += 1;
        failure = error;
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    get samples() {
      return samples;
    },
    get worstNotVaulted() {
      return worstNotVaulted;
    },
    get violations() {
      return violations;
    },
    get failedSamples() {
      return failedSamples;
    },
    async stop() {
      stopped = true;
      await loop;
      if (samples === 0 && failure !== undefined) {
        throw new Error('The invariant could not be sampled even once.', { cause: failure });
      }
      return last;
    },
  };
}
