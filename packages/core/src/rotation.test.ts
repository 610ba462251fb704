import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isDomainError } from './domain-error.ts';
import {
  ROTATION_ITEM_STATUSES,
  RotationSettingsSchema,
  decideRotationStep,
  interpretChangeResult,
  interpretCheckResult,
  nextRotationItemStep,
  planRotationWaves,
  recheckDelayMs,
  type ChangeVerdict,
  type CheckVerdict,
  type RotationCandidate,
  type RotationItemEvent,
  type RotationItemStatus,
} from './rotation.ts';

const SITE_A = '00000000-0000-4000-8000-00000000000a';
const SITE_B = '00000000-0000-4000-8000-00000000000b';

function camera(n: number, model: string | null, siteId = SITE_A): RotationCandidate {
  return { serial: `ACCC8E${n.toString(16).toUpperCase().padStart(6, '0')}`, siteId, model };
}

describe('RotationSettingsSchema', () => {
  it('fills the defaults: admin, a canary of 5, waves of 50, no failure tolerated', () => {
    expect(RotationSettingsSchema.parse({})).toEqual({
      account: 'admin',
      canarySize: 5,
      waveSize: 50,
      maxFailures: 0,
    });
  });

  it('refuses a canary of 0, a wave over 1,000 and a negative failure budget', () => {
    expect(RotationSettingsSchema.safeParse({ canarySize: 0 }).success).toBe(false);
    expect(RotationSettingsSchema.safeParse({ waveSize: 1001 }).success).toBe(false);
    expect(RotationSettingsSchema.safeParse({ maxFailures: -1 }).success).toBe(false);
    expect(RotationSettingsSchema.safeParse({ account: 'root' }).success).toBe(false);
  });
});

describe('planRotationWaves', () => {
  it('puts one camera of each model in the canary before a second of any', () => {
    const cameras = [
      camera(1, 'P3265'),
      camera(2, 'P3265'),
      camera(3, 'P3265'),
      camera(4, 'M3085'),
      camera(5, 'Q6135'),
      camera(6, null),
    ];
    const plan = planRotationWaves(cameras, { canarySize: 4, waveSize: 10 });
    const canary = cameras.filter((c) => plan.get(c.serial) === 0).map((c) => c.model);
    expect(canary.sort()).toEqual(['M3085', 'P3265', 'Q6135', null].sort());
  });

  it('spreads a model’s canary cameras over its sites', () => {
    const cameras = [
      camera(1, 'P3265', SITE_A),
      camera(2, 'P3265', SITE_A),
      camera(3, 'P3265', SITE_B),
    ];
    const plan = planRotationWaves(cameras, { canarySize: 2, waveSize: 10 });
    expect(plan.get(cameras[0]!.serial)).toBe(0);
    expect(plan.get(cameras[2]!.serial)).toBe(0);
    expect(plan.get(cameras[1]!.serial)).toBe(1);
  });

  it('cuts the rest into waves of the wave size, every camera exactly once', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 120 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 30 }),
        (count, canarySize, waveSize) => {
          const models = ['A', 'B', null];
          const cameras = Array.from({ length: count }, (_, index) =>
            camera(index + 1, models[index % 3] ?? null, index % 2 === 0 ? SITE_A : SITE_B),
          );
          const plan = planRotationWaves(cameras, { canarySize, waveSize });
          expect(plan.size).toBe(count);
          const perWave = new Map<number, number>();
          for (const wave of plan.values()) perWave.set(wave, (perWave.get(wave) ?? 0) + 1);
          expect(perWave.get(0) ?? 0).toBe(Math.min(canarySize, count));
          for (const [wave, size] of perWave)
            if (wave > 0) expect(size).toBeLessThanOrEqual(waveSize);
          const rest = count - Math.min(canarySize, count);
          expect(Math.max(0, ...perWave.keys())).toBe(Math.ceil(rest / waveSize));
        },
      ),
    );
  });

  it('takes the sites in turn in every wave, so each site’s agent works in each', () => {
    const SITE_C = '00000000-0000-4000-8000-00000000000c';
    const sites = [SITE_A, SITE_B, SITE_C];
    // 3 sites of 11, listed site by site.
    const cameras = Array.from({ length: 33 }, (_, index) =>
      camera(index + 1, 'P3265', sites[Math.floor(index / 11)]),
    );
    const plan = planRotationWaves(cameras, { canarySize: 3, waveSize: 6 });
    const waves = new Map<number, string[]>();
    for (const c of cameras) {
      const wave = plan.get(c.serial)!;
      waves.set(wave, [...(waves.get(wave) ?? []), c.siteId]);
    }
    expect([...waves.keys()].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const [wave, siteIds] of waves) {
      for (const site of sites) {
        expect(siteIds.filter((id) => id === site).length, `wave ${wave}`).toBe(wave === 0 ? 1 : 2);
      }
    }
  });

  it('gives the same plan for the same cameras in any order', () => {
    const cameras = Array.from({ length: 30 }, (_, index) =>
      camera(index + 1, index % 4 === 0 ? 'A' : 'B', index % 3 === 0 ? SITE_A : SITE_B),
    );
    const forward = planRotationWaves(cameras, { canarySize: 5, waveSize: 7 });
    const backward = planRotationWaves([...cameras].reverse(), { canarySize: 5, waveSize: 7 });
    expect([...backward.entries()].sort()).toEqual([...forward.entries()].sort());
  });
});

