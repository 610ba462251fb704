import {
  DEFAULT_FLEET_AUDIT_SETTINGS,
  FleetAuditSettingsSchema,
  type FleetAuditSettings,
} from '@custody/core';
import type { Database } from '@custody/db';
import { fleetAuditSettings } from '@custody/db/schema';
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Actor } from '../actor.ts';
import { appendAuditEvent } from '../audit-log.ts';
import type { Executor } from '../executor.ts';
import { resolveAuditAdminOrg, resolveAuditOrg, type AuditOrg } from './audit-scope.ts';

export interface AuditSettingsView extends FleetAuditSettings {
  organisation: AuditOrg;
  /** Null while the organisation runs on the defaults. */
  updatedAt: Date | null;
  updatedBy: string | null;
  canEdit: boolean;
}

/** The organisation's settings, or the defaults when it never saved any. */
export async function loadAuditSettings(db: Executor, orgId: string): Promise<FleetAuditSettings> {
  const [row] = await db
    .select()
    .from(fleetAuditSettings)
    .where(eq(fleetAuditSettings.orgId, orgId));
  if (row === undefined) return { ...DEFAULT_FLEET_AUDIT_SETTINGS };
  return {
    firmwareFloor: row.firmwareFloor,
    staleAfterDays: row.staleAfterDays,
    snapshotIntervalHours: row.snapshotIntervalHours,
  };
}

export async function getAuditSettings(
  db: Database,
  actor: Actor,
  input: { orgId?: string | undefined } = {},
): Promise<AuditSettingsView> {
  const org = resolveAuditOrg(actor, input.orgId);
  const [row] = await db
    .select({ updatedAt: fleetAuditSettings.updatedAt, updatedBy: fleetAuditSettings.updatedBy })
    .from(fleetAuditSettings)
    .where(eq(fleetAuditSettings.orgId, org.id));
  let canEdit = true;
  try {
    resolveAuditAdminOrg(actor, org.id, 'change the audit settings');
  } catch {
    canEdit = false;
  }
  return {
    organisation: org,
    ...(await loadAuditSettings(db, org.id)),
    updatedAt: row?.updatedAt ?? null,
    updatedBy: row?.updatedBy ?? null,
    canEdit,
  };
}

export const UpdateAuditSettingsInputSchema = FleetAuditSettingsSchema.extend({
  orgId: z.uuid().optional(),
});

/** Saves the organisation's settings (its admins only), audited with what changed. */
export async function updateAuditSettings(
  db: Database,
  actor: Actor,
  input: z.input<typeof UpdateAuditSettingsInputSchema>,
): Promise<AuditSettingsView> {
  const { orgId, ...settings } = UpdateAuditSettingsInputSchema.parse(input);
  const org = resolveAuditAdminOrg(actor, orgId, 'change the audit settings');
  await db.transaction(async (tx) => {
    const before = await loadAuditSettings(tx, org.id);
    const values = { ...settings, updatedBy: actor.userId, updatedAt: new Date() };
    await tx
      .insert(fleetAuditSettings)
      .values({ orgId: org.id, ...values })
      .onConflictDoUpdate({ target: fleetAuditSettings.orgId, set: values });
    await appendAuditEvent(tx, {
      orgId: org.id,
      actor: { kind: 'user', id: actor.userId },
      action: 'fleet-audit.settings-updated',
      subject: { kind: 'organisation', id: org.id },
      data: { before, after: settings },
    });
  });
  return getAuditSettings(db, actor, { orgId: org.id });
}
