import type { AccessState } from '@custody/core';
import { z } from 'zod';

// The fleet inventory's query vocabulary, shared by the router (validation) and the fleet page
// (the URL query string). It imports nothing but zod, so client components can use it; core is
// imported for types only.

export const ACCESS_STATE_FILTERS = [
  'authenticated',
  'needs-setup',
  'login-failed',
  'locked-out',
  'unreachable',
  /** Not probed yet: the camera's access state is null. */
  'unknown',
] as const satisfies readonly (AccessState | 'unknown')[];
export type AccessStateFilter = (typeof ACCESS_STATE_FILTERS)[number];
// Fails to compile if core gains an access state this list lacks.
const _everyAccessState: readonly AccessStateFilter[] = [] as AccessState[];

export const FLEET_SORTS = [
  'serial',
  'model',
  'firmware',
  'lastSeen',
  'site',
  'accessState',
] as const;
export type FleetSort = (typeof FLEET_SORTS)[number];

export const PRESENCE_FILTERS = ['present', 'lost'] as const;

const DURATION_UNITS = { m: 60, h: 3_600, d: 86_400 } as const;
const MAX_DURATION_S = 10 * 365 * 86_400;

/** `90m`, `24h`, `7d`: how far back "last seen" filters reach. */
export const DurationSchema = z
  .string()
  .regex(/^[1-9][0-9]{0,5}[mhd]$/, 'A duration is a number followed by m, h or d (e.g. 24h).')
  .refine((text) => durationSeconds(text) <= MAX_DURATION_S, 'At most ten years.');

export function durationSeconds(text: string): number {
  const unit = text.slice(-1) as keyof typeof DURATION_UNITS;
  return Number(text.slice(0, -1)) * (DURATION_UNITS[unit] ?? Number.NaN);
}

/** Choices the fleet page offers for the "last seen" filters. */
export const SEEN_PRESETS = [
  { value: '1h', label: '1 hour' },
  { value: '24h', label: '24 hours' },
  { value: '7d', label: '7 days' },
  { value: '30d', label: '30 days' },
] as const;

export const FLEET_PAGE_SIZES = [25, 50, 100, 200] as const;
export const DEFAULT_PAGE_SIZE = 50;

const FilterText = z.string().trim().min(1).max(200);

export const FleetQuerySchema = z.object({
  siteId: z.uuid().optional(),
  accessState: z.enum(ACCESS_STATE_FILTERS).optional(),
  /** Exact model, as the facets list it. */
  model: FilterText.optional(),
  /** Exact firmware version. */
  firmware: FilterText.optional(),
  /** Last seen less than this long ago. */
  seenWithin: DurationSchema.optional(),
  /** Last seen more than this long ago. */
  notSeenFor: DurationSchema.optional(),
  presence: z.enum(PRESENCE_FILTERS).optional(),
  /** Part of a serial (any spelling of a MAC), a model or a product name. */
  q: z.string().trim().max(100).optional(),
  sort: z.enum(FLEET_SORTS).default('serial'),
  dir: z.enum(['asc', 'desc']).default('asc'),
  page: z.int().min(1).max(1_000_000).default(1),
  pageSize: z.int().min(10).max(200).default(DEFAULT_PAGE_SIZE),
});
export type FleetQueryInput = z.input<typeof FleetQuerySchema>;
export type FleetQuery = z.output<typeof FleetQuerySchema>;

const FILTER_KEYS = [
  'siteId',
  'accessState',
  'model',
  'firmware',
  'seenWithin',
  'notSeenFor',
  'presence',
  'q',
] as const;

/** URL parameter names: short, readable, stable (they end up in shared links). */
const PARAMS: Record<keyof FleetQuery, string> = {
  siteId: 'site',
  accessState: 'access',
  model: 'model',
  firmware: 'firmware',
  seenWithin: 'seen',
  notSeenFor: 'unseen',
  presence: 'presence',
  q: 'q',
  sort: 'sort',
  dir: 'dir',
  page: 'page',
  pageSize: 'size',
};

/**
 * The query a shared URL describes. A parameter that does not parse is dropped rather than
 * failing the page: an old or hand-edited link still shows the fleet.
 */
export function fleetQueryFromParams(params: URLSearchParams): FleetQuery {
  const raw: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(PARAMS) as [keyof FleetQuery, string][]) {
    const value = params.get(name);
    if (value === null || value === '') continue;
    raw[key] = key === 'page' || key === 'pageSize' ? Number(value) : value;
  }
  const defaults = FleetQuerySchema.parse({});
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const field = FleetQuerySchema.shape[key as keyof FleetQuery];
    if (field.safeParse(value).success) kept[key] = value;
  }
  return { ...defaults, ...FleetQuerySchema.parse(kept) };
}

/** The URL parameters of a query, defaults left out so links stay short. */
export function fleetQueryToParams(query: FleetQueryInput): URLSearchParams {
  const params = new URLSearchParams();
  const defaults = FleetQuerySchema.parse({});
  for (const [key, name] of Object.entries(PARAMS) as [keyof FleetQuery, string][]) {
    const value = query[key];
    if (value === undefined || value === '' || value === defaults[key]) continue;
    params.set(name, String(value));
  }
  return params;
}

export function hasFilters(query: FleetQuery): boolean {
  return FILTER_KEYS.some((key) => query[key] !== undefined && query[key] !== '');
}
