import { auditEvents, cameras } from '@custody/db/schema';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  REVEAL_RATE_LIMIT,
  REVEAL_REFUSED_ACTION,
  REVEALED_ACTION,
  revealCredential,
} from '../../services/vault/credential-access.ts';
import { storeCredentialVersion } from '../../services/vault/credential-store.ts';
import { createMasterKeyRing, generateMasterKey } from '../../services/vault/master-keys.ts';
import { createVault } from '../../services/vault/vault.ts';
import { outcomeOf, useWorld, type CallerName } from '../../test-support/world.ts';
import { createCaller } from '../root.ts';
import { createInnerTRPCContext } from '../trpc.ts';

type Expected<T> = Record<CallerName | 'anonymous', T>;

const vault = createVault({ keys: createMasterKeyRing([generateMasterKey()]) });
const GRANTED = 'ACCC8E0000B1';
const UNGRANTED = 'ACCC8E0000B2';
const FOREIGN = 'E827250000B3';
const PASSWORD = 'Reveal-me-Secret-1';
const REASON = 'VMS re-add after the NVR swap, ticket 4411';

describe('the vault router', () => {
  const t = useWorld({ beforeAll, afterAll });
  const ids: Record<'granted' | 'ungranted' | 'foreign', string> = {
    granted: '',
    ungranted: '',
    foreign: '',
  };
  const api = (name: CallerName | 'anonymous', withVault = true) =>
    createCaller(
      createInnerTRPCContext({
        db: t.db,
        actor: name === 'anonymous' ? null : t.world.actors[name],
        vault: withVault ? vault : null,
      }),
    );

  beforeAll(async () => {
    const { sites } = t.world;
    await t.db.insert(cameras).values([
      { serial: GRANTED, siteId: sites.grantedSite.id },
      { serial: UNGRANTED, siteId: sites.ungrantedSite.id },
      { serial: FOREIGN, siteId: sites.foreignSite.id },
    ]);
    for (const [key, serial] of [
      ['granted', GRANTED],
      ['ungranted', UNGRANTED],
      ['foreign', FOREIGN],
    ] as const) {
      const stored = await storeCredentialVersion(t.db, vault, {
        serial,
        account: 'admin',
        username: 'root',
        password: PASSWORD,
        createdBy: null,
      });
      ids[key] = stored.id;
    }
  });

  const versions: Expected<string> = {
    integratorAdmin: 'OK / NOT_FOUND / NOT_FOUND',
    technician: 'OK / NOT_FOUND / NOT_FOUND',
    integratorAuditor: 'OK / NOT_FOUND / NOT_FOUND',
    ownerApprover: 'OK / OK / NOT_FOUND',
    ownerAuditor: 'OK / OK / NOT_FOUND',
    foreignIntegratorAdmin: 'NOT_FOUND / NOT_FOUND / OK',
    foreignOwnerApprover: 'NOT_FOUND / NOT_FOUND / OK',
    anonymous: 'UNAUTHORIZED / UNAUTHORIZED / UNAUTHORIZED',
  };
  for (const [caller, outcome] of Object.entries(versions)) {
    it(`lists versions to ${caller} as ${outcome} for the granted, ungranted and foreign cameras`, async () => {
      const as = api(caller as CallerName);
      const outcomes = await Promise.all(
        [GRANTED, UNGRANTED, FOREIGN].map((serial) => outcomeOf(as.vault.versions({ serial }))),
      );
      expect(outcomes.join(' / ')).toBe(outcome);
    });
  }

  it('lists versions without any secret', async () => {
    const listed = await api('integratorAuditor').vault.versions({ serial: GRANTED });
    expect(listed).toEqual([
      expect.objectContaining({ id: ids.granted, username: 'root', version: 1, status: 'pending' }),
    ]);
    expect(JSON.stringify(listed)).not.toContain(PASSWORD);
  });

  const reveals: Expected<string> = {
    integratorAdmin: 'OK / NOT_FOUND / NOT_FOUND',
    technician: 'FORBIDDEN / FORBIDDEN / FORBIDDEN',
    integratorAuditor: 'FORBIDDEN / FORBIDDEN / FORBIDDEN',
    ownerApprover: 'FORBIDDEN / FORBIDDEN / FORBIDDEN',
    ownerAuditor: 'FORBIDDEN / FORBIDDEN / FORBIDDEN',
    foreignIntegratorAdmin: 'NOT_FOUND / NOT_FOUND / OK',
    foreignOwnerApprover: 'FORBIDDEN / FORBIDDEN / FORBIDDEN',
    anonymous: 'UNAUTHORIZED / UNAUTHORIZED / UNAUTHORIZED',
  };
  for (const [caller, outcome] of Object.entries(reveals)) {
    it(`reveals to ${caller} as ${outcome} for the granted, ungranted and foreign cameras`, async () => {
      const as = api(caller as CallerName);
      const outcomes: string[] = [];
      for (const credentialId of [ids.granted, ids.ungranted, ids.foreign]) {
        outcomes.push(await outcomeOf(as.vault.reveal({ credentialId, reason: REASON })));
      }
      expect(outcomes.join(' / ')).toBe(outcome);
    });
  }

  it('reveals the password with a reason and audits who, what and why', async () => {
    const revealed = await api('integratorAdmin').vault.reveal({
      credentialId: ids.granted,
      reason: `  ${REASON}  `,
    });
    expect(revealed).toEqual({
      id: ids.granted,
      serial: GRANTED,
      account: 'admin',
      username: 'root',
      version: 1,
      password: PASSWORD,
    });
    const events = await t.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, REVEALED_ACTION), eq(auditEvents.subjectId, ids.granted)));
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(events.at(-1)).toMatchObject({
      actorId: t.world.people.integratorAdmin.id,
      orgId: t.world.orgs.integrator.id,
      siteId: t.world.sites.grantedSite.id,
    });
    expect(JSON.stringify(events.at(-1)?.payload)).toContain(REASON);
    expect(JSON.stringify(events)).not.toContain(PASSWORD);
  });

  it('refuses a reveal without a real reason', async () => {
    const as = api('integratorAdmin');
    for (const reason of ['', '   ', 'because']) {
      expect(await outcomeOf(as.vault.reveal({ credentialId: ids.granted, reason }))).toBe(
        'BAD_REQUEST',
      );
    }
    expect(await outcomeOf(as.vault.reveal({ credentialId: 'nope', reason: REASON }))).toBe(
      'BAD_REQUEST',
    );
  });

  it('fails a reveal clearly where no vault is loaded', async () => {
    expect(
      await outcomeOf(
        api('integratorAdmin', false).vault.reveal({ credentialId: ids.granted, reason: REASON }),
      ),
    ).toBe('INTERNAL_SERVER_ERROR');
  });

  it(`refuses the reveal after ${REVEAL_RATE_LIMIT.limit} in the window, audits the refusal, and allows again later`, async () => {
    const actor = t.world.actors.foreignIntegratorAdmin;
    const start = new Date(Date.now() + 60 * 60_000);
    const at = (minutes: number) => new Date(start.getTime() + minutes * 60_000);
    for (let n = 0; n < REVEAL_RATE_LIMIT.limit; n += 1) {
      await revealCredential(
        t.db,
        vault,
        actor,
        { credentialId: ids.foreign, reason: REASON },
        at(n),
      );
    }
    const refused = await revealCredential(
      t.db,
      vault,
      actor,
      { credentialId: ids.foreign, reason: REASON },
      at(5),
    ).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'rate-limited', details: { retryAfterSeconds: 5 * 60 } });
    expect(String((refused as Error).message)).not.toContain(PASSWORD);
    const refusals = await t.db
      .select()
      .from(auditEvents)
      .where(
        and(eq(auditEvents.action, REVEAL_REFUSED_ACTION), eq(auditEvents.actorId, actor.userId)),
      );
    expect(refusals).toHaveLength(1);
    // Ten minutes after the first reveal, one slot is free again.
    const later = await revealCredential(
      t.db,
      vault,
      actor,
      { credentialId: ids.foreign, reason: REASON },
      at(10.5),
    );
    expect(later.password).toBe(PASSWORD);
  });
});
