import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  PROTOCOL_VERSION,
  acceptedProtocolVersions,
  negotiateProtocolVersion,
} from './protocol-version.ts';

describe('acceptedProtocolVersions', () => {
  it('accepts the current version and the one before it, newest first', () => {
    expect(acceptedProtocolVersions(7)).toEqual([7, 6]);
  });

  it('never offers a version below 1', () => {
    expect(acceptedProtocolVersions(1)).toEqual([1]);
  });

  it('defaults to the version this build speaks', () => {
    expect(acceptedProtocolVersions()[0]).toBe(PROTOCOL_VERSION);
    expect(PROTOCOL_VERSION).toBeGreaterThanOrEqual(1);
  });
});

describe('negotiateProtocolVersion', () => {
  const accepted = acceptedProtocolVersions(5);

  it('accepts an agent that speaks only N', () => {
    expect(negotiateProtocolVersion([5], accepted)).toBe(5);
  });

  it('accepts an agent that speaks only N-1', () => {
    expect(negotiateProtocolVersion([4], accepted)).toBe(4);
  });

  it('refuses an agent that speaks only N-2', () => {
    expect(negotiateProtocolVersion([3], accepted)).toBeNull();
  });

  it('refuses an agent that speaks only N+1', () => {
    expect(negotiateProtocolVersion([6], accepted)).toBeNull();
  });

  it('picks the highest version both sides share, whatever the order offered', () => {
    expect(negotiateProtocolVersion([3, 4, 5, 6], accepted)).toBe(5);
    expect(negotiateProtocolVersion([6, 4, 3], accepted)).toBe(4);
  });

  it('returns null when nothing is offered', () => {
    expect(negotiateProtocolVersion([], accepted)).toBeNull();
  });

  it('negotiates against this build by default', () => {
    expect(negotiateProtocolVersion([PROTOCOL_VERSION])).toBe(PROTOCOL_VERSION);
    expect(negotiateProtocolVersion([PROTOCOL_VERSION + 1])).toBeNull();
  });

  it('returns a version both sides speak and no shared version above it, or null when none is shared', () => {
    const versions = fc.array(fc.integer({ min: 1, max: 12 }), { maxLength: 6 });
    fc.assert(
      fc.property(versions, versions, (offered, ours) => {
        const chosen = negotiateProtocolVersion(offered, ours);
        if (chosen === null) {
          expect(offered.some((version) => ours.includes(version))).toBe(false);
          return;
        }
        expect(offered).toContain(chosen);
        expect(ours).toContain(chosen);
        expect(offered.some((version) => version > chosen && ours.includes(version))).toBe(false);
      }),
    );
  });
});
