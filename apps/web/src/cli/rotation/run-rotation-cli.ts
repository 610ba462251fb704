import { setTimeout as sleep } from 'node:timers/promises';
import {
  createCustodyClient,
  CustodyError,
  toCustodyError,
  type CustodyClient,
} from './custody-client.ts';
import {
  formatCreated,
  formatProgressLine,
  formatSummary,
  isSettled,
  isSuccess,
  type ItemStatus,
  type ItemView,
  type JobView,
} from './job-report.ts';
import {
  parseRotationArgs,
  ROTATION_USAGE,
  UsageError,
  type ParsedRotationArgs,
  type StartOptions,
} from './rotation-args.ts';

/** What the CLI may touch of its process; tests pass their own. */
export interface RotationCliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** CUSTODY_URL, CUSTODY_EMAIL and CUSTODY_PASSWORD are read from here. */
  env: Readonly<Record<string, string | undefined>>;
  /** Asks for the password on a terminal without echo; absent without a terminal. */
  promptPassword?: ((prompt: string) => Promise<string>) | undefined;
  signal?: AbortSignal | undefined;
  fetch?: typeof fetch | undefined;
  /** How often `watch` reads the job without a live feed (default 1 s). */
  pollMs?: number | undefined;
  /** How often `watch` reads the job anyway while the live feed runs (default 5 s). */
  safetyPollMs?: number | undefined;
  now?: (() => Date) | undefined;
}

/** Failed and skipped cameras listed in a summary; the job page has the rest. */
const SUMMARY_ITEMS = 100;
const LIVE_RETRIES = 3;

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

function isAbort(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'AbortError';
}

function clock(now: Date): string {
  return now.toTimeString().slice(0, 8);
}

interface Session {
  client: CustodyClient;
  io: RotationCliIo;
  origin: string;
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `--site` values to site ids: an id as is, a name matched without regard to case. */
async function resolveSites(session: Session, wanted: readonly string[]): Promise<string[]> {
  const sites = await session.client.trpc.sites.list.query();
  const ids: string[] = [];
  for (const entry of wanted) {
    if (uuid.test(entry)) {
      const site = sites.find((candidate) => candidate.id === entry.toLowerCase());
      if (!site) throw new UsageError(`no site with id ${entry} among the sites you can reach`);
      ids.push(site.id);
      continue;
    }
    const matches = sites.filter(
      (candidate) => candidate.name.toLowerCase() === entry.toLowerCase(),
    );
    if (matches.length > 1) {
      throw new UsageError(
        `${matches.length} sites are named "${entry}"; give one by id: ${matches.map((site) => site.id).join(', ')}`,
      );
    }
    const [site] = matches;
    if (!site) {
      const names = sites.map((candidate) => `"${candidate.name}"`);
      throw new UsageError(
        `no site named "${entry}" among the sites you can reach${names.length > 0 ? ` (${names.slice(0, 10).join(', ')}${names.length > 10 ? ', …' : ''})` : ''}`,
      );
    }
    ids.push(site.id);
  }
  return [...new Set(ids)];
}

async function readJob(session: Session, jobId: string): Promise<JobView> {
  return session.client.trpc.rotation.get.query({ jobId });
}

async function readItems(session: Session, jobId: string, status: ItemStatus): Promise<ItemView[]> {
  const page = await session.client.trpc.rotation.items.query({
    jobId,
    status,
    limit: SUMMARY_ITEMS,
  });
  return page.items;
}

/**
 * A wake-up call that is kept when it comes while nobody waits: a change announced while the job
 * is being read is not lost, the next wait returns at once instead.
 */
function createWakeup() {
  let pending = false;
  let waiter: (() => void) | undefined;
  return {
    poke() {
      pending = true;
      waiter?.();
    },
    /** Resolves at the next poke (or one since the last wait) or after `ms`; rejects on abort. */
    wait(ms: number, signal: AbortSignal): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        const finish = (outcome: 'woken' | 'aborted') => {
          clearTimeout(timer);
          waiter = undefined;
          signal.removeEventListener('abort', onAbort);
          if (outcome === 'aborted') {
            reject(new DOMException('The watch was interrupted.', 'AbortError'));
          } else {
            pending = false;
            resolve();
          }
        };
        const onAbort = () => finish('aborted');
        const timer = setTimeout(() => finish('woken'), ms);
        waiter = () => finish('woken');
        if (signal.aborted) onAbort();
        else if (pending) finish('woken');
        else signal.addEventListener('abort', onAbort, { once: true });
      });
    },
  };
}

