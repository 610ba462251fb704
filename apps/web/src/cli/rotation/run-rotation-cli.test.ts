import { setTimeout as sleep } from 'node:timers/promises';
import { authSessions, siteGrants, sites } from '@custody/db/schema';
import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setPassword } from '../../server/services/accounts.ts';
import { testVault } from '../../server/services/cases/case-test-fixtures.ts';
import {
  advanceRotationJob,
  rotationJobsNeedingWork,
} from '../../server/services/rotation/rotation-engine.ts';
import {
  startRotationFeed,
  type RotationFeed,
} from '../../server/services/rotation/rotation-feed.ts';
import {
  createRotationJob,
  getRotationJob,
  pauseRotationJob,
} from '../../server/services/rotation/rotation-jobs.ts';
import {
  runFakeAgent,
  vaultedCamera,
  vaultVersions,
  type FakeDevice,
} from '../../server/services/rotation/rotation-test-fixtures.ts';
import { insertReportedCamera } from '../../server/services/approvals/approval-test-fixtures.ts';
import { serveCustody, type ServedCustody } from '../../server/test-support/serve-custody.ts';
import { useWorld } from '../../server/test-support/world.ts';
import { runRotationCli, type RotationCliIo } from './run-rotation-cli.ts';

// The rotation CLI against Custody's real HTTP surface (sign-in, the CSRF gate, tRPC, the live
// feed over SSE) on a loopback port, with the rotation engine and a fake agent completing the
// commands the way the gateway records results.

const PASSWORD = 'a long test passphrase';
const ADMIN = 'admin@northwind.test';
const vault = testVault();
const t = useWorld({ beforeAll, afterAll });
let feed: RotationFeed;
let custody: ServedCustody;
/** The same server without a live feed: the CLI must fall back to polling. */
let unlive: ServedCustody;
const devices = new Map<string, FakeDevice>();

beforeAll(async () => {
  await setPassword(t.db, t.world.people.integratorAdmin.id, PASSWORD, {
    passwordChangeRequired: false,
  });
  await setPassword(t.db, t.world.people.technician.id, PASSWORD, {
    passwordChangeRequired: false,
  });
  feed = await startRotationFeed(t.handle);
  custody = await serveCustody({ db: t.db, rotationFeed: feed });
  unlive = await serveCustody({ db: t.db });
});

afterAll(async () => {
  await custody.close();
  await unlive.close();
  await feed.close();
});

let siteNo = 0;

/** A site of the world's owner granted to its integrator, with vaulted cameras. */
async function siteWithCameras(vaulted: number, unvaulted = 0) {
  siteNo += 1;
  const name = `Rotation Yard ${siteNo}`;
  const [site] = await t.db
    .insert(sites)
    .values({ ownerOrgId: t.world.orgs.owner.id, name })
    .returning();
  if (!site) throw new Error('no site');
  await t.db.insert(siteGrants).values({
    siteId: site.id,
    integratorOrgId: t.world.orgs.integrator.id,
    grantedBy: t.world.people.ownerApprover.id,
  });
  const serials: string[] = [];
  for (let index = 0; index < vaulted; index += 1) {
    const camera = await vaultedCamera(t.db, vault, site.id);
    devices.set(camera.serial, camera.device);
    serials.push(camera.serial);
  }
  const left: string[] = [];
  for (let index = 0; index < unvaulted; index += 1) {
    left.push((await insertReportedCamera(t.db, site.id)).serial);
  }
  return { id: site.id, name, serials, left };
}

/**
 * What the engine and the agent do while the CLI runs: advance every job with work, answer
 * every queued command, again and again until stopped.
 */
const drivers = new Set<() => Promise<void>>();
// A test that fails half-way must not leave its driver running into the next one.
afterEach(async () => {
  await Promise.all([...drivers].map((stop) => stop()));
});

function driveRotations(): () => Promise<void> {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      for (const jobId of await rotationJobsNeedingWork(t.db)) {
        await advanceRotationJob(t.db, vault, jobId, { log: { warn: () => undefined } });
      }
      await runFakeAgent(t.db, vault, devices);
      await sleep(25);
    }
  })();
  const stop = async () => {
    stopped = true;
    drivers.delete(stop);
    await loop;
  };
  drivers.add(stop);
  return stop;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(
  argv: string[],
  options: {
    server?: ServedCustody;
    password?: string | null;
    email?: string;
    prompt?: RotationCliIo['promptPassword'];
  } = {},
): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const password = options.password === undefined ? PASSWORD : options.password;
  const code = await runRotationCli(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: {
      CUSTODY_URL: (options.server ?? custody).url,
      CUSTODY_EMAIL: options.email ?? ADMIN,
      ...(password === null ? {} : { CUSTODY_PASSWORD: password }),
    },
    promptPassword: options.prompt,
    pollMs: 50,
    // Long enough that only the live feed can end a watch in time.
    safetyPollMs: 60_000,
  });
  return { code, stdout, stderr };
}

