import { afterEach, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from './simulator.ts';
import { postJson } from './test-support/vapix-request.ts';

const SERIAL = 'ACCC8E000001';
const simulators: Simulator[] = [];

afterEach(async () => {
  await Promise.all(simulators.splice(0).map((simulator) => simulator.close()));
});

async function dropPattern(
  seed: number,
  dropRate: number,
): Promise<{ pattern: string; dropped: number }> {
  const simulator = await createSimulator({ addressPool: 'ports', seed, dropRate });
  simulators.push(simulator);
  const camera = await simulator.addCamera({ firmware: '10.12', serial: SERIAL });
  let pattern = '';
  for (let index = 0; index < 40; index += 1) {
    const ok = await postJson(camera.httpUrl ?? '', '/axis-cgi/systemready.cgi', {
      apiVersion: '1',
      method: 'systemready',
    }).then(
      () => true,
      () => false,
    );
    pattern += ok ? '.' : 'x';
  }
  return { pattern, dropped: camera.stats.dropped };
}

describe('dropped connections', () => {
  it('drop the same requests for the same seed, near the configured rate', async () => {
    const first = await dropPattern(42, 0.3);
    const second = await dropPattern(42, 0.3);
    expect(second.pattern).toBe(first.pattern);
    const drops = [...first.pattern].filter((outcome) => outcome === 'x').length;
    expect(drops).toBe(first.dropped);
    expect(drops).toBeGreaterThanOrEqual(5);
    expect(drops).toBeLessThanOrEqual(20);
  });

  it('drop a different set of requests for another seed', async () => {
    const first = await dropPattern(42, 0.3);
    const other = await dropPattern(43, 0.3);
    expect(other.pattern).not.toBe(first.pattern);
  });

  it('never drop at rate 0', async () => {
    const { pattern } = await dropPattern(42, 0);
    expect(pattern).toBe('.'.repeat(40));
  });
});

describe('latency', () => {
  it('delays answers by the camera latency, which overrides the simulator default', async () => {
    const simulator = await createSimulator({ addressPool: 'ports', latencyMs: 0, seed: 1 });
    simulators.push(simulator);
    const fast = await simulator.addCamera({ firmware: '12.x' });
    const slow = await simulator.addCamera({ firmware: '12.x', latencyMs: 120, jitterMs: 20 });
    const time = async (base: string) => {
      const started = performance.now();
      await postJson(base, '/axis-cgi/systemready.cgi', { apiVersion: '1', method: 'systemready' });
      return performance.now() - started;
    };
    expect(await time(slow.httpUrl ?? '')).toBeGreaterThanOrEqual(115);
    expect(await time(fast.httpUrl ?? '')).toBeLessThan(100);
  });

  it('rejects a drop rate outside 0..1', async () => {
    await expect(createSimulator({ dropRate: 1.5 })).rejects.toThrow(/dropRate/);
  });
});