/**
 * Follows a job until it has settled, one progress line per change. The live feed (server-sent
 * events) says when to read the job again; without it, or if it fails, the job is read every
 * second.
 */
async function watchJob(session: Session, jobId: string): Promise<number> {
  const { io, client } = session;
  const now = io.now ?? (() => new Date());
  const stop = new AbortController();
  const abort = () => stop.abort();
  io.signal?.addEventListener('abort', abort, { once: true });
  const wakeup = createWakeup();
  const poke = () => wakeup.poke();
  let mode: 'live' | 'polling' = 'live';

  const feed = (async () => {
    let failures = 0;
    let reason = '';
    while (!stop.signal.aborted && failures < LIVE_RETRIES) {
      try {
        const end = await client.subscribe('rotation.live', { jobId }, poke, stop.signal, poke);
        if (end === 'ended' || stop.signal.aborted) break;
        reason = 'the connection closed';
      } catch (error) {
        if (isAbort(error)) break;
        const problem = toCustodyError(error);
        reason = problem.message;
        // The server answered: asking again gets the same answer.
        if (problem.status !== undefined) break;
      }
      failures++;
      await sleep(500, undefined, { signal: stop.signal }).catch(() => undefined);
    }
    if (!stop.signal.aborted) {
      mode = 'polling';
      io.stderr.write(
        `Live updates unavailable${reason ? ` (${reason})` : ''}; reading the job every ${Math.round((io.pollMs ?? 1_000) / 100) / 10} s.\n`,
      );
      poke();
    }
  })();

  let last = '';
  let view: JobView;
  try {
    for (;;) {
      view = await readJob(session, jobId);
      const line = formatProgressLine(view);
      if (line !== last) {
        io.stdout.write(`${clock(now())} ${line}\n`);
        last = line;
      }
      if (isSettled(view)) break;
      const waitMs = mode === 'live' ? (io.safetyPollMs ?? 5_000) : (io.pollMs ?? 1_000);
      await wakeup.wait(waitMs, stop.signal);
    }
  } finally {
    stop.abort();
    io.signal?.removeEventListener('abort', abort);
    await feed;
  }

  const [failed, skipped] = await Promise.all([
    (view.totals.failed ?? 0) > 0 ? readItems(session, jobId, 'failed') : [],
    (view.totals.skipped ?? 0) > 0 ? readItems(session, jobId, 'skipped') : [],
  ]);
  io.stdout.write(
    formatSummary({
      view,
      failed,
      skipped,
      pageUrl: `${session.origin}/rotations/${jobId}`,
      now: now(),
    }),
  );
  return isSuccess(view) ? 0 : 1;
}

async function startJob(session: Session, options: StartOptions): Promise<number> {
  const { io, client } = session;
  const siteIds = await resolveSites(session, options.sites);
  const created = await client.trpc.rotation.create.mutate({
    siteIds,
    account: options.account,
    canarySize: options.canarySize,
    waveSize: options.waveSize,
    maxFailures: options.maxFailures,
  });
  io.stdout.write(`${formatCreated(created, options)}\n`);
  io.stdout.write(`Job page: ${session.origin}/rotations/${created.jobId}\n`);
  if (options.detach || created.cameras === 0) return created.cameras === 0 ? 1 : 0;
  return watchJob(session, created.jobId);
}

