import {
  AUDIT_FINDINGS,
  AUDIT_FINDING_DESCRIPTIONS,
  AuditFindingSchema,
  IdSchema,
} from '@custody/core';
import { z } from 'zod';
import { listFindings, runFleetAudit } from '../../services/fleet-audit/audit-query.ts';
import { auditOrgsOf } from '../../services/fleet-audit/audit-scope.ts';
import {
  UpdateAuditSettingsInputSchema,
  getAuditSettings,
  updateAuditSettings,
} from '../../services/fleet-audit/audit-settings.ts';
import { listAuditTrend, takeSnapshotNow } from '../../services/fleet-audit/audit-snapshots.ts';
import {
  ImportVmsInputSchema,
  MarkVmsInputSchema,
  importVmsRegistrations,
  markVmsRegistrations,
} from '../../services/fleet-audit/vms-registrations.ts';
import { protectedProcedure, roleProcedure } from '../trpc.ts';

const OrgInputSchema = z.object({ orgId: IdSchema.optional() });
const ScopeInputSchema = OrgInputSchema.extend({ siteId: IdSchema.optional() });

/** Every finding with its label, meaning and remediation, in the audit's order. */
const CATALOG = AUDIT_FINDINGS.map((code) => ({ code, ...AUDIT_FINDING_DESCRIPTIONS[code] }));

/**
 * The fleet documentation audit. Reads are open to every role of the organisation (the
 * services check which organisation and site); settings and snapshots on demand belong to its
 * admins; VMS registrations to those who put cameras in the VMS and the owner.
 */
export const fleetAuditRouter = {
  /** The organisations whose audit the caller may read, and where it may change settings. */
  organisations: protectedProcedure.query(({ ctx }) => auditOrgsOf(ctx.actor)),

  /** Counts per finding, per site and fleet-wide, with the catalogue of findings. */
  summary: protectedProcedure.input(ScopeInputSchema.default({})).query(async ({ ctx, input }) => ({
    ...(await runFleetAudit(ctx.db, ctx.actor, input)),
    catalog: CATALOG,
  })),

  /** The drill-down: cameras with a finding (or the one asked for), by serial. */
  findings: protectedProcedure
    .input(
      ScopeInputSchema.extend({
        finding: AuditFindingSchema.optional(),
        limit: z.int().min(1).max(200).default(50),
        cursor: z
          .string()
          .regex(/^[0-9A-F]{12}$/)
          .optional(),
      }),
    )
    .query(({ ctx, input }) => listFindings(ctx.db, ctx.actor, input)),

  /** Snapshots over time, fleet-wide or for one site, oldest first. */
  trend: protectedProcedure
    .input(
      ScopeInputSchema.extend({ limit: z.int().min(1).max(365).default(60) }).default({
        limit: 60,
      }),
    )
    .query(({ ctx, input }) => listAuditTrend(ctx.db, ctx.actor, input)),

  settings: protectedProcedure
    .input(OrgInputSchema.default({}))
    .query(({ ctx, input }) => getAuditSettings(ctx.db, ctx.actor, input)),

  updateSettings: roleProcedure('integrator-admin', 'owner-approver')
    .input(UpdateAuditSettingsInputSchema)
    .mutation(({ ctx, input }) => updateAuditSettings(ctx.db, ctx.actor, input)),

  snapshotNow: roleProcedure('integrator-admin', 'owner-approver')
    .input(OrgInputSchema.default({}))
    .mutation(({ ctx, input }) => takeSnapshotNow(ctx.db, ctx.actor, input)),

  markVms: roleProcedure('integrator-admin', 'technician', 'owner-approver')
    .input(MarkVmsInputSchema)
    .mutation(({ ctx, input }) => markVmsRegistrations(ctx.db, ctx.actor, input)),

  importVms: roleProcedure('integrator-admin', 'technician', 'owner-approver')
    .input(ImportVmsInputSchema)
    .mutation(({ ctx, input }) => importVmsRegistrations(ctx.db, ctx.actor, input)),
};
