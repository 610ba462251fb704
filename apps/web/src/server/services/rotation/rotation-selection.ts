import {
  DomainError,
  ROTATION_SKIP_LABELS,
  RotationSettingsSchema,
  SerialSchema,
  TERMINAL_CASE_STATES,
  ROTATION_OPEN_STATUSES,
  type CredentialAccount,
  type RotationSkipReason,
} from '@custody/core';
import { agents, cameras, cases, credentials, rotationItems, sites } from '@custody/db/schema';
import { and, asc, eq, inArray, isNull, notInArray, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Actor } from '../actor.ts';
import type { Executor } from '../executor.ts';
import { FleetQuerySchema } from '../fleet-query.ts';
import { filterConditions } from '../fleet.ts';
import { chooseRotationOrg, rotatableSitesCondition, type RotationOrg } from './rotation-access.ts';

/** A job works on at most this many cameras: narrow the selection, or run several. */
export const MAX_ROTATION_CAMERAS = 10_000;

/** The fleet page's filters (not its paging or sort), to pick cameras the way the fleet lists them. */
export const RotationFilterSchema = FleetQuerySchema.pick({
  siteId: true,
  accessState: true,
  model: true,
  firmware: true,
  seenWithin: true,
  notSeenFor: true,
  presence: true,
  q: true,
});
export type RotationFilter = z.infer<typeof RotationFilterSchema>;

export const RotationSelectionSchema = z.object({
  /** The organisation running it; needed only by someone who rotates for several. */
  orgId: z.uuid().optional(),
  siteIds: z.array(z.uuid()).min(1).max(500).optional(),
  filter: RotationFilterSchema.optional(),
  serials: z.array(SerialSchema).min(1).max(MAX_ROTATION_CAMERAS).optional(),
});

/**
 * What to rotate and how. The selection's parts narrow each other (sites, then the filter, then
 * the serials); at least one is required, and an empty filter means every camera in scope.
 */
export const CreateRotationInputSchema = RotationSelectionSchema.extend(
  RotationSettingsSchema.shape,
).refine(
  (input) =>
    input.siteIds !== undefined || input.filter !== undefined || input.serials !== undefined,
  { message: 'Choose cameras: sites, a fleet filter or serials.', path: ['siteIds'] },
);
export type CreateRotationInput = z.input<typeof CreateRotationInputSchema>;
export type CreateRotation = z.output<typeof CreateRotationInputSchema>;

export interface RotationCameraCandidate {
  serial: string;
  siteId: string;
  siteName: string;
  model: string | null;
}

export interface SkippedCamera {
  serial: string;
  reason: RotationSkipReason;
  /** The reason in words, as pages and the CLI show it. */
  label: string;
}

export function skippedCamera(serial: string, reason: RotationSkipReason): SkippedCamera {
  return { serial, reason, label: ROTATION_SKIP_LABELS[reason] };
}

export interface ResolvedSelection {
  org: RotationOrg;
  cameras: RotationCameraCandidate[];
  skipped: SkippedCamera[];
}

const hasActive = (account: CredentialAccount): SQL<boolean> =>
  sql<boolean>`exists (select 1 from ${credentials} where ${credentials.serial} = ${cameras.serial} and ${credentials.account} = ${account} and ${credentials.status} = 'active')`;

/**
 * The cameras a rotation would work on, and the ones it would skip with the reason: out of the
 * organisation's scope (only for serials asked by name), no active vaulted password for the
 * account (or no admin one to log in with), an open case, already in an unfinished rotation, or
 * no agent of its site reporting it. Reads only; the same answer is a preview and a job.
 */
export async function resolveRotationSelection(
  tx: Executor,
  actor: Actor,
  input: CreateRotation,
): Promise<ResolvedSelection> {
  const org = chooseRotationOrg(actor, input.orgId);
  const scope = rotatableSitesCondition(tx, org);
  const filterSite = input.filter?.siteId;
  const siteIds = [
    ...new Set([...(input.siteIds ?? []), ...(filterSite === undefined ? [] : [filterSite])]),
  ];
  if (siteIds.length > 0) {
    const visible = await tx
      .select({ id: sites.id })
      .from(sites)
      .where(and(inArray(sites.id, siteIds), scope));
    const missing = siteIds.filter((id) => !visible.some((site) => site.id === id));
    if (missing.length > 0) {
      throw new DomainError('not-found', 'No such site.', { details: { siteId: missing[0] } });
    }
  }
  const serials = input.serials === undefined ? undefined : [...new Set(input.serials)];
  const openCase = sql<boolean>`exists (select 1 from ${cases} where ${cases.serial} = ${cameras.serial} and ${notInArray(cases.status, [...TERMINAL_CASE_STATES])})`;
  const inRotation = sql<boolean>`exists (select 1 from ${rotationItems} where ${rotationItems.serial} = ${cameras.serial} and ${inArray(rotationItems.status, [...ROTATION_OPEN_STATUSES])})`;
  const rows = await tx
    .select({
      serial: cameras.serial,
      siteId: cameras.siteId,
      siteName: sites.name,
      model: cameras.model,
      agentId: agents.id,
      hasCredential: hasActive(input.account),
      hasAdmin: hasActive('admin'),
      openCase,
      inRotation,
    })
    .from(cameras)
    .innerJoin(sites, eq(sites.id, cameras.siteId))
    .leftJoin(
      agents,
      and(
        eq(agents.id, cameras.agentId),
        eq(agents.siteId, cameras.siteId),
        isNull(agents.revokedAt),
      ),
    )
    .where(
      and(
        scope,
        input.siteIds === undefined ? undefined : inArray(cameras.siteId, input.siteIds),
        ...(input.filter === undefined ? [] : filterConditions(input.filter)),
        serials === undefined ? undefined : inArray(cameras.serial, serials),
      ),
    )
    .orderBy(asc(cameras.serial))
    .limit(MAX_ROTATION_CAMERAS + 1);
  if (rows.length > MAX_ROTATION_CAMERAS) {
    throw new DomainError(
      'invalid-input',
      `The selection holds more than ${MAX_ROTATION_CAMERAS.toLocaleString('en')} cameras: narrow it, or rotate in several jobs.`,
      { details: { field: 'siteIds', limit: MAX_ROTATION_CAMERAS } },
    );
  }
  const found = new Set(rows.map((row) => row.serial));
  const skipped: SkippedCamera[] = (serials ?? [])
    .filter((serial) => !found.has(serial))
    .map((serial) => skippedCamera(serial, 'not-in-scope'));
  const selected: RotationCameraCandidate[] = [];
  for (const row of rows) {
    const reason: RotationSkipReason | null = !row.hasCredential
      ? 'no-vaulted-credential'
      : !row.hasAdmin
        ? 'no-vaulted-admin'
        : row.openCase
          ? 'open-case'
          : row.inRotation
            ? 'in-running-rotation'
            : row.agentId === null
              ? 'no-agent'
              : null;
    if (reason === null) {
      selected.push({
        serial: row.serial,
        siteId: row.siteId,
        siteName: row.siteName,
        model: row.model,
      });
    } else {
      skipped.push(skippedCamera(row.serial, reason));
    }
  }
  skipped.sort((a, b) => (a.serial < b.serial ? -1 : a.serial > b.serial ? 1 : 0));
  return { org, cameras: selected, skipped };
}