describe('interpretChangeResult', () => {
  const finished = (overrides: Partial<Parameters<typeof interpretChangeResult>[0]>) =>
    interpretChangeResult({
      status: 'failed',
      dispatchCount: 1,
      result: null,
      error: null,
      ...overrides,
    });

  it('is proven only when the new password works and the old one fails', () => {
    expect(
      finished({
        status: 'succeeded',
        result: { newCredentialWorks: true, oldCredentialFails: true },
      }).verdict,
    ).toBe('proven');
    for (const result of [
      { newCredentialWorks: true, oldCredentialFails: null },
      { newCredentialWorks: true },
      { newCredentialWorks: false, oldCredentialFails: true },
      {},
    ]) {
      expect(finished({ status: 'succeeded', result }).verdict).toBe('unknown');
    }
  });

  it('counts a command that never reached the agent as unchanged', () => {
    expect(finished({ status: 'expired', dispatchCount: 0 }).verdict).toBe('unchanged');
    expect(finished({ status: 'cancelled', dispatchCount: 0 }).verdict).toBe('unchanged');
    expect(
      finished({
        error: { code: 'secrets-unavailable', message: 'The next credential is not held.' },
      }).verdict,
    ).toBe('unchanged');
    expect(
      finished({ error: { code: 'expired', message: 'expired', outcome: 'refused' } }).verdict,
    ).toBe('unchanged');
    expect(
      finished({ error: { code: 'not-run', message: 'never ran', outcome: 'failed' } }).verdict,
    ).toBe('unchanged');
  });

  it('counts a command sent and then expired or cancelled as unknown', () => {
    expect(finished({ status: 'expired', dispatchCount: 1 }).verdict).toBe('unknown');
    expect(finished({ status: 'cancelled', dispatchCount: 2 }).verdict).toBe('unknown');
    // Sent once, then failed unsent at a re-send: the first copy may have arrived.
    expect(
      finished({ dispatchCount: 2, error: { code: 'secrets-unavailable', message: 'gone' } })
        .verdict,
    ).toBe('unknown');
  });

  it('believes a failure before the change only when the verb says so or only it can say it', () => {
    const loginFailed = { code: 'login-failed', message: 'rejected', outcome: 'failed' };
    expect(finished({ error: loginFailed }).verdict).toBe('unknown');
    expect(finished({ error: loginFailed, result: { passwordChanged: false } }).verdict).toBe(
      'unchanged',
    );
    expect(finished({ error: { code: 'unreachable', message: 'reset by peer' } }).verdict).toBe(
      'unknown',
    );
    for (const code of ['wrong-device', 'no-such-account', 'not-admin', 'password-policy']) {
      expect(finished({ error: { code, message: code, outcome: 'failed' } }).verdict).toBe(
        'unchanged',
      );
    }
    expect(
      finished({ error: { code: 'interrupted', message: 'the agent stopped', outcome: 'failed' } })
        .verdict,
    ).toBe('unknown');
  });

  it('flags a lockout from the error or from either login check', () => {
    expect(finished({ error: { code: 'locked-out', message: 'blocked' } }).lockedOut).toBe(true);
    expect(
      finished({
        status: 'failed',
        error: { code: 'rotation-unverified', message: 'x' },
        result: { passwordChanged: true, newCredentialCheck: 'locked-out' },
      }),
    ).toMatchObject({ verdict: 'unknown', lockedOut: true });
    expect(finished({ error: { code: 'unreachable', message: 'x' } }).lockedOut).toBe(false);
  });

  it('keeps the agent’s words and code, clipped', () => {
    const verdict = finished({
      error: { code: 'interrupted', message: 'x'.repeat(2000), outcome: 'failed' },
    });
    expect(verdict).toMatchObject({ problem: { code: 'interrupted' } });
    if (verdict.verdict === 'proven') throw new Error('unexpected');
    expect(verdict.problem.message.length).toBeLessThanOrEqual(500);
  });
});

