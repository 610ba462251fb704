import { describe, expect, it } from 'vitest';
import { createIngestGate } from './ingest-gate.ts';

function deferred() {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

describe('the ingest gate', () => {
  it('runs at most its number of slots at once and the rest in arrival order', async () => {
    const gate = createIngestGate(2);
    const started: number[] = [];
    const releases = [deferred(), deferred(), deferred(), deferred()];
    const runs = releases.map((release, index) =>
      gate.run(async () => {
        started.push(index);
        await release.promise;
        return index;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect(gate.active).toBe(2);
    expect(gate.waiting).toBe(2);

    releases[1]!.resolve();
    await runs[1];
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    expect(gate.active).toBe(2);

    releases[0]!.resolve();
    releases[2]!.resolve();
    releases[3]!.resolve();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3]);
    expect(started).toEqual([0, 1, 2, 3]);
    expect(gate.active).toBe(0);
    expect(gate.waiting).toBe(0);
  });

  it('frees the slot of a run that fails and passes the failure on', async () => {
    const gate = createIngestGate(1);
    const failing = gate.run(() => Promise.reject(new Error('database gone')));
    const next = gate.run(() => Promise.resolve('applied'));
    await expect(failing).rejects.toThrow('database gone');
    await expect(next).resolves.toBe('applied');
    expect(gate.active).toBe(0);
  });

  it('refuses to be built without a slot', () => {
    expect(() => createIngestGate(0)).toThrow(RangeError);
  });
});
