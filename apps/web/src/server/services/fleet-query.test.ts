import { describe, expect, it } from 'vitest';
import {
  durationSeconds,
  fleetQueryFromParams,
  fleetQueryToParams,
  hasFilters,
} from './fleet-query.ts';

const SITE = '5c9d2e71-3a8b-4f06-b1d4-6e2a8c7f0b59';

describe('the fleet query in a URL', () => {
  it('round-trips every filter, the sort and the page through short parameters', () => {
    const query = fleetQueryFromParams(
      new URLSearchParams(
        `site=${SITE}&access=needs-setup&model=M3086-V&firmware=11.11.73&seen=7d&unseen=90m&presence=present&q=accc8e&sort=lastSeen&dir=desc&page=3&size=100`,
      ),
    );
    expect(query).toEqual({
      siteId: SITE,
      accessState: 'needs-setup',
      model: 'M3086-V',
      firmware: '11.11.73',
      seenWithin: '7d',
      notSeenFor: '90m',
      presence: 'present',
      q: 'accc8e',
      sort: 'lastSeen',
      dir: 'desc',
      page: 3,
      pageSize: 100,
    });
    expect(fleetQueryFromParams(fleetQueryToParams(query))).toEqual(query);
    expect(hasFilters(query)).toBe(true);
  });

  it('leaves defaults out, so the plain fleet is /fleet', () => {
    const query = fleetQueryFromParams(new URLSearchParams(''));
    expect(query).toEqual({ sort: 'serial', dir: 'asc', page: 1, pageSize: 50 });
    expect(fleetQueryToParams(query).toString()).toBe('');
    expect(hasFilters(query)).toBe(false);
  });

  it('drops a parameter that does not parse and keeps the rest of an old or edited link', () => {
    const query = fleetQueryFromParams(
      new URLSearchParams('site=not-an-id&access=haunted&seen=yesterday&page=-2&size=7&q=dome'),
    );
    expect(query).toEqual({ q: 'dome', sort: 'serial', dir: 'asc', page: 1, pageSize: 50 });
  });

  it('reads durations in minutes, hours and days', () => {
    expect(durationSeconds('90m')).toBe(5_400);
    expect(durationSeconds('24h')).toBe(86_400);
    expect(durationSeconds('7d')).toBe(604_800);
  });
});
