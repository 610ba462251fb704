import { describe, expect, it } from 'vitest';
import {
  formatCreated,
  formatProgressLine,
  formatSummary,
  isSettled,
  isSuccess,
  type ItemStatus,
  type JobView,
} from './job-report.ts';

const JOB = '0b7c5a4e-8d1f-4a53-9a7e-2f4c1d6b8e90';

function counts(partial: Partial<Record<ItemStatus, number>>): Record<ItemStatus, number> {
  return { queued: 0, changing: 0, checking: 0, rotated: 0, failed: 0, skipped: 0, ...partial };
}

function view(overrides: {
  status?: JobView['job']['status'];
  currentWave?: number;
  stopReason?: string | null;
  finishedAt?: Date | null;
  skipped?: { serial: string; reason: string; label: string }[];
  skippedCount?: number;
  waves: [number, Partial<Record<ItemStatus, number>>][];
}): JobView {
  const waves = overrides.waves.map(([wave, partial]) => {
    const byStatus = counts(partial);
    return { wave, total: Object.values(byStatus).reduce((a, b) => a + b, 0), byStatus };
  });
  const totals = counts({});
  for (const wave of waves) {
    for (const [status, count] of Object.entries(wave.byStatus)) {
      totals[status as ItemStatus] += count;
    }
  }
  return {
    job: {
      id: JOB,
      status: overrides.status ?? 'running',
      account: 'admin',
      currentWave: overrides.currentWave ?? 0,
      stopReason: overrides.stopReason ?? null,
      createdAt: new Date('2026-03-01T10:00:00Z'),
      finishedAt: overrides.finishedAt ?? null,
    },
    waves,
    totals,
    skipped: overrides.skipped ?? [],
    skippedCount: overrides.skippedCount ?? overrides.skipped?.length ?? 0,
  };
}

describe('formatProgressLine', () => {
  it('shows the canary wave, a bar and every count', () => {
    const line = formatProgressLine(
      view({
        waves: [
          [0, { rotated: 1, changing: 1, checking: 1, failed: 0, skipped: 1 }],
          [1, { queued: 6 }],
        ],
      }),
    );
    expect(line).toBe(
      'running   · [####................] 2/10 (20%) · canary (0 of 1) 2/4 · rotated 1 · failed 0 · skipped 1 · in progress 2 · queued 6',
    );
  });

  it('names the wave under way and the reason a job stopped', () => {
    const line = formatProgressLine(
      view({
        status: 'stopped',
        currentWave: 1,
        stopReason: 'lockout signal from ACCC8E000001',
        waves: [
          [0, { rotated: 2 }],
          [1, { rotated: 1, failed: 1, queued: 2 }],
        ],
      }),
    );
    expect(line).toContain('stopped');
    expect(line).toContain('wave 1 (1 of 1) 2/4');
    expect(line).toContain('4/6 (66%)');
    expect(line).toContain('reason: lockout signal from ACCC8E000001');
  });

  it('changes when any count changes, so each change prints one line', () => {
    const before = formatProgressLine(view({ waves: [[0, { changing: 2 }]] }));
    const after = formatProgressLine(view({ waves: [[0, { changing: 1, rotated: 1 }]] }));
    const same = formatProgressLine(view({ waves: [[0, { changing: 2 }]] }));
    expect(after).not.toBe(before);
    expect(same).toBe(before);
  });
});

describe('settling and success', () => {
  it('waits for changes under way after a cancel, and succeeds only when completed without failures', () => {
    const cancelling = view({ status: 'cancelled', waves: [[0, { changing: 1, skipped: 3 }]] });
    expect(isSettled(cancelling)).toBe(false);
    const cancelled = view({ status: 'cancelled', waves: [[0, { rotated: 1, skipped: 3 }]] });
    expect(isSettled(cancelled)).toBe(true);
    expect(isSuccess(cancelled)).toBe(false);
    expect(isSettled(view({ status: 'paused', waves: [[0, { queued: 3 }]] }))).toBe(false);
    expect(isSettled(view({ status: 'running', waves: [[0, { rotated: 3 }]] }))).toBe(false);
    const completed = view({ status: 'completed', waves: [[0, { rotated: 3, skipped: 1 }]] });
    expect(isSuccess(completed)).toBe(true);
    const withFailure = view({ status: 'completed', waves: [[0, { rotated: 2, failed: 1 }]] });
    expect(isSettled(withFailure)).toBe(true);
    expect(isSuccess(withFailure)).toBe(false);
  });
});

