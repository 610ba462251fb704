import { randomUUID } from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { CredentialAccount, CredentialSecret } from '@custody/core';
import type { Database } from '@custody/db';
import * as schema from '@custody/db/schema';
import { notifyFleet } from '../../gateway/notifications.ts';
import { insertReportedCamera } from '../approvals/approval-test-fixtures.ts';
import {
  activateCredentialVersion,
  readCredentialForSerial,
  storeCredentialVersion,
} from '../vault/credential-store.ts';
import { createVaultSecretsResolver } from '../vault/vault-secrets-resolver.ts';
import type { Vault } from '../vault/vault.ts';

// Tests only: cameras with vaulted passwords, and a fake agent that answers rotation commands
// against in-memory devices the way the real verbs would, writing results the way the gateway
// does.

const { commands, credentials } = schema;

/** username → password: what a device accepts. */
export type FakeDevice = Map<string, string>;

let passwordNo = 0;

/** A distinctive password, so a test can look for it anywhere it must not be. */
export function knownPassword(label: string): string {
  passwordNo += 1;
  return `Known-${label}-Pw-${passwordNo}-${randomUUID().slice(0, 8)}`;
}

/**
 * A camera on `siteId` reported by the site's test agent, with active vaulted passwords for the
 * given accounts, and the fake device that accepts them.
 */
export async function vaultedCamera(
  db: Database,
  vault: Vault,
  siteId: string,
  accounts: Partial<Record<CredentialAccount, { username: string; password?: string }>> = {
    admin: { username: 'root' },
  },
  fields: Parameters<typeof insertReportedCamera>[2] = {},
): Promise<{ serial: string; agentId: string; device: FakeDevice; passwords: string[] }> {
  const camera = await insertReportedCamera(db, siteId, fields);
  const device: FakeDevice = new Map();
  const passwords: string[] = [];
  for (const [account, entry] of Object.entries(accounts) as [
    CredentialAccount,
    { username: string; password?: string },
  ][]) {
    const password = entry.password ?? knownPassword(account);
    const stored = await storeCredentialVersion(db, vault, {
      serial: camera.serial,
      account,
      username: entry.username,
      password,
      createdBy: null,
    });
    await activateCredentialVersion(db, stored.id);
    device.set(entry.username, password);
    passwords.push(password);
  }
  return { ...camera, device, passwords };
}

/** Every password the vault holds for these cameras, in clear (to search for leaks). */
export async function vaultPasswords(
  db: Database,
  vault: Vault,
  serials: readonly string[],
): Promise<string[]> {
  if (serials.length === 0) return [];
  const rows = await db
    .select({ id: credentials.id, serial: credentials.serial })
    .from(credentials)
    .where(inArray(credentials.serial, [...serials]));
  const opened = await Promise.all(
    rows.map((row) => readCredentialForSerial(db, vault, row.id, row.serial)),
  );
  return opened.flatMap((entry) => (entry === null ? [] : [entry.password]));
}

/** The vault's versions of one camera account, decrypted: `{ status, password }`. */
export async function vaultVersions(
  db: Database,
  vault: Vault,
  serial: string,
  account: CredentialAccount,
): Promise<{ id: string; status: string; password: string }[]> {
  const rows = await db
    .select({ id: credentials.id, status: credentials.status })
    .from(credentials)
    .where(and(eq(credentials.serial, serial), eq(credentials.account, account)));
  const versions = [];
  for (const row of rows) {
    const opened = await readCredentialForSerial(db, vault, row.id, serial);
    if (opened !== null)
      versions.push({ id: row.id, status: row.status, password: opened.password });
  }
  return versions;
}

/** What the fake agent does with one command. */
export type FakeBehaviour =
  /** Runs it like the verb does. */
  | 'normal'
  /** The change is applied, then the connection drops: an error with no result. */
  | 'drop-after-apply'
  /** The agent stops while it runs: `interrupted`, before or after applying the change. */
  | 'interrupt-before'
  | 'interrupt-after'
  /** The camera blocks the agent (every login is locked out). */
  | 'locked-out'
  /** The check cannot try anything: the attempt budget is spent. */
  | 'budget-spent'
  /** Leave it alone (not sent). */
  | 'ignore';

export interface FakeResult {
  status: 'succeeded' | 'failed';
  result: Record<string, unknown> | null;
  error: { code: string; message: string; outcome: 'failed' | 'refused' } | null;
}

/**
 * What the gateway writes when an agent's result comes in (after it was sent once), and the
 * event it sends every process about it.
 */
export async function writeResult(db: Database, commandId: string, outcome: FakeResult) {
  const [row] = await db
    .update(commands)
    .set({
      status: outcome.status,
      result: outcome.result,
      error: outcome.error,
      dispatchCount: sql`greatest(${commands.dispatchCount}, 1)`,
      dispatchedAt: sql`coalesce(${commands.dispatchedAt}, now())`,
      ackedAt: sql`coalesce(${commands.ackedAt}, now())`,
      completedAt: new Date(),
    })
    .where(eq(commands.id, commandId))
    .returning({ agentId: commands.agentId });
  if (row !== undefined)
    await notifyFleet(db, { event: 'command', agentId: row.agentId, commandId });
}

