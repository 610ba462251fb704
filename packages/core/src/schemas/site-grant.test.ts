import { describe, expect, it } from 'vitest';
import { SiteGrantSchema, isSiteGrantActive } from './site-grant.ts';

const GRANT = {
  siteId: '3f1c2a9e-8b4d-4c6e-9f00-1a2b3c4d5e6f',
  ownerOrgId: '7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d',
  integratorOrgId: '7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5e',
  grantedBy: '7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5f',
  grantedAt: '2025-06-01T00:00:00Z',
};

describe('SiteGrantSchema', () => {
  it('parses a grant as not revoked unless a revocation time is given', () => {
    expect(SiteGrantSchema.parse(GRANT)).toEqual({
      ...GRANT,
      grantedAt: new Date('2025-06-01T00:00:00Z'),
      revokedAt: null,
    });
    expect(
      SiteGrantSchema.parse({ ...GRANT, revokedAt: '2025-07-01T00:00:00Z' }).revokedAt,
    ).toEqual(new Date('2025-07-01T00:00:00Z'));
  });

  it('needs the integrator organisation', () => {
    const { integratorOrgId: _omitted, ...withoutIntegrator } = GRANT;
    expect(SiteGrantSchema.safeParse(withoutIntegrator).success).toBe(false);
  });
});

describe('isSiteGrantActive', () => {
  const grantedAt = new Date('2025-06-01T00:00:00Z');
  const revokedAt = new Date('2025-07-01T00:00:00Z');

  it('is active from the grant until the revocation, exclusive', () => {
    expect(isSiteGrantActive({ grantedAt, revokedAt }, new Date('2025-05-31T23:59:59Z'))).toBe(
      false,
    );
    expect(isSiteGrantActive({ grantedAt, revokedAt }, grantedAt)).toBe(true);
    expect(isSiteGrantActive({ grantedAt, revokedAt }, new Date(revokedAt.getTime() - 1))).toBe(
      true,
    );
    expect(isSiteGrantActive({ grantedAt, revokedAt }, revokedAt)).toBe(false);
  });

  it('stays active while never revoked', () => {
    expect(
      isSiteGrantActive({ grantedAt, revokedAt: null }, new Date('2030-01-01T00:00:00Z')),
    ).toBe(true);
  });
});
