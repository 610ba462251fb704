'use client';

import { useEffect, useState } from 'react';
import type { AccessStateFilter } from '~/server/services/fleet-query.ts';
import './fleet.css';

export const ACCESS_STATE_LABELS: Record<AccessStateFilter, string> = {
  authenticated: 'Authenticated',
  'needs-setup': 'Needs setup (factory default)',
  'login-failed': 'Login failed',
  'locked-out': 'Locked out',
  unreachable: 'Unreachable',
  unknown: 'Not probed yet',
};

export function accessStateLabel(state: string | null): string {
  return ACCESS_STATE_LABELS[(state ?? 'unknown') as AccessStateFilter] ?? state ?? '';
}

export const AGENT_STATUS_LABELS: Record<string, string> = {
  pending: 'Never connected',
  online: 'Online',
  offline: 'Offline',
  revoked: 'Revoked',
};

/** The current time, refreshed every `intervalMs`, so "3 min ago" does not go stale. */
export function useNow(intervalMs = 30_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
];
const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto', style: 'short' });
const absolute = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'long' });

/**
 * "3 min ago". A time a little ahead of `now` (a live update newer than the last tick, or a
 * clock slightly ahead) is "just now".
 */
export function formatRelative(date: Date, now: number): string {
  const delta = date.getTime() - now;
  if (delta > -60_000 && delta < 5 * 60_000) return 'just now';
  for (const [unit, ms] of UNITS) {
    if (Math.abs(delta) >= ms || unit === 'minute') {
      return relative.format(Math.round(delta / ms), unit);
    }
  }
  return absolute.format(date);
}

export function formatAbsolute(date: Date): string {
  return absolute.format(date);
}

/** A time shown relative to now, with the exact time for anyone who asks. */
export function Time({ value, now }: { value: Date | null; now: number }) {
  if (value === null) return <>—</>;
  return (
    <time dateTime={value.toISOString()} title={formatAbsolute(value)}>
      {formatRelative(value, Math.max(now, Date.now()))}
    </time>
  );
}
