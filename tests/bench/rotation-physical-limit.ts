import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createAttemptBudget,
  createAuthSessionCache,
  createRequestLimiter,
  type Credentials,
} from '@custody/vapix';
import { createCameraAccess } from '../../apps/agent/src/jobs/camera-access.ts';
import {
  DEFAULT_JOB_TIMING,
  silentJobLogger,
  type JobContext,
} from '../../apps/agent/src/jobs/job-context.ts';
import { createSlots } from '../../apps/agent/src/jobs/keyed-lock.ts';
import { runRotateCredential } from '../../apps/agent/src/jobs/verbs/rotate-credential-verb.ts';

/*
 * The physical limit of a bulk rotation: the agent's own rotate-credential verb (the same VAPIX
 * requests, in the same order, through the same client plumbing) run straight against the
 * cameras, with as many at once per agent as an agent runs commands, and the job's barriers (a
 * wave starts when the previous one has finished), but nothing of Custody in between: no
 * server, no database, no vault, no WebSocket, no command signing, no outbox.
 */

export interface PhysicalCamera {
  serial: string;
  url: string;
  /** The admin account and its password today. */
  admin: Credentials;
  /** Its new password. */
  next: string;
}

/** One wave: for each agent (site), its cameras in that wave. */
export type PhysicalWave = PhysicalCamera[][];

export interface PhysicalLimit {
  wallMs: number;
  waveMs: number[];
  rotated: number;
  failed: { serial: string; code: string }[];
  /** Each camera's verb, from its start (a slot taken) to its outcome. */
  verbMs: number[];
}

interface AgentPlumbing {
  budget: ReturnType<typeof createAttemptBudget>;
  limiter: ReturnType<typeof createRequestLimiter>;
  sessions: ReturnType<typeof createAuthSessionCache>;
  slots: ReturnType<typeof createSlots>;
}

async function rotateOne(
  plumbing: AgentPlumbing,
  camera: PhysicalCamera,
): Promise<{ ok: true; ms: number } | { ok: false; code: string }> {
  const release = await plumbing.slots.acquire();
  const started = performance.now();
  const controller = new AbortController();
  const cameras = createCameraAccess({
    serial: camera.serial,
    vapix: { budget: plumbing.budget, limiter: plumbing.limiter, sessions: plumbing.sessions },
    signal: controller.signal,
  });
  const secrets: Record<string, Credentials> = {
    admin: camera.admin,
    next: { username: camera.admin.username, password: camera.next },
  };
  const context: JobContext<'rotate-credential'> = {
    commandId: randomUUID(),
    verb: 'rotate-credential',
    serial: camera.serial,
    params: { credential: 'admin', next: 'next' },
    url: camera.url,
    cameras,
    directory: {
      urlOf: () => camera.url,
      onSighting: () => () => undefined,
      discoverNow: () => Promise.resolve(),
    },
    factoryDefaultUrls: [],
    timing: DEFAULT_JOB_TIMING,
    signal: controller.signal,
    log: silentJobLogger,
    secret(ref) {
      const secret = secrets[ref];
      if (secret === undefined) throw new Error(`credential "${ref}" was not delivered`);
      return secret;
    },
    progress: () => Promise.resolve(),
    now: () => new Date(),
    sleep: (ms) => sleep(ms, undefined, { signal: controller.signal }),
  };
  try {
    const outcome = await runRotateCredential(context);
    return outcome.outcome === 'succeeded'
      ? { ok: true, ms: performance.now() - started }
      : { ok: false, code: outcome.error.code };
  } catch (error) {
    return { ok: false, code: error instanceof Error ? error.name : 'error' };
  } finally {
    await cameras.closeAll();
    release();
  }
}

/** Runs the waves one after the other; within a wave, every agent works through its cameras. */
export async function measurePhysicalLimit(
  waves: readonly PhysicalWave[],
  options: { agents: number; maxConcurrent: number },
): Promise<PhysicalLimit> {
  const agents: AgentPlumbing[] = Array.from({ length: options.agents }, () => ({
    budget: createAttemptBudget(),
    limiter: createRequestLimiter(),
    sessions: createAuthSessionCache(),
    slots: createSlots(options.maxConcurrent),
  }));
  const failed: { serial: string; code: string }[] = [];
  const waveMs: number[] = [];
  const verbMs: number[] = [];
  let rotated = 0;
  const started = performance.now();
  for (const wave of waves) {
    const waveStarted = performance.now();
    await Promise.all(
      wave.flatMap((cameras, agent) =>
        cameras.map(async (camera) => {
          const plumbing = agents[agent];
          if (plumbing === undefined) throw new Error(`no agent ${agent}`);
          const result = await rotateOne(plumbing, camera);
          if (result.ok) {
            rotated += 1;
            verbMs.push(result.ms);
          } else failed.push({ serial: camera.serial, code: result.code });
        }),
      ),
    );
    waveMs.push(performance.now() - waveStarted);
  }
  return { wallMs: performance.now() - started, waveMs, rotated, failed, verbMs };
}
