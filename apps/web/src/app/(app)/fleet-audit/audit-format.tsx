'use client';

import type { AuditFinding } from '@custody/core';
import type { RouterOutputs } from '~/server/api/root.ts';

export type AuditSummary = RouterOutputs['fleetAudit']['summary'];
export type AuditCatalog = AuditSummary['catalog'];
export type AuditTrend = RouterOutputs['fleetAudit']['trend'];

/** What the audit page's address says: the organisation, the site and the drill-down. */
export interface AuditParams {
  orgId?: string | undefined;
  siteId?: string | undefined;
  /** The drill-down: 'any' for every camera with a finding. */
  finding?: AuditFinding | 'any' | undefined;
}

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A parameter that does not parse is dropped: an old or hand-edited link still shows the audit. */
export function auditParamsFrom(params: URLSearchParams, codes: readonly string[]): AuditParams {
  const id = (name: string) => {
    const value = params.get(name);
    return value !== null && ID.test(value) ? value : undefined;
  };
  const finding = params.get('finding');
  return {
    orgId: id('org'),
    siteId: id('site'),
    finding:
      finding === 'any' || (finding !== null && codes.includes(finding))
        ? (finding as AuditFinding | 'any')
        : undefined,
  };
}

export function auditQueryString(params: AuditParams): string {
  const search = new URLSearchParams();
  if (params.orgId) search.set('org', params.orgId);
  if (params.siteId) search.set('site', params.siteId);
  if (params.finding) search.set('finding', params.finding);
  return search.toString();
}

/** Every finding code, so links parse before the catalogue arrives from the server. */
export const FINDING_CODES = [
  'no-owner-record',
  'no-documented-credential',
  'unverified-after-reset',
  'not-seen',
  'not-in-vms',
  'firmware-below-floor',
  'duplicate-serial',
  'factory-default',
] as const satisfies readonly AuditFinding[];
// Fails to compile if core gains a finding this list lacks.
const _everyFinding: readonly (typeof FINDING_CODES)[number][] = [] as AuditFinding[];

export function exportUrl(
  params: AuditParams,
  format: 'csv' | 'json',
  view: 'cameras' | 'sites' = 'cameras',
): string {
  const search = new URLSearchParams({ format });
  if (format === 'csv') search.set('view', view);
  if (params.orgId) search.set('org', params.orgId);
  if (params.siteId) search.set('site', params.siteId);
  if (params.finding && params.finding !== 'any') search.set('finding', params.finding);
  return `/api/fleet-audit/export?${search.toString()}`;
}

export function labelOf(catalog: AuditCatalog, code: string): string {
  return catalog.find((entry) => entry.code === code)?.label ?? code;
}

const number = new Intl.NumberFormat('en');
export const formatCount = (value: number) => number.format(value);

/** "1 site", "2,000 sites". */
export const plural = (value: number, noun: string) =>
  `${formatCount(value)} ${noun}${value === 1 ? '' : 's'}`;

const COLOURS = [
  '#b3261e',
  '#1a73e8',
  '#e37400',
  '#0a7d32',
  '#8e24aa',
  '#00838f',
  '#5d4037',
  '#c2185b',
];

/**
 * Each finding's count over the snapshots as a line; the table next to it carries the same
 * numbers for assistive technology, so the drawing is hidden from it.
 */
export function TrendChart({ trend, catalog }: { trend: AuditTrend; catalog: AuditCatalog }) {
  const points = trend.points;
  if (points.length < 2) return null;
  const width = 640;
  const height = 200;
  const pad = 30;
  const max = Math.max(1, ...points.flatMap((point) => Object.values(point.findings)));
  const x = (index: number) => pad + (index * (width - 2 * pad)) / (points.length - 1);
  const y = (value: number) => height - pad - (value * (height - 2 * pad)) / max;
  return (
    <figure className="no-print-chart">
      <svg
        className="trend-chart"
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label="Findings over time (the table below has the numbers)"
      >
        <line x1={pad} y1={height - pad} x2={width - pad} y2={height - pad} stroke="currentColor" />
        <text x={2} y={pad} fontSize="10" fill="currentColor">
          {formatCount(max)}
        </text>
        <text x={2} y={height - pad} fontSize="10" fill="currentColor">
          0
        </text>
        {catalog.map((entry, index) => (
          <polyline
            key={entry.code}
            fill="none"
            stroke={COLOURS[index % COLOURS.length]}
            strokeWidth="2"
            points={points
              .map((point, at) => `${x(at)},${y(point.findings[entry.code])}`)
              .join(' ')}
          />
        ))}
      </svg>
      <figcaption>
        <ul className="legend">
          {catalog.map((entry, index) => (
            <li key={entry.code}>
              <span style={{ color: COLOURS[index % COLOURS.length] }} aria-hidden="true">
                ■
              </span>{' '}
              {entry.label}
            </li>
          ))}
        </ul>
      </figcaption>
    </figure>
  );
}
