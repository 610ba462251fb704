import { setTimeout as sleep } from 'node:timers/promises';
import {
  CommandPayloadSchema,
  IdSchema,
  checkCommandBinding,
  describeIssues,
  commandSigningText,
  paramsOf,
  type CommandPayload,
  type CommandRefusal,
  type CommandVerb,
} from '@custody/core';
import { VapixError, type AttemptBudget } from '@custody/vapix';
import type { CameraDirectory } from '../cameras/camera-directory.ts';
import { publicKeyObject, verifyText } from '../identity/ed25519.ts';
import { commandResultMessageId } from '../link/agent-message.ts';
import type { NonceJournal, ResultStore, StoredResult } from '../store/store-contracts.ts';
import { createCameraAccess, type JobVapixOptions } from './camera-access.ts';
import {
  MAX_MESSAGE_LENGTH,
  MAX_STEP_LENGTH,
  clip,
  type CommandMessage,
  type CommandReport,
  type CommandResultBody,
} from './command-report.ts';
import {
  DEFAULT_JOB_TIMING,
  silentJobLogger,
  type JobContext,
  type JobLogger,
  type JobTiming,
  type Verb,
  type VerbTable,
} from './job-context.ts';
import { createKeyedLock, createSlots, type Release } from './keyed-lock.ts';
import { createSecretScrubber, passwordsIn, type SecretScrubber } from './secret-scrubber.ts';
import { failed, failedFromVapix, type VerbOutcome } from './verb-outcome.ts';
import { VERBS } from './verbs/verb-table.ts';

export interface CommandExecutorOptions {
  /** Who this agent is, from enrollment: commands are verified against this and nothing else. */
  identity: { agentId: string; siteId: string; commandSigningKey: string };
  nonces: NonceJournal;
  results: ResultStore;
  directory: CameraDirectory;
  /**
   * Queues a command-ack, command-progress or command-result body in the durable outbox (the
   * caller adds the envelope, with `messageId` as its id when given). Resolves once it is queued;
   * reports of one command keep their order.
   */
  report(body: CommandReport, options?: { messageId?: string }): Promise<void>;
  /** Credential attempts per camera, shared with everything else in the agent that logs in. */
  budget?: AttemptBudget;
  /** The rest of the VAPIX plumbing: request limiter, nonce cache, timeouts, TLS policy. */
  vapix?: Omit<JobVapixOptions, 'budget'>;
  now?: () => Date;
  logger?: JobLogger;
  /** Commands running at once across all cameras (default 4); one per camera at any time. */
  maxConcurrent?: number;
  /**
   * Passive watches (watch-for-device) running at once (default 16). They only poll and can last
   * an hour, so they have their own pool instead of holding the command slots.
   */
  maxWatches?: number;
  /** Clock skew tolerated on a command's issue time (default: core's 60 s). */
  skewMs?: number;
  timing?: Partial<JobTiming>;
  /** Addresses a factory-defaulted camera may answer at besides discovery. */
  factoryDefaultUrls?: readonly string[];
  /** The verb implementations; tests replace some. */
  verbs?: Partial<VerbTable>;
}