describe('interpretCheckResult', () => {
  const refs = { next: 'next', previous: 'previous' };
  const check = (
    entries: { ref: string; outcome: string }[],
    extra: Record<string, unknown> = {},
  ) =>
    interpretCheckResult(
      {
        status: 'succeeded',
        dispatchCount: 1,
        result: { credentials: entries, ...extra },
        error: null,
      },
      refs,
    );

  it('reads which of the two versions the camera accepts', () => {
    expect(
      check([
        { ref: 'next', outcome: 'works' },
        { ref: 'previous', outcome: 'rejected' },
      ]).verdict,
    ).toBe('new-works');
    expect(
      check([
        { ref: 'next', outcome: 'rejected' },
        { ref: 'previous', outcome: 'works' },
      ]).verdict,
    ).toBe('old-works');
    expect(
      check([
        { ref: 'next', outcome: 'rejected' },
        { ref: 'previous', outcome: 'rejected' },
      ]).verdict,
    ).toBe('neither');
  });

  it('stays unknown when the new one was not tried, with the camera’s retry-after', () => {
    const verdict = check(
      [
        { ref: 'next', outcome: 'not-tried-budget-spent' },
        { ref: 'previous', outcome: 'not-tried-budget-spent' },
      ],
      { stopped: 'budget-spent', retryAfterMs: 120_000 },
    );
    expect(verdict).toMatchObject({ verdict: 'unknown', lockedOut: false, retryAfterMs: 120_000 });
    expect(
      check([{ ref: 'next', outcome: 'locked-out' }], { stopped: 'locked-out' }),
    ).toMatchObject({ verdict: 'unknown', lockedOut: true });
    expect(
      check([
        { ref: 'next', outcome: 'rejected' },
        { ref: 'previous', outcome: 'not-tried-budget-spent' },
      ]).verdict,
    ).toBe('unknown');
  });

  it('treats a check that did not run as unknown', () => {
    expect(
      interpretCheckResult(
        {
          status: 'failed',
          dispatchCount: 1,
          result: null,
          error: { code: 'unreachable', message: 'no answer' },
        },
        refs,
      ),
    ).toMatchObject({ verdict: 'unknown', problem: { code: 'unreachable' } });
    expect(
      interpretCheckResult({ status: 'expired', dispatchCount: 0, result: null, error: null }, refs)
        .verdict,
    ).toBe('unknown');
  });
});

describe('nextRotationItemStep', () => {
  const proven: ChangeVerdict = { verdict: 'proven', lockedOut: false };
  const problem = { code: 'x', message: 'x' };
  const changeVerdicts: ChangeVerdict[] = [
    proven,
    { verdict: 'unchanged', problem, lockedOut: false },
    { verdict: 'unknown', problem, lockedOut: false },
  ];
  const checkVerdicts: CheckVerdict[] = [
    { verdict: 'new-works', lockedOut: false },
    { verdict: 'old-works', lockedOut: false },
    { verdict: 'neither', lockedOut: false },
    { verdict: 'unknown', problem, lockedOut: false },
  ];

  it('walks the happy path: queued, changing, rotated with the pending version activated', () => {
    expect(nextRotationItemStep('queued', { type: 'change-queued' })).toMatchObject({
      status: 'changing',
      pending: 'keep',
    });
    expect(nextRotationItemStep('changing', { type: 'change-finished', verdict: proven })).toEqual({
      status: 'rotated',
      pending: 'activate',
      check: 'none',
      error: null,
    });
  });

  it('tests both versions at once when a change’s outcome is unknown, and later while it stays so', () => {
    expect(
      nextRotationItemStep('changing', { type: 'change-finished', verdict: changeVerdicts[2]! }),
    ).toMatchObject({ status: 'checking', pending: 'keep', check: 'now' });
    expect(
      nextRotationItemStep('checking', { type: 'check-finished', verdict: checkVerdicts[3]! }),
    ).toMatchObject({ status: 'checking', pending: 'keep', check: 'later' });
    expect(
      nextRotationItemStep('checking', { type: 'check-finished', verdict: checkVerdicts[0]! }),
    ).toMatchObject({ status: 'rotated', pending: 'activate' });
    expect(
      nextRotationItemStep('checking', { type: 'check-finished', verdict: checkVerdicts[1]! }),
    ).toMatchObject({ status: 'failed', pending: 'discard' });
    expect(
      nextRotationItemStep('checking', { type: 'check-finished', verdict: checkVerdicts[2]! }),
    ).toMatchObject({ status: 'failed', pending: 'keep', error: { code: 'no-working-password' } });
  });

  it('discards a pending version only on proof the camera does not hold it', () => {
    const events: RotationItemEvent[] = [
      { type: 'change-queued' },
      ...changeVerdicts.map((verdict) => ({ type: 'change-finished' as const, verdict })),
      ...checkVerdicts.map((verdict) => ({ type: 'check-finished' as const, verdict })),
      { type: 'skipped', reason: 'cancelled' },
      { type: 'retried' },
    ];
    for (const status of ROTATION_ITEM_STATUSES) {
      for (const event of events) {
        let step;
        try {
          step = nextRotationItemStep(status, event);
        } catch (error) {
          expect(isDomainError(error, 'invalid-transition')).toBe(true);
          continue;
        }
        if (step.pending === 'discard') {
          const proof =
            (event.type === 'change-finished' && event.verdict.verdict === 'unchanged') ||
            (event.type === 'check-finished' && event.verdict.verdict === 'old-works');
          expect(proof).toBe(true);
        }
        if (step.pending === 'activate') {
          const proof =
            (event.type === 'change-finished' && event.verdict.verdict === 'proven') ||
            (event.type === 'check-finished' && event.verdict.verdict === 'new-works');
          expect(proof).toBe(true);
        }
      }
    }
  });

  it('refuses to skip an item in flight or retry one that did not fail', () => {
    const inFlight: RotationItemStatus[] = ['changing', 'checking'];
    for (const status of inFlight) {
      expect(() => nextRotationItemStep(status, { type: 'skipped', reason: 'cancelled' })).toThrow(
        /does not take "skipped"/,
      );
    }
    expect(() => nextRotationItemStep('rotated', { type: 'retried' })).toThrow();
    expect(nextRotationItemStep('failed', { type: 'retried' }).status).toBe('queued');
    expect(nextRotationItemStep('queued', { type: 'skipped', reason: 'open-case' })).toMatchObject({
      status: 'skipped',
      error: { code: 'open-case' },
    });
  });
});