function failure(
  code: string,
  message: string,
  result: Record<string, unknown> | null = null,
): FakeResult {
  return { status: 'failed', result, error: { code, message, outcome: 'failed' } };
}

function runRotate(
  device: FakeDevice,
  params: Record<string, unknown>,
  secrets: Record<string, CredentialSecret>,
  behaviour: FakeBehaviour,
): FakeResult {
  const admin = secrets[params.credential as string]!;
  const next = secrets[params.next as string]!;
  const previous = typeof params.previous === 'string' ? secrets[params.previous] : undefined;
  if (behaviour === 'interrupt-before') {
    return failure('interrupted', 'The agent stopped while this command was running.');
  }
  if (behaviour === 'locked-out') {
    return failure('locked-out', 'The device is blocking this agent; try again later.', {
      passwordChanged: false,
    });
  }
  if (device.get(admin.username) !== admin.password) {
    return failure('login-failed', `The admin credential (user ${admin.username}) was rejected.`, {
      passwordChanged: false,
    });
  }
  if (!device.has(next.username)) {
    return failure('no-such-account', `No account "${next.username}"; nothing was changed.`, {
      passwordChanged: false,
    });
  }
  device.set(next.username, next.password);
  if (behaviour === 'drop-after-apply') {
    return {
      status: 'failed',
      result: null,
      error: { code: 'unreachable', message: 'socket hang up', outcome: 'failed' },
    };
  }
  if (behaviour === 'interrupt-after') {
    return failure('interrupted', 'The agent stopped while this command was running.');
  }
  const old = previous?.password ?? (next.username === admin.username ? admin.password : undefined);
  const newWorks = device.get(next.username) === next.password;
  const oldFails = old === undefined ? null : device.get(next.username) !== old;
  const result = {
    account: next.username,
    passwordChanged: true,
    newCredentialWorks: newWorks,
    oldCredentialFails: oldFails,
    oldCredentialChecked: old !== undefined,
    newCredentialCheck: newWorks ? 'works' : 'rejected',
    oldCredentialCheck: old === undefined ? null : oldFails ? 'rejected' : 'works',
  };
  return newWorks && oldFails !== false
    ? { status: 'succeeded', result, error: null }
    : failure(
        'rotation-unverified',
        `The password of ${next.username} was changed, but not proven.`,
        result,
      );
}

function runTest(
  device: FakeDevice,
  params: Record<string, unknown>,
  secrets: Record<string, CredentialSecret>,
  behaviour: FakeBehaviour,
): FakeResult {
  const refs = params.credentials as string[];
  if (behaviour === 'interrupt-before' || behaviour === 'interrupt-after') {
    return failure('interrupted', 'The agent stopped while this command was running.');
  }
  const stopped =
    behaviour === 'locked-out'
      ? 'locked-out'
      : behaviour === 'budget-spent'
        ? 'budget-spent'
        : null;
  const entries = refs.map((ref) => {
    const secret = secrets[ref]!;
    const outcome =
      stopped === 'locked-out'
        ? 'locked-out'
        : stopped === 'budget-spent'
          ? 'not-tried-budget-spent'
          : device.get(secret.username) === secret.password
            ? 'works'
            : 'rejected';
    return { ref, username: secret.username, outcome, isAdmin: null };
  });
  return {
    status: 'succeeded',
    result: {
      credentials: entries,
      stopped,
      retryAfterMs: stopped === null ? null : 60_000,
      summary: `${entries.filter((entry) => entry.outcome === 'works').length} of ${refs.length} credential(s) work.`,
    },
    error: null,
  };
}

/**
 * Answers every queued rotate-credential and test-credential command of these devices as the
 * agent would, with the secrets the gateway would send (read from the vault). Returns the ids
 * answered. `behaviour` picks a fault per command.
 */
export async function runFakeAgent(
  db: Database,
  vault: Vault,
  devices: ReadonlyMap<string, FakeDevice>,
  behaviour: (command: { id: string; serial: string; verb: string }) => FakeBehaviour = () =>
    'normal',
): Promise<string[]> {
  const queued = await db
    .select()
    .from(commands)
    .where(
      and(
        eq(commands.status, 'queued'),
        inArray(commands.verb, ['rotate-credential', 'test-credential']),
        inArray(commands.serial, [...devices.keys()]),
      ),
    )
    .orderBy(commands.queuedAt);
  const resolve = createVaultSecretsResolver(db, vault);
  const answered: string[] = [];
  for (const command of queued) {
    const serial = command.serial!;
    const device = devices.get(serial)!;
    const chosen = behaviour({ id: command.id, serial, verb: command.verb });
    if (chosen === 'ignore') continue;
    const secrets = await resolve({
      commandId: command.id,
      agentId: command.agentId,
      serial,
      verb: command.verb as 'rotate-credential',
      secretsRef: (command.secretsRef ?? {}) as Record<string, string>,
    });
    const params = command.params as Record<string, unknown>;
    const outcome =
      command.verb === 'rotate-credential'
        ? runRotate(device, params, secrets, chosen)
        : runTest(device, params, secrets, chosen);
    await writeResult(db, command.id, outcome);
    answered.push(command.id);
  }
  return answered;
}
