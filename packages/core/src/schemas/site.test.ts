import { describe, expect, it } from 'vitest';
import { DEFAULT_APPROVAL_QUORUM, DhcpRangeSchema, SiteSchema, isInDhcpRange } from './site.ts';

const SITE = {
  id: '3f1c2a9e-8b4d-4c6e-9f00-1a2b3c4d5e6f',
  name: 'Warehouse 4',
  ownerOrgId: '7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d',
};

describe('SiteSchema', () => {
  it('defaults the notes and a quorum of one approver', () => {
    expect(DEFAULT_APPROVAL_QUORUM).toBe(1);
    expect(SiteSchema.parse(SITE)).toEqual({
      ...SITE,
      address: '',
      networkNotes: '',
      approvalQuorum: 1,
    });
  });

  it('accepts a per-site quorum from 1 to 10 whole approvers', () => {
    expect(SiteSchema.parse({ ...SITE, approvalQuorum: 3 }).approvalQuorum).toBe(3);
    for (const approvalQuorum of [0, 11, 1.5, -1]) {
      expect(SiteSchema.safeParse({ ...SITE, approvalQuorum }).success).toBe(false);
    }
  });

  it('accepts a DHCP range and rejects one that ends before it starts', () => {
    const dhcpRange = { start: '10.0.0.100', end: '10.0.0.199' };
    expect(SiteSchema.parse({ ...SITE, dhcpRange }).dhcpRange).toEqual(dhcpRange);
    const backwards = SiteSchema.safeParse({
      ...SITE,
      dhcpRange: { start: '10.0.1.0', end: '10.0.0.255' },
    });
    expect(backwards.success).toBe(false);
    expect(backwards.error?.issues[0]?.path).toEqual(['dhcpRange', 'end']);
    expect(DhcpRangeSchema.safeParse({ start: '10.0.0.1', end: 'fe80::1' }).success).toBe(false);
  });
});

describe('isInDhcpRange', () => {
  const range = DhcpRangeSchema.parse({ start: '192.168.1.100', end: '192.168.2.20' });

  it('includes both ends and compares whole addresses, not text', () => {
    expect(isInDhcpRange('192.168.1.100', range)).toBe(true);
    expect(isInDhcpRange('192.168.1.255', range)).toBe(true);
    expect(isInDhcpRange('192.168.2.20', range)).toBe(true);
    expect(isInDhcpRange('192.168.1.99', range)).toBe(false);
    expect(isInDhcpRange('192.168.2.21', range)).toBe(false);
    expect(isInDhcpRange('192.168.10.1', range)).toBe(false);
  });

  it('says no for anything that is not an IPv4 address', () => {
    expect(isInDhcpRange('fe80::1', range)).toBe(false);
    expect(isInDhcpRange('192.168.1.150.1', range)).toBe(false);
  });
});