function jobIdIn(output: string): string {
  const id = /Started rotation job ([0-9a-f-]{36})/.exec(output)?.[1];
  if (!id) throw new Error(`no job id in:\n${output}`);
  return id;
}

describe('the rotation CLI', () => {
  it('starts a rotation of a site by name and follows it live to a completed summary', async () => {
    const site = await siteWithCameras(3, 1);
    const stop = driveRotations();
    let run: Run;
    try {
      run = await cli(['start', '--site', site.name, '--canary', '1', '--wave', '1']);
    } finally {
      await stop();
    }
    expect(run.stderr).toContain(`Signed in to ${custody.url} as admin (integrator-admin).`);
    expect(run.stderr).not.toContain('Live updates unavailable');
    const jobId = jobIdIn(run.stdout);
    expect(run.stdout).toContain(
      `Started rotation job ${jobId}: 3 cameras, a canary of 1, then 2 waves of up to 1; more than 0 failures in a wave stops the job.`,
    );
    expect(run.stdout).toContain(
      `Left out (1):\n  ${site.left[0]}: no active vaulted password for this account`,
    );
    const progress = run.stdout.split('\n').filter((line) => /^\d\d:\d\d:\d\d /.test(line));
    expect(progress.length).toBeGreaterThanOrEqual(2);
    for (let index = 1; index < progress.length; index += 1) {
      expect(progress[index]?.slice(9)).not.toBe(progress[index - 1]?.slice(9));
    }
    expect(progress.at(-1)).toMatch(
      /^\d\d:\d\d:\d\d completed .* 3\/3 \(100%\) .* rotated 3 · failed 0/,
    );
    expect(run.stdout).toMatch(
      new RegExp(
        `Job ${jobId} completed after .*: 3 rotated, 0 failed, 0 skipped of 3 cameras \\(admin account\\)\\.`,
      ),
    );
    expect(run.stdout).toContain(
      `Left out at the start (1):\n  ${site.left[0]}: no active vaulted password for this account`,
    );
    expect(run.code).toBe(0);
    for (const serial of site.serials) {
      const versions = await vaultVersions(t.db, vault, serial, 'admin');
      const active = versions.filter((version) => version.status === 'active');
      expect(active).toHaveLength(1);
      expect(devices.get(serial)?.get('root')).toBe(active[0]?.password);
      for (const version of versions) {
        expect(run.stdout + run.stderr).not.toContain(version.password);
      }
    }
    expect(run.stdout + run.stderr).not.toContain(PASSWORD);
  });

  it('exits 1 with the failures and the stop reason when the canary fails, then retries them to completion', async () => {
    const site = await siteWithCameras(2);
    // The cameras' admin password changed behind Custody's back: every change is refused.
    const working = new Map(
      site.serials.map((serial) => [serial, devices.get(serial)?.get('root')]),
    );
    for (const serial of site.serials) devices.get(serial)?.set('root', 'Changed-Elsewhere-1');
    const stop = driveRotations();
    let failed: Run;
    let retried: Run;
    try {
      failed = await cli(['start', '--site', site.id, '--canary', '1']);
      const jobId = jobIdIn(failed.stdout);
      expect(failed.stdout).toContain(`Job ${jobId} stopped after`);
      expect(failed.stdout).toMatch(/Reason: canary: 1 of 1 failed/);
      expect(failed.stdout).toMatch(
        new RegExp(
          `Failed \\(1\\):\\n  ${site.serials[0]}  ${site.name}, AXIS P3265-LVE: .*rejected`,
        ),
      );
      expect(failed.stdout).toContain('Not started (1): still queued.');
      expect(failed.stdout).toContain(`rotation retry ${jobId}`);
      expect(failed.code).toBe(1);

      for (const [serial, password] of working) devices.get(serial)?.set('root', password ?? '');
      retried = await cli(['retry', jobId]);
    } finally {
      await stop();
    }
    expect(retried.stdout).toContain('Retrying the failed cameras of job');
    expect(retried.stdout).toMatch(
      /completed after .*: 2 rotated, 0 failed, 0 skipped of 2 cameras/,
    );
    expect(retried.code).toBe(0);
  });

  it('follows a job by reading it every poll when the server has no live feed', async () => {
    const site = await siteWithCameras(2);
    const started = await cli(['start', '--site', site.name, '--canary', '1', '--detach'], {
      server: unlive,
    });
    expect(started.code).toBe(0);
    const jobId = jobIdIn(started.stdout);
    expect(started.stdout).toContain(`Job page: ${unlive.url}/rotations/${jobId}`);
    const stop = driveRotations();
    let watched: Run;
    try {
      watched = await cli(['watch', jobId], { server: unlive });
    } finally {
      await stop();
    }
    expect(watched.stderr).toMatch(
      /Live updates unavailable \(.*not available from this server process.*\); reading the job every 0\.1 s\./,
    );
    expect(watched.stdout).toMatch(/completed after .*: 2 rotated, 0 failed/);
    expect(watched.code).toBe(0);
  });

  it('pauses, resumes, cancels and lists a job', async () => {
    const site = await siteWithCameras(2);
    const { jobId } = await createRotationJob(t.db, t.world.actors.integratorAdmin, {
      siteIds: [site.id],
      canarySize: 1,
    });
    const paused = await cli(['pause', jobId]);
    expect(paused.stdout).toMatch(/^paused {4}· /);
    expect(paused.code).toBe(0);
    const resumed = await cli(['resume', jobId]);
    expect(resumed.stdout).toMatch(/^running {3}· /);
    const cancelled = await cli(['cancel', jobId]);
    expect(cancelled.stdout).toMatch(/^cancelled · .* skipped 2 /);
    expect((await getRotationJob(t.db, t.world.actors.integratorAdmin, { jobId })).job.status).toBe(
      'cancelled',
    );
    const again = await cli(['pause', jobId]);
    expect(again.stderr).toBe(
      `Signed in to ${custody.url} as admin (integrator-admin).\nrotation: A cancelled rotation cannot be paused.\n`,
    );
    expect(again.code).toBe(1);
    const listed = await cli(['list', '--limit', '100']);
    expect(listed.stdout).toMatch(
      new RegExp(
        `^${jobId}  cancelled  admin {4}\\S+  2/2 done: 0 rotated, 0 failed, 2 skipped {2}by admin$`,
        'm',
      ),
    );
  });

  it('says plainly when the role does not allow it, the password is wrong or the site unknown', async () => {
    const site = await siteWithCameras(1);
    const technician = await cli(['start', '--site', site.name], { email: 'tech@northwind.test' });
    expect(technician.stderr).toMatch(/rotation: forbidden: .*integrator-admin/);
    expect(technician.code).toBe(1);

    const wrong = await cli(['list'], { password: 'not the passphrase' });
    expect(wrong.stderr).toBe(
      `rotation: Custody refused the sign-in of ${ADMIN}: wrong e-mail or password\n`,
    );
    expect(wrong.code).toBe(1);

    const unknown = await cli(['start', '--site', 'Nowhere Yard']);
    expect(unknown.stderr).toMatch(
      /rotation: no site named "Nowhere Yard" among the sites you can reach \(.*"Harbour Street"/,
    );
    expect(unknown.code).toBe(2);
  });

  it('asks for the password on a terminal, and refuses to run without one', async () => {
    const prompts: string[] = [];
    const prompted = await cli(['list'], {
      password: null,
      prompt: (text) => {
        prompts.push(text);
        return Promise.resolve(PASSWORD);
      },
    });
    expect(prompts).toEqual([`Password for ${ADMIN}: `]);
    expect(prompted.code).toBe(0);

    const none = await cli(['list'], { password: null });
    expect(none.stderr).toBe(
      'rotation: no password: set CUSTODY_PASSWORD, or run on a terminal to be asked for it\n',
    );
    expect(none.code).toBe(2);

    const usage = await cli(['watch', 'not-a-job']);
    expect(usage.stderr).toMatch(/^rotation: "not-a-job" is not a job id.*\n\nUsage:/s);
    expect(usage.code).toBe(2);
  });

  it('stops watching on Ctrl+C with exit code 130, and leaves no session behind', async () => {
    const site = await siteWithCameras(1);
    const admin = t.world.actors.integratorAdmin;
    const { jobId } = await createRotationJob(t.db, admin, { siteIds: [site.id] });
    await pauseRotationJob(t.db, admin, { jobId });
    const interrupt = new AbortController();
    let stdout = '';
    let stderr = '';
    const code = await runRotationCli(['watch', jobId], {
      stdout: {
        write: (text: string) => {
          stdout += text;
          // Ctrl+C once the paused job's line is out: a paused job would be watched forever.
          if (/ paused /.test(text)) interrupt.abort();
        },
      },
      stderr: { write: (text: string) => (stderr += text) },
      env: { CUSTODY_URL: custody.url, CUSTODY_EMAIL: ADMIN, CUSTODY_PASSWORD: PASSWORD },
      signal: interrupt.signal,
      safetyPollMs: 60_000,
    });
    expect(code).toBe(130);
    expect(stdout).toMatch(/^\d\d:\d\d:\d\d paused /);
    expect(stderr).toMatch(/rotation: interrupted\n$/);
    // Every run of this file signed in; each signed out again, this one too.
    const sessions = await t.db
      .select({ id: authSessions.id })
      .from(authSessions)
      .where(eq(authSessions.userId, t.world.people.integratorAdmin.id));
    expect(sessions).toEqual([]);
  });
});
