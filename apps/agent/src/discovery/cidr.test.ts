import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAddressFilter, expandCidr, isInCidr, parsePorts } from './cidr.ts';

describe('expandCidr', () => {
  it('lists the hosts of a /30 without the network and broadcast addresses', () => {
    expect(expandCidr('192.0.2.4/30')).toEqual({
      cidr: '192.0.2.4/30',
      hosts: ['192.0.2.5', '192.0.2.6'],
    });
  });

  it('aligns a range written from a host address to its network', () => {
    const range = expandCidr('127.0.10.77/24');
    expect(range.cidr).toBe('127.0.10.0/24');
    expect(range.hosts[0]).toBe('127.0.10.1');
    expect(range.hosts.at(-1)).toBe('127.0.10.254');
  });

  it('treats a bare address as a /32 and keeps both addresses of a /31', () => {
    expect(expandCidr('10.1.2.3').hosts).toEqual(['10.1.2.3']);
    expect(expandCidr('10.1.2.2/31').hosts).toEqual(['10.1.2.2', '10.1.2.3']);
  });

  it('refuses ranges larger than a /16 and anything that is not IPv4', () => {
    expect(() => expandCidr('10.0.0.0/15')).toThrow(/at most a \/16/);
    for (const bad of [
      '',
      '10.0.0/24',
      '256.0.0.1/24',
      '10.0.0.0/33',
      'fe80::1/64',
      'camera.local',
    ]) {
      expect(() => expandCidr(bad), bad).toThrow(RangeError);
    }
  });

  it('holds exactly the usable hosts, each once, for every prefix from /16 to /30', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.integer({ min: 16, max: 30 }),
        (base, prefix) => {
          const address = [base >>> 24, (base >>> 16) & 255, (base >>> 8) & 255, base & 255].join(
            '.',
          );
          const { hosts, cidr } = expandCidr(`${address}/${prefix}`);
          expect(hosts).toHaveLength(2 ** (32 - prefix) - 2);
          expect(new Set(hosts).size).toBe(hosts.length);
          expect(cidr.endsWith(`/${prefix}`)).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('parsePorts', () => {
  it('reads a comma-separated list and drops duplicates', () => {
    expect(parsePorts('80, 443,80')).toEqual([80, 443]);
  });

  it('refuses ports outside 1-65535 and non-numbers', () => {
    for (const bad of ['', '0', '65536', 'http', '80,,443', '-1']) {
      expect(() => parsePorts(bad), bad).toThrow(RangeError);
    }
  });
});

describe('isInCidr', () => {
  it('tells whether an IPv4 address lies in a range, whatever the range is written from', () => {
    expect(isInCidr('10.20.0.7', '10.20.0.0/24')).toBe(true);
    expect(isInCidr('10.20.1.7', '10.20.0.9/24')).toBe(false);
    expect(isInCidr('10.20.1.7', '10.20.0.0/16')).toBe(true);
    expect(isInCidr('10.20.0.7', '10.20.0.7')).toBe(true);
    expect(isInCidr('camera.local', '10.20.0.0/16')).toBe(false);
    expect(isInCidr('fe80::1', '10.20.0.0/16')).toBe(false);
  });
});

describe('createAddressFilter', () => {
  const allowed = createAddressFilter({ cidrs: ['10.20.0.0/24'], localSubnets: ['172.16.5.0/24'] });

  it('allows the site ranges, the local subnets, link-local and the AXIS default address', () => {
    for (const host of ['10.20.0.9', '172.16.5.200', '169.254.44.10', '192.168.0.90']) {
      expect(allowed(host)).toBe(true);
    }
  });

  it('refuses any other address and anything that is not an IPv4 address', () => {
    for (const host of ['10.20.1.9', '8.8.8.8', '192.168.0.91', 'camera.example.com', '::1']) {
      expect(allowed(host)).toBe(false);
    }
  });
});