describe('recheckDelayMs', () => {
  it('doubles from the base up to the ceiling and honours the camera’s retry-after', () => {
    expect(recheckDelayMs(1, { baseMs: 1000, maxMs: 10_000 })).toBe(1000);
    expect(recheckDelayMs(3, { baseMs: 1000, maxMs: 10_000 })).toBe(4000);
    expect(recheckDelayMs(9, { baseMs: 1000, maxMs: 10_000 })).toBe(10_000);
    expect(recheckDelayMs(1, { baseMs: 1000, retryAfterMs: 60_000 })).toBe(60_000);
    expect(recheckDelayMs(1, { baseMs: 0 })).toBe(0);
  });
});

describe('decideRotationStep', () => {
  it('keeps working on a wave until none of its items is queued or in flight', () => {
    expect(
      decideRotationStep({
        currentWave: 0,
        maxFailures: 0,
        waves: [
          { wave: 0, counts: { rotated: 4, checking: 1 } },
          { wave: 1, counts: { queued: 50 } },
        ],
      }),
    ).toEqual({ kind: 'work', wave: 0 });
  });

  it('stops after a canary with more failures than allowed, naming them', () => {
    expect(
      decideRotationStep({
        currentWave: 0,
        maxFailures: 1,
        waves: [
          { wave: 0, counts: { rotated: 3, failed: 2 } },
          { wave: 1, counts: { queued: 50 } },
        ],
      }),
    ).toEqual({ kind: 'stop', wave: 0, reason: 'canary: 2 of 5 failed (at most 1 allowed)' });
  });

  it('moves on to the lowest queued wave when the failures are within the budget', () => {
    expect(
      decideRotationStep({
        currentWave: 1,
        maxFailures: 1,
        waves: [
          { wave: 0, counts: { rotated: 5 } },
          { wave: 1, counts: { rotated: 49, failed: 1 } },
          { wave: 2, counts: { queued: 50 } },
          { wave: 3, counts: { queued: 10 } },
        ],
      }),
    ).toEqual({ kind: 'work', wave: 2 });
  });

  it('completes when nothing is queued or in flight, even after failures in the last wave', () => {
    expect(
      decideRotationStep({
        currentWave: 1,
        maxFailures: 0,
        waves: [
          { wave: 0, counts: { rotated: 5 } },
          { wave: 1, counts: { rotated: 3, failed: 2, skipped: 1 } },
        ],
      }),
    ).toEqual({ kind: 'complete' });
  });

  it('waits for items in flight in another wave before completing', () => {
    expect(
      decideRotationStep({
        currentWave: 2,
        maxFailures: 0,
        waves: [
          { wave: 1, counts: { checking: 1 } },
          { wave: 2, counts: { rotated: 2 } },
        ],
      }),
    ).toEqual({ kind: 'wait' });
  });
});