export interface CommandExecutor {
  /**
   * Verifies, deduplicates and runs one server `command` message, reporting an ack, progress and
   * the result through `report`. Resolves once the result is queued, or at once when no result
   * can be sent (no readable command id, a forged command reusing a known id, shutting down).
   */
  handle(message: CommandMessage): Promise<void>;
  /**
   * Run once at start, before any command: the server stops re-sending a command once it has its
   * ack, so every command the previous run acknowledged gets its result now. One still queued is
   * reported `not-run`, one that was running `interrupted` (neither is run again), and a stored
   * result that never reached the outbox is queued again.
   */
  recover(): Promise<void>;
  /** Commands whose verb is running now (for the heartbeat). */
  readonly running: number;
  /**
   * Stops taking commands (they are not acknowledged, so the server sends them again later), lets
   * running verbs finish for up to `graceMs`, then aborts them and reports them interrupted;
   * commands still waiting for their turn are reported not-run. Resolves once all are reported.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

/** Default addresses an AXIS camera takes after a hard factory default without DHCP (reference §1.6). */
export const DEFAULT_FACTORY_DEFAULT_URLS: readonly string[] = ['http://192.168.0.90'];

const INTERRUPTED_MESSAGE = (serial: string | undefined) =>
  `The agent stopped while this command was running${serial === undefined ? '' : ` on camera ${serial}`}, so how far it got is unknown. It was not run again: check the camera's state (probe it) before retrying.`;
const NOT_RUN_MESSAGE =
  'The agent stopped before this command had its turn, so it never ran and the camera was not touched. It is safe to send it again as a new command.';
const WATCH_VERB: CommandVerb = 'watch-for-device';

function claimedIdOf(payload: unknown): string | undefined {
  const id = IdSchema.safeParse((payload as { commandId?: unknown } | null)?.commandId);
  return id.success ? id.data : undefined;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

class ShutdownError extends Error {
  constructor() {
    super('the agent is shutting down');
    this.name = 'ShutdownError';
  }
}

export function createCommandExecutor(options: CommandExecutorOptions): CommandExecutor {
  const { identity, nonces, results, directory } = options;
  const signingKey = publicKeyObject(identity.commandSigningKey);
  const now = options.now ?? (() => new Date());
  const log = options.logger ?? silentJobLogger;
  const timing: JobTiming = { ...DEFAULT_JOB_TIMING, ...options.timing };
  const verbs: VerbTable = { ...VERBS, ...options.verbs };
  const vapix: JobVapixOptions = {
    ...options.vapix,
    ...(options.budget === undefined ? {} : { budget: options.budget }),
  };
  const factoryDefaultUrls = options.factoryDefaultUrls ?? DEFAULT_FACTORY_DEFAULT_URLS;
  const cameraLock = createKeyedLock();
  const slots = createSlots(options.maxConcurrent ?? 4);
  const watchSlots = createSlots(options.maxWatches ?? 16);
  const inFlight = new Map<string, Promise<unknown>>();
  const controllers = new Set<AbortController>();
  let running = 0;
  let closed = false;

  /** The value with any leaked secret masked, and a log line naming where one leaked. */
  const clean = <T>(scrub: SecretScrubber, value: T, commandId: string, what: string): T => {
    const before = scrub.hits;
    const cleaned = scrub.value(value);
    if (scrub.hits > before) {
      log.error('a secret was removed; the verb that wrote it has a bug', { commandId, what });
    }
    return cleaned;
  };

  /** Queues a report with any leaked secret masked; returns what was queued. */
  const send = async <T extends CommandReport>(
    scrub: SecretScrubber,
    body: T,
    messageId?: string,
  ): Promise<T> => {
    const cleaned = clean(scrub, body, body.commandId, body.type);
    await options.report(cleaned, messageId === undefined ? {} : { messageId });
    return cleaned;
  };

  /** `messageId` is given for a command's own outcome; refusals and replays get fresh ids. */
  const reportResult = (
    scrub: SecretScrubber,
    stored: Omit<StoredResult, 'finishedAt'>,
    replayed: boolean,
    messageId?: string,
  ): Promise<CommandResultBody> =>
    send(
      scrub,
      {
        type: 'command-result',
        commandId: stored.commandId,
        outcome: stored.outcome,
        result: (stored.result ?? null) as CommandResultBody['result'],
        error:
          stored.error === null
            ? null
            : { code: stored.error.code, message: clip(stored.error.message, MAX_MESSAGE_LENGTH) },
        replayed,
      },
      messageId,
    );

  const refuse = async (
    scrub: SecretScrubber,
    commandId: string,
    refusal: CommandRefusal,
    message: string,
  ): Promise<CommandResultBody> => {
    log.warn('command refused', { commandId, refusal });
    return reportResult(
      scrub,
      { commandId, outcome: 'refused', result: null, error: { code: refusal, message } },
      false,
    );
  };

  const checkBinding = (payload: CommandPayload) =>
    checkCommandBinding(payload, {
      agentId: identity.agentId,
      siteId: identity.siteId,
      now: now(),
      ...(options.skewMs === undefined ? {} : { skewMs: options.skewMs }),
    });

  /**
   * Stores an outcome, queues its result and marks it reported. A store that fails is logged and
   * the result still goes out; a result that cannot be queued stays unreported in the store, so
   * the next start queues it again. It goes out under an id derived from the command, so a copy
   * queued again after a crash in between is a duplicate the server drops.
   */
  const conclude = async (
    scrub: SecretScrubber,
    stored: StoredResult,
  ): Promise<CommandResultBody | undefined> => {
    const { commandId } = stored;
    let kept = true;
    try {
      await results.finish(stored);
    } catch (error) {
      kept = false;
      log.error('could not store a command result', {
        commandId,
        error: scrub.text(errorText(error)),
      });
    }
    let body: CommandResultBody;
    try {
      body = await reportResult(scrub, stored, false, commandResultMessageId(commandId));
    } catch (error) {
      log.error('could not queue a command result; it is queued again at the next start', {
        commandId,
        error: scrub.text(errorText(error)),
      });
      return undefined;
    }
    if (kept) {
      try {
        await results.markReported(commandId);
      } catch (error) {
        log.warn('could not record that a result was queued; it may be sent twice', {
          commandId,
          error: scrub.text(errorText(error)),
        });
      }
    }
    return body;
  };

  const failure = (commandId: string, code: string, message: string): StoredResult => ({
    commandId,
    outcome: 'failed',
    result: null,
    error: { code, message },
    finishedAt: now().toISOString(),
  });

  const interrupted = (commandId: string, serial: string | undefined) =>
    failure(commandId, 'interrupted', INTERRUPTED_MESSAGE(serial));
  const notRun = (commandId: string) => failure(commandId, 'not-run', NOT_RUN_MESSAGE);

  /**
   * A command that failed verification is answered under the id it claims, but only when that id
   * is unknown here: a forged command must not contradict, or be stored in place of, a real one.
   */
  const refuseUnverified = async (
    scrub: SecretScrubber,
    claimedId: string | undefined,
    refusal: CommandRefusal,
    message: string,
  ): Promise<CommandResultBody | undefined> => {
    if (claimedId === undefined) {
      log.warn('command refused without a readable id', { refusal });
      return undefined;
    }
    if (inFlight.has(claimedId) || results.get(claimedId) !== undefined) {
      log.warn('unverified command reuses a known command id; not answered', {
        commandId: claimedId,
        refusal,
      });
      return undefined;
    }
    return refuse(scrub, claimedId, refusal, message);
  };

  const contextFor = (
    payload: CommandPayload,
    scrub: SecretScrubber,
    controller: AbortController,
  ): { context: JobContext; settle: () => Promise<void> } => {
    const cameras = createCameraAccess({
      serial: payload.serial,
      vapix,
      signal: controller.signal,
    });
    let progressChain: Promise<void> = Promise.resolve();
    const startedAt = Date.now();
    let held: CommandReport | null = null;
    let holdTimer: NodeJS.Timeout | undefined;
    const jobLog: JobLogger = {
      info: (message, fields) =>
        log.info(scrub.text(message), scrub.value({ commandId: payload.commandId, ...fields })),
      warn: (message, fields) =>
        log.warn(scrub.text(message), scrub.value({ commandId: payload.commandId, ...fields })),
      error: (message, fields) =>
        log.error(scrub.text(message), scrub.value({ commandId: payload.commandId, ...fields })),
    };
    // Chained, so progress keeps its order even when a verb does not wait for it, and the result
    // goes out after the last of it.
    const enqueueProgress = (body: CommandReport): Promise<void> => {
      progressChain = progressChain
        .then(async () => {
          await send(scrub, body);
        })
        .catch((error: unknown) => {
          jobLog.warn('a progress report could not be queued', {
            error: error instanceof Error ? error.message : String(error),
          });
        });
      return progressChain;
    };
    const context: JobContext = {
      commandId: payload.commandId,
      verb: payload.verb,
      serial: payload.serial,
      params: paramsOf(payload),
      url: payload.url,
      cameras,
      directory,
      factoryDefaultUrls,
      timing,
      signal: controller.signal,
      log: jobLog,
      secret(ref) {
        const secret = Object.hasOwn(payload.secrets, ref) ? payload.secrets[ref] : undefined;
        // The payload schema guarantees every referenced credential is delivered.
        if (secret === undefined) throw new Error(`credential "${ref}" was not delivered`);
        return { username: secret.username, password: secret.password };
      },
      progress(step, message, fraction) {
        const body: CommandReport = {
          type: 'command-progress',
          commandId: payload.commandId,
          step: clip(step, MAX_STEP_LENGTH),
          message: clip(message, MAX_MESSAGE_LENGTH),
          ...(fraction === undefined || !Number.isFinite(fraction)
            ? {}
            : { fraction: Math.min(1, Math.max(0, fraction)) }),
        };
        const heldFor = timing.progressHoldMs - (Date.now() - startedAt);
        if (heldFor > 0) {
          // Early on, only the latest report is kept; it goes out when the hold ends.
          held = body;
          holdTimer ??= setTimeout(() => {
            const latest = held;
            held = null;
            if (latest !== null) void enqueueProgress(latest);
          }, heldFor);
          return Promise.resolve();
        }
        // A report held until now is older than this one: this one says more.
        held = null;
        return enqueueProgress(body);
      },
      now,
      sleep: (ms) => sleep(ms, undefined, { signal: controller.signal }),
    };
    return {
      context,
      settle: async () => {
        // Finished: a report still held back is dropped, the result supersedes it.
        clearTimeout(holdTimer);
        await cameras.closeAll();
        await progressChain;
      },
    };
  };

  const runVerb = async (payload: CommandPayload, scrub: SecretScrubber): Promise<VerbOutcome> => {
    const controller = new AbortController();
    controllers.add(controller);
    running += 1;
    const { context, settle } = contextFor(payload, scrub, controller);
    try {
      const verb = verbs[payload.verb] as unknown as Verb<CommandVerb>;
      const outcome = await verb(context);
      if (closed && controller.signal.aborted) throw new ShutdownError();
      return outcome;
    } catch (error) {
      if (error instanceof ShutdownError || (closed && controller.signal.aborted)) {
        throw new ShutdownError();
      }
      if (error instanceof VapixError) return failedFromVapix(error, `The ${payload.verb} command`);
      context.log.error('a verb failed unexpectedly', {
        verb: payload.verb,
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      });
      return failed(
        'internal',
        `The agent hit an internal error while running ${payload.verb}; see the agent log. Check the camera before retrying.`,
      );
    } finally {
      running -= 1;
      controllers.delete(controller);
      await settle();
    }
  };

  /** A place in the command's queues, joined the moment the command is admitted. */
  interface Turn {
    camera: Promise<Release>;
    /** Whether an earlier command held the camera when this one joined. */
    waitsForCamera: boolean;
  }

  const takeTurn = (serial: string): Turn => {
    const waitsForCamera = cameraLock.isBusy(serial);
    return { camera: cameraLock.acquire(serial), waitsForCamera };
  };

  /** Everything after admission: wait for the turn, nonce, start mark, run, store, report. */
  const execute = async (
    payload: CommandPayload,
    scrub: SecretScrubber,
    turn: Turn,
  ): Promise<CommandResultBody | undefined> => {
    const { commandId, serial } = payload;
    const queue = (message: string) =>
      send(scrub, { type: 'command-progress', commandId, step: 'queued', message }).catch(
        (error: unknown) =>
          log.warn('a queued notice could not be sent', { commandId, error: errorText(error) }),
      );
    if (turn.waitsForCamera) {
      await queue(`Waiting for an earlier command on camera ${serial} to finish.`);
    }
    const releaseCamera = await turn.camera;
    try {
      const pool = payload.verb === WATCH_VERB ? watchSlots : slots;
      const wasFull = pool.full;
      const slot = pool.acquire();
      if (wasFull) await queue('Waiting for a free slot: the agent runs a few commands at once.');
      const releaseSlot = await slot;
      try {
        if (closed) return await conclude(scrub, notRun(commandId));
        // The command may have expired, or its approval lapsed, while it waited its turn.
        const binding = checkBinding(payload);
        if (binding !== null) {
          const refused = await refuse(scrub, commandId, binding.refusal, binding.message);
          await forget(scrub, commandId);
          return refused;
        }
        if (!(await nonces.record(payload.nonce, new Date(payload.expiresAt)))) {
          const refused = await refuse(
            scrub,
            commandId,
            'replayed-nonce',
            'This command nonce was already used by another command; it was not run.',
          );
          await forget(scrub, commandId);
          return refused;
        }
        try {
          await results.markStarted(commandId);
        } catch (error) {
          log.error('could not record that a command started; not running it', {
            commandId,
            error: scrub.text(errorText(error)),
          });
          return await conclude(
            scrub,
            failure(
              commandId,
              'store-unavailable',
              'The agent could not record that the command started, so it did not run it.',
            ),
          );
        }
        const startedAt = performance.now();
        log.info('command started', { commandId, verb: payload.verb, serial });
        let outcome: VerbOutcome;
        try {
          outcome = await runVerb(payload, scrub);
        } catch (error) {
          if (!(error instanceof ShutdownError)) throw error;
          log.warn('command aborted by the shutdown; reporting it interrupted', { commandId });
          return await conclude(scrub, interrupted(commandId, serial));
        }
        // The camera work is done: the next command may start while this one's result is
        // stored and queued (the camera itself stays held until then).
        releaseSlot();
        const stored: StoredResult = clean(
          scrub,
          {
            commandId,
            outcome: outcome.outcome,
            result: outcome.result,
            error: outcome.outcome === 'failed' ? outcome.error : null,
            finishedAt: now().toISOString(),
          },
          commandId,
          'command-result',
        );
        log.info('command finished', {
          commandId,
          verb: payload.verb,
          serial,
          outcome: stored.outcome,
          code: stored.error?.code ?? null,
          ms: Math.round(performance.now() - startedAt),
        });
        return await conclude(scrub, stored);
      } finally {
        releaseSlot();
      }
    } finally {
      releaseCamera();
    }
  };

  /** Refusals are not stored: a refused command may be sent again once fixed. */
  const forget = async (scrub: SecretScrubber, commandId: string): Promise<void> => {
    try {
      await results.forget(commandId);
    } catch (error) {
      // At the next start it is reported not-run, which is true; the refusal went out first.
      log.warn('could not drop a refused command from the result store', {
        commandId,
        error: scrub.text(errorText(error)),
      });
    }
  };

  /**
   * A new command: journaled as accepted before the ack goes out, so that whatever happens next
   * (a refusal, a crash, a shutdown) it ends with a result. Its place in the camera's queue is
   * taken before anything is awaited, so commands for one camera run in arrival order.
   */
  const admit = async (
    payload: CommandPayload,
    scrub: SecretScrubber,
  ): Promise<CommandResultBody | undefined> => {
    const { commandId } = payload;
    const binding = checkBinding(payload);
    const admission: { turn: Turn } | { refusal: NonNullable<typeof binding> } =
      binding === null ? { turn: takeTurn(payload.serial) } : { refusal: binding };
    try {
      await results.markAccepted(commandId, { serial: payload.serial });
    } catch (error) {
      if ('turn' in admission) void admission.turn.camera.then((release) => release());
      log.error('could not journal a command; not acknowledging or running it', {
        commandId,
        error: scrub.text(errorText(error)),
      });
      return reportResult(
        scrub,
        failure(
          commandId,
          'store-unavailable',
          'The agent could not journal the command, so it did not run it.',
        ),
        false,
      );
    }
    try {
      await send(scrub, { type: 'command-ack', commandId });
    } catch (error) {
      // Journaled as accepted: the result still follows, or the next start reports it.
      log.warn('could not queue a command ack', { commandId, error: scrub.text(errorText(error)) });
    }
    if ('refusal' in admission) {
      const refused = await refuse(
        scrub,
        commandId,
        admission.refusal.refusal,
        admission.refusal.message,
      );
      await forget(scrub, commandId);
      return refused;
    }
    return execute(payload, scrub, admission.turn);
  };

  const handle = async (message: CommandMessage): Promise<CommandResultBody | undefined> => {
    const raw = message.payload;
    const scrub = createSecretScrubber(passwordsIn(raw));
    if (closed) {
      log.warn('command ignored: the agent is shutting down', { commandId: claimedIdOf(raw) });
      return undefined;
    }
    let signed = false;
    try {
      signed = verifyText(signingKey, commandSigningText(raw), message.signature);
    } catch {
      signed = false;
    }
    if (!signed) {
      return refuseUnverified(
        scrub,
        claimedIdOf(raw),
        'bad-signature',
        'The command signature does not verify with the enrolled command-signing key; it was not run.',
      );
    }
    const parsed = CommandPayloadSchema.safeParse(raw);
    if (!parsed.success) {
      return refuseUnverified(
        scrub,
        claimedIdOf(raw),
        'malformed',
        `The command is malformed (${describeIssues(parsed.error, '(payload)')}); it was not run.`,
      );
    }
    const payload = parsed.data;
    const { commandId } = payload;
    log.info('command received', { commandId, verb: payload.verb, serial: payload.serial });

    // A re-delivery while the command is queued or running waits for it, then reads its result.
    let acked = false;
    if (inFlight.has(commandId)) {
      await send(scrub, { type: 'command-ack', commandId });
      acked = true;
      for (
        let earlier = inFlight.get(commandId);
        earlier !== undefined;
        earlier = inFlight.get(commandId)
      ) {
        await earlier;
      }
    }
    const stored = results.get(commandId);
    if (stored === undefined) {
      // Registered before the first await, so a re-delivery arriving meanwhile waits for it.
      const execution = admit(payload, scrub);
      const settled = execution.then(
        () => undefined,
        () => undefined,
      );
      inFlight.set(commandId, settled);
      try {
        return await execution;
      } finally {
        if (inFlight.get(commandId) === settled) inFlight.delete(commandId);
      }
    }
    if (!acked) await send(scrub, { type: 'command-ack', commandId });
    if (stored === 'accepted' || stored === 'started') {
      // Left by an earlier run that recovery could not settle; it is never run again.
      log.warn('command was cut short earlier; not running it again', { commandId });
      return conclude(
        scrub,
        stored === 'started' ? interrupted(commandId, payload.serial) : notRun(commandId),
      );
    }
    // A genuine command that already ran gets its result back even once it has expired; only a
    // command about to run must still be within its binding.
    log.info('command already ran; sending its stored result', { commandId });
    return reportResult(scrub, stored, true);
  };

  return {
    async handle(message) {
      await handle(message);
    },
    async recover() {
      const scrub = createSecretScrubber([]);
      for (const item of results.unreported()) {
        if (inFlight.has(item.commandId)) continue;
        if (item.state === 'finished') {
          log.info('queueing a stored result that never reached the outbox', {
            commandId: item.commandId,
          });
          try {
            await reportResult(scrub, item.result, false, commandResultMessageId(item.commandId));
            await results.markReported(item.commandId);
          } catch (error) {
            log.error('could not queue a stored result', {
              commandId: item.commandId,
              error: errorText(error),
            });
          }
          continue;
        }
        log.warn(
          item.state === 'started'
            ? 'command was running when the agent stopped; reporting it interrupted'
            : 'command was waiting when the agent stopped; reporting it not run',
          { commandId: item.commandId },
        );
        await conclude(
          scrub,
          item.state === 'started'
            ? interrupted(item.commandId, item.serial)
            : notRun(item.commandId),
        );
      }
    },
    get running() {
      return running;
    },
    async close(closeOptions = {}) {
      closed = true;
      const everything = () => Promise.all([...inFlight.values()]);
      const graceMs = closeOptions.graceMs ?? 0;
      if (graceMs > 0 && inFlight.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          everything(),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, graceMs);
          }),
        ]);
        clearTimeout(timer);
      }
      for (const controller of controllers) controller.abort(new ShutdownError());
      await everything();
    },
  };
}
