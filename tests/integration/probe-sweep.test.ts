import { describe, expect, it } from 'vitest';
import { formatFigures, runProbeSweep } from '../bench/probe-sweep.ts';

// The benchmark's own harness, run small so it cannot rot; its figures are printed by
// `pnpm --filter @custody/tests bench`, never asserted on here.
describe('probe sweep harness', () => {
  it('probes every simulated camera with working credentials and derives the physical limit', async () => {
    const figures = await runProbeSweep({ count: 12, latencyMs: 2, concurrency: 4 });
    expect(figures.cameras).toBe(12);
    expect(figures.accessStates).toEqual({ authenticated: 12 });
    expect(figures.requestsPerProbe).toBeGreaterThan(2);
    expect(figures.physicalLimitMs).toBeCloseTo((12 * figures.requestsPerProbe * 2) / 4, 6);
    expect(formatFigures(figures)).toMatch(/ratio to limit\s+\d+\.\d\d/);
  });
});
