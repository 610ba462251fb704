import { z } from 'zod';
import { DomainError } from '@custody/core';
import type { Database } from '@custody/db';
import type { Actor } from '../actor.ts';
import { requireCaseWork, type CaseSite } from './case-access.ts';
import {
  NetworkPlanDetailsSchema,
  TimePlanDetailsSchema,
  lockCase,
  updateCaseDetails,
  type CaseRecord,
  type RecommissionPlan,
} from './case-store.ts';

/** AXIS accounts are 1–14 letters or digits (reference: pwdgrp answers "account user name"). */
const DeviceUsernameSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9]{1,14}$/, 'A device user name is 1–14 letters or digits.');

export const PlanInputSchema = z.object({
  caseId: z.uuid(),
  network: NetworkPlanDetailsSchema.nullable().default(null),
  time: TimePlanDetailsSchema.nullable().default(null),
  vmsPlatform: z.string().trim().max(200).default(''),
  adminUsername: DeviceUsernameSchema.default('root'),
  serviceUsername: DeviceUsernameSchema.default('custodysvc'),
  vmsUsername: DeviceUsernameSchema.nullable().default('vms'),
  removeAccounts: z.array(DeviceUsernameSchema).max(20).default([]),
  expectedRevision: z.int().optional(),
});
export type PlanInput = z.input<typeof PlanInputSchema>;

/** States in which the plan may still change: before provisioning has run for this entry. */
const PLANNABLE = [
  'opened',
  'triaged',
  'awaiting-ownership',
  'awaiting-approval',
  'approved',
  'resetting',
  'awaiting-device',
  'provisioning',
  'wont-reset',
] as const;

export function ipv4ToNumber(address: string): number | null {
  const parts = address.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value;
}

function fieldError(field: string, message: string): DomainError {
  return new DomainError('invalid-input', message, { details: { field } });
}

/**
 * A static address must lie outside the site's DHCP range (a lease would collide with it), in the
 * gateway's subnet, and be neither the gateway itself nor the subnet's network or broadcast.
 */
export function checkNetworkPlan(
  network: RecommissionPlan['network'],
  site: Pick<CaseSite, 'dhcpRangeStart' | 'dhcpRangeEnd'>,
): void {
  if (network === null || network.mode === 'dhcp') return;
  const address = ipv4ToNumber(network.address);
  const gateway = ipv4ToNumber(network.gateway);
  if (address === null) throw fieldError('network.address', 'Not an IPv4 address.');
  if (gateway === null) throw fieldError('network.gateway', 'Not an IPv4 address.');
  const size = 2 ** (32 - network.prefixLength);
  const base = Math.floor(address / size) * size;
  if (Math.floor(gateway / size) * size !== base) {
    throw fieldError(
      'network.gateway',
      `The gateway ${network.gateway} is not in ${network.address}/${network.prefixLength}.`,
    );
  }
  if (address === gateway) {
    throw fieldError('network.address', 'The camera cannot take the gateway’s address.');
  }
  if (network.prefixLength <= 30 && (address === base || address === base + size - 1)) {
    throw fieldError(
      'network.address',
      `${network.address} is the network or broadcast address of its subnet.`,
    );
  }
  const start = site.dhcpRangeStart === null ? null : ipv4ToNumber(site.dhcpRangeStart);
  const end = site.dhcpRangeEnd === null ? null : ipv4ToNumber(site.dhcpRangeEnd);
  if (start !== null && end !== null && address >= start && address <= end) {
    throw fieldError(
      'network.address',
      `${network.address} is inside the site's DHCP range (${site.dhcpRangeStart}–${site.dhcpRangeEnd}); choose a static address outside it, or use DHCP.`,
    );
  }
}

/**
 * Saves what provisioning will apply: accounts, network, time, the VMS it goes back to and, for a
 * clean-up, the stale accounts to remove. Passwords are generated when the step runs, never here.
 */
export async function saveCasePlan(
  db: Database,
  actor: Actor,
  input: PlanInput,
): Promise<CaseRecord> {
  const parsed = PlanInputSchema.parse(input);
  return db.transaction(async (tx) => {
    const work = await requireCaseWork(tx, actor, parsed.caseId, 'plan the recommission');
    const record = await lockCase(tx, parsed.caseId);
    if (!(PLANNABLE as readonly string[]).includes(record.status)) {
      throw new DomainError(
        'invalid-transition',
        `The plan can no longer change on a case in state "${record.status}".`,
        { details: { from: record.status } },
      );
    }
    checkNetworkPlan(parsed.network, work.site);
    const names = [parsed.adminUsername, parsed.serviceUsername, parsed.vmsUsername].filter(
      (name): name is string => name !== null,
    );
    if (new Set(names).size !== names.length) {
      throw fieldError(
        'serviceUsername',
        'The administrator, service and VMS accounts must be different accounts.',
      );
    }
    const workingAdmin = record.details.triage?.workingAdmin?.username;
    for (const name of parsed.removeAccounts) {
      if (names.includes(name) || name === workingAdmin) {
        throw fieldError(
          'removeAccounts',
          `The account ${name} is one Custody keeps; it cannot be removed.`,
        );
      }
    }
    const plan: RecommissionPlan = {
      network: parsed.network,
      time: parsed.time,
      vms: parsed.vmsPlatform === '' ? null : { platform: parsed.vmsPlatform },
      adminUsername: parsed.adminUsername,
      serviceUsername: parsed.serviceUsername,
      vmsUsername: parsed.vmsUsername,
      removeAccounts: [...new Set(parsed.removeAccounts)],
      plannedBy: { id: actor.userId, name: actor.name },
      plannedAt: new Date().toISOString(),
    };
    return updateCaseDetails(tx, {
      caseId: record.id,
      actor: { kind: 'user', id: actor.userId },
      orgId: work.orgId,
      action: 'case.plan-saved',
      expectedRevision: parsed.expectedRevision,
      data: {
        network:
          plan.network === null
            ? 'unchanged'
            : plan.network.mode === 'dhcp'
              ? 'dhcp'
              : `${plan.network.address}/${plan.network.prefixLength}`,
        timezone: plan.time?.timezone ?? null,
        vms: plan.vms?.platform ?? null,
        accounts: names,
        removeAccounts: plan.removeAccounts,
      },
      details: (current) => ({ ...current, plan }),
    });
  });
}
