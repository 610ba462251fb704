import type { Database } from '@custody/db';
import { documents, verifications } from '@custody/db/schema';
import type { World } from '../../test-support/world.ts';
import { caseIn, insertReportedCamera } from '../approvals/approval-test-fixtures.ts';
import { getCase, updateCaseDetails } from '../cases/case-store.ts';
import {
  activateCredentialVersion,
  createMasterKeyRing,
  createVault,
  generateMasterKey,
  storeCredentialVersion,
} from '../vault/index.ts';

// Tests only: a verified case with everything a handover states, and passwords in the vault
// that no export may contain.

export const VAULTED_PASSWORDS = {
  admin: 'Harbour-Admin-9f3k-Secret!',
  service: 'custody-svc-Q7w2-Secret',
  vms: 'acs-Vms-Z8p1-Secret',
} as const;

const JPEG = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0xff, 0xd9]);

export async function verifiedCase(
  db: Database,
  world: World,
  siteId = world.sites.grantedSite.id,
) {
  const vault = createVault({ keys: createMasterKeyRing([generateMasterKey()]) });
  const { serial } = await insertReportedCamera(db, siteId);
  const record = await caseIn(db, world, serial, 'verified');
  const tech = world.people.technician;
  const ids: Record<keyof typeof VAULTED_PASSWORDS, string> = { admin: '', service: '', vms: '' };
  const usernames = { admin: 'root', service: 'custody-svc', vms: 'acs' } as const;
  for (const account of ['admin', 'service', 'vms'] as const) {
    const stored = await storeCredentialVersion(db, vault, {
      serial,
      account,
      username: usernames[account],
      password: VAULTED_PASSWORDS[account],
      createdBy: tech.id,
    });
    await activateCredentialVersion(db, stored.id);
    ids[account] = stored.id;
  }
  const [snapshot] = await db
    .insert(documents)
    .values({
      orgId: world.orgs.integrator.id,
      filename: `${serial}.jpg`,
      mediaType: 'image/jpeg',
      sizeBytes: JPEG.byteLength,
      sha256: 'e'.repeat(64),
      content: JPEG,
      uploadedBy: tech.id,
    })
    .returning();
  const [verification] = await db
    .insert(verifications)
    .values({
      caseId: record.id,
      serial,
      passed: true,
      snapshotDocumentId: snapshot?.id ?? null,
      checks: [
        { kind: 'serial-at-planned-address', outcome: 'passed', summary: `${serial} at 10.0.0.60` },
        {
          kind: 'new-credentials-work',
          outcome: 'passed',
          summary: 'root, custody-svc and acs log in',
        },
        { kind: 'snapshot-is-jpeg', outcome: 'passed', summary: 'JPEG 1920x1080' },
        { kind: 'rtsp-describe', outcome: 'passed', summary: 'RTSP DESCRIBE 200 as acs' },
      ],
    })
    .returning();
  const at = new Date().toISOString();
  const by = { id: tech.id, name: 'tech' };
  await db.transaction((tx) =>
    updateCaseDetails(tx, {
      caseId: record.id,
      actor: { kind: 'user', id: tech.id },
      orgId: world.orgs.integrator.id,
      details: (current) => ({
        ...current,
        plan: {
          network: {
            mode: 'static',
            address: '10.0.0.60',
            prefixLength: 24,
            gateway: '10.0.0.1',
            dns: [],
          },
          time: null,
          vms: { platform: 'AXIS Camera Station' },
          adminUsername: 'root',
          serviceUsername: 'custody-svc',
          vmsUsername: 'acs',
          removeAccounts: [],
          plannedBy: by,
          plannedAt: at,
        },
        credentials: { ...current.credentials, ...ids },
        vmsConfirmation: {
          platform: 'AXIS Camera Station',
          note: 'Re-added on the ACS server',
          confirmedBy: by,
          confirmedAt: at,
        },
        recordingAttestation: {
          statement: 'Edge recording on the SD card since 14:02',
          attestedBy: by,
          attestedAt: at,
        },
      }),
    }),
  );
  const reloaded = await getCase(db, record.id);
  if (!reloaded) throw new Error('the case vanished');
  return {
    serial,
    caseId: record.id,
    credentialIds: ids,
    verificationId: verification?.id ?? '',
    case: reloaded,
  };
}