describe('formatSummary', () => {
  it('lists the failed cameras with their errors, and the skipped and left-out ones with why', () => {
    const text = formatSummary({
      view: view({
        status: 'completed',
        finishedAt: new Date('2026-03-01T10:02:05Z'),
        skipped: [
          {
            serial: 'ACCC8E000003',
            reason: 'open-case',
            label: 'a recommissioning case is open for it',
          },
        ],
        waves: [
          [0, { rotated: 1, failed: 1 }],
          [1, { rotated: 2, skipped: 1 }],
        ],
      }),
      failed: [
        {
          serial: 'ACCC8E000001',
          siteName: 'Harbour Street',
          model: 'M3106-L',
          wave: 0,
          status: 'failed',
          error: { code: 'login-failed', message: 'the camera refused the change: 401' },
        },
      ],
      skipped: [
        {
          serial: 'ACCC8E000002',
          siteName: 'Harbour Street',
          model: null,
          wave: 1,
          status: 'skipped',
          error: { code: 'cancelled', message: 'the rotation was cancelled before its turn' },
        },
      ],
      pageUrl: `http://localhost:3000/rotations/${JOB}`,
    });
    expect(text).toBe(
      [
        `Job ${JOB} completed after 2 min 5 s: 3 rotated, 1 failed, 1 skipped of 5 cameras (admin account).`,
        'Failed (1):',
        '  ACCC8E000001  Harbour Street, M3106-L: the camera refused the change: 401',
        'Skipped (1):',
        '  ACCC8E000002  Harbour Street: the rotation was cancelled before its turn',
        'Left out at the start (1):',
        '  ACCC8E000003: a recommissioning case is open for it',
        `Retry the failed cameras with: rotation retry ${JOB}`,
        '',
      ].join('\n'),
    );
  });

  it('points to the job page when a list is cut short, and says how to go on after a stop', () => {
    const text = formatSummary({
      view: view({
        status: 'stopped',
        stopReason: 'canary: 2 of 2 failed',
        skipped: [
          {
            serial: 'ACCC8E000009',
            reason: 'no-agent',
            label: 'no agent of its site reports it',
          },
        ],
        skippedCount: 40,
        waves: [
          [0, { failed: 2 }],
          [1, { queued: 5 }],
        ],
      }),
      failed: [
        {
          serial: 'ACCC8E000001',
          siteName: 'A',
          model: null,
          wave: 0,
          status: 'failed',
          error: null,
        },
      ],
      skipped: [],
      pageUrl: `http://localhost:3000/rotations/${JOB}`,
      now: new Date('2026-03-01T10:00:30Z'),
    });
    expect(text).toContain(
      `Job ${JOB} stopped after 30 s: 0 rotated, 2 failed, 0 skipped of 7 cameras`,
    );
    expect(text).toContain('Reason: canary: 2 of 2 failed');
    expect(text).toContain(`  … and 1 more: http://localhost:3000/rotations/${JOB}`);
    expect(text).toContain('Not started (5): still queued.');
    expect(text).toContain(
      'Left out at the start (40):\n  ACCC8E000009: no agent of its site reports it\n  … and 39 more',
    );
    expect(text).toContain(`rotation resume ${JOB}`);
    expect(text).toContain(`rotation retry ${JOB}`);
  });
});

describe('formatCreated', () => {
  it('says how many cameras, the plan, the failure limit and what was left out with why', () => {
    expect(
      formatCreated(
        {
          jobId: JOB,
          cameras: 12,
          waves: 2,
          skipped: [
            {
              serial: 'ACCC8E000004',
              reason: 'no-vaulted-credential',
              label: 'no active vaulted password for this account',
            },
          ],
        },
        { canarySize: 2, waveSize: 5, maxFailures: 0 },
      ),
    ).toBe(
      [
        `Started rotation job ${JOB}: 12 cameras, a canary of 2, then 2 waves of up to 5; more than 0 failures in a wave stops the job.`,
        'Left out (1):',
        '  ACCC8E000004: no active vaulted password for this account',
      ].join('\n'),
    );
    expect(
      formatCreated(
        { jobId: JOB, cameras: 1, waves: 0, skipped: [] },
        {
          canarySize: 5,
          waveSize: 50,
          maxFailures: 1,
        },
      ),
    ).toBe(
      `Started rotation job ${JOB}: 1 camera, all in the canary batch; more than 1 failure in a wave stops the job.`,
    );
  });
});