async function listJobs(session: Session, limit: number): Promise<number> {
  const { io, client } = session;
  const page = await client.trpc.rotation.list.query({ limit });
  if (page.jobs.length === 0) {
    io.stdout.write('No rotation jobs yet.\n');
    return 0;
  }
  for (const job of page.jobs) {
    const done = job.totals.rotated + job.totals.failed + job.totals.skipped;
    io.stdout.write(
      `${job.id}  ${job.status.padEnd(9)}  ${job.account.padEnd(7)}  ${job.createdAt.toISOString()}  ${done}/${job.cameras} done: ${job.totals.rotated} rotated, ${job.totals.failed} failed, ${job.totals.skipped} skipped  by ${job.createdBy.name}\n`,
    );
  }
  if (page.nextCursor !== null)
    io.stdout.write(`… more with --limit ${Math.min(100, limit * 2)}\n`);
  return 0;
}

async function control(
  session: Session,
  name: 'pause' | 'resume' | 'cancel' | 'retry',
  jobId: string,
): Promise<void> {
  const procedures = session.client.trpc.rotation;
  if (name === 'pause') await procedures.pause.mutate({ jobId });
  else if (name === 'resume') await procedures.resume.mutate({ jobId });
  else if (name === 'cancel') await procedures.cancel.mutate({ jobId });
  else await procedures.retryFailures.mutate({ jobId });
}

async function runCommand(session: Session, parsed: ParsedRotationArgs): Promise<number> {
  const { command } = parsed;
  switch (command.name) {
    case 'start':
      return startJob(session, command.options);
    case 'watch':
      return watchJob(session, command.jobId);
    case 'list':
      return listJobs(session, command.limit);
    case 'retry': {
      await control(session, 'retry', command.jobId);
      session.io.stdout.write(`Retrying the failed cameras of job ${command.jobId}.\n`);
      return command.detach ? 0 : watchJob(session, command.jobId);
    }
    case 'pause':
    case 'resume':
    case 'cancel': {
      await control(session, command.name, command.jobId);
      const view = await readJob(session, command.jobId);
      session.io.stdout.write(`${formatProgressLine(view)}\n`);
      return 0;
    }
    case 'help':
      session.io.stdout.write(ROTATION_USAGE);
      return 0;
  }
}

async function readPassword(io: RotationCliIo, email: string): Promise<string> {
  const fromEnv = io.env.CUSTODY_PASSWORD;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (!io.promptPassword) {
    throw new UsageError(
      'no password: set CUSTODY_PASSWORD, or run on a terminal to be asked for it',
    );
  }
  const typed = await io.promptPassword(`Password for ${email}: `);
  if (typed === '') throw new UsageError('no password given');
  return typed;
}

/** Runs one command and resolves with the exit code; everything it prints goes through `io`. */
export async function runRotationCli(argv: readonly string[], io: RotationCliIo): Promise<number> {
  let parsed: ParsedRotationArgs;
  try {
    parsed = parseRotationArgs(argv, io.env);
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      io.stderr.write(`rotation: ${(error as Error).message}\n\n${ROTATION_USAGE}`);
      return 2;
    }
    throw error;
  }
  if (parsed.command.name === 'help') {
    io.stdout.write(ROTATION_USAGE);
    return 0;
  }

  const { url, email } = parsed.connection;
  const client = createCustodyClient({ baseUrl: url, fetch: io.fetch, signal: io.signal });
  const session: Session = { client, io, origin: url.origin };
  try {
    if (email === undefined)
      throw new UsageError('who signs in? pass --email or set CUSTODY_EMAIL');
    const password = await readPassword(io, email);
    const who = await client.signIn(email, password);
    io.stderr.write(
      `Signed in to ${url.origin} as ${who.name} (${who.roles.join(', ') || 'no role'}).\n`,
    );
    return await runCommand(session, parsed);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`rotation: ${error.message}\n`);
      return 2;
    }
    if (
      io.signal?.aborted === true ||
      isAbort(error) ||
      (error as { name?: unknown }).name === 'PromptCancelled'
    ) {
      io.stderr.write('rotation: interrupted\n');
      return 130;
    }
    const problem = error instanceof CustodyError ? error : toCustodyError(error);
    io.stderr.write(`rotation: ${problem.message}\n`);
    return 1;
  } finally {
    await client.signOut();
  }
}
