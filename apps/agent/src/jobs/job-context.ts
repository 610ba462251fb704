import type { CommandParams, CommandVerb } from '@custody/core';
import type { Credentials } from '@custody/vapix';
import type { CameraDirectory } from '../cameras/camera-directory.ts';
import type { CameraAccess } from './camera-access.ts';
import type { VerbOutcome } from './verb-outcome.ts';

/** What the jobs write to the agent's log: ids, verbs, serials, codes; never a secret. */
export interface JobLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentJobLogger: JobLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** How long the verbs wait and how often they look; tests shorten all of it. */
export interface JobTiming {
  /** Between two looks at a camera that is restarting or expected back (reference §5.3: 1 s). */
  pollIntervalMs: number;
  /** A reboot, from request to systemready (reference §5.3: about 1–3 min). */
  restartTimeoutMs: number;
  /** A factory default, until the camera is back in factory-default state. */
  resetTimeoutMs: number;
  /** A new static address, until the camera answers there (reference §6.5: 90 s). */
  addressChangeTimeoutMs: number;
  /** While waiting, a progress message at least this often. */
  progressEveryMs: number;
  /**
   * Progress of a command's first moments is held back this long, and only the latest of it goes
   * out if the command is still running then: a command done sooner reports just its ack and
   * result, which say more. A bulk rotation's cameras finish well within it, so it spares each
   * three durable messages end to end (agent outbox, gateway transaction, acknowledgement).
   */
  progressHoldMs: number;
}

export const DEFAULT_JOB_TIMING: JobTiming = {
  pollIntervalMs: 1_000,
  restartTimeoutMs: 180_000,
  resetTimeoutMs: 300_000,
  addressChangeTimeoutMs: 90_000,
  progressEveryMs: 15_000,
  progressHoldMs: 1_000,
};

/** Everything a verb gets: its parameters, its secrets, the camera plumbing and a progress line. */
export interface JobContext<V extends CommandVerb = CommandVerb> {
  readonly commandId: string;
  readonly verb: V;
  readonly serial: string;
  readonly params: CommandParams<V>;
  /** Where the server last saw the camera, if the command says. */
  readonly url: string | undefined;
  readonly cameras: CameraAccess;
  readonly directory: CameraDirectory;
  /** Addresses a factory-defaulted camera may come back at besides discovery (192.168.0.90). */
  readonly factoryDefaultUrls: readonly string[];
  readonly timing: JobTiming;
  readonly signal: AbortSignal;
  readonly log: JobLogger;
  /** A delivered credential by reference; it lives in memory for this job only. */
  secret(ref: string): Credentials;
  progress(step: string, message: string, fraction?: number): Promise<void>;
  now(): Date;
  /** Resolves after `ms`, or rejects when the job is aborted. */
  sleep(ms: number): Promise<void>;
}

export type Verb<V extends CommandVerb> = (context: JobContext<V>) => Promise<VerbOutcome>;
export type VerbTable = { [V in CommandVerb]: Verb<V> };
