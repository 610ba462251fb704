import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Database } from '@custody/db';
import { cameras } from '@custody/db/schema';
import { and, count, eq, gte, isNull } from 'drizzle-orm';
import { safeErrorMessage } from '@custody/db/errors';
import { AGENT_GATEWAY_PATH } from '../gateway/index.ts';
import { ensureDemoAgentEnrolled, startDemoAgent, type DemoAgentOptions } from './demo-agent.ts';
import { startDemoProcess, type DemoProcess } from './demo-process.ts';
import { cameraAddress, writeDemoSiteFile, type DemoSitePlan } from './demo-site-file.ts';
import { seedDemoSite, type DemoSite } from './seed-demo-site.ts';

/** Where the simulated cameras answer HTTP when the port is free. */
export const DEMO_CAMERA_PORT = 8080;
const SIMULATOR_READY_MS = 60_000;
const STOP_GRACE_MS = 4_000;
/** How long the start-up progress lines follow the inventory. */
const WATCH_INVENTORY_MS = 3 * 60_000;

export interface PrepareDemoOptions {
  db: Database;
  /** The repository: the simulator, the agent and the site file are run from here. */
  repoRoot: string;
  /** CUSTODY_DEMO_DIR: the simulator's site file, the agent's data directory, the logs. */
  demoDir: string;
  /** The simulator's site description (default: the simulator's examples/demo-site.json). */
  siteFile?: string;
  /** Port for every camera's HTTP; 0 for any (tests). Another is picked when it is taken. */
  cameraPort?: number;
  /** Moves the site away from the site file's addresses (tests, beside a running demo). */
  addressBase?: string;
}

export interface DemoServer {
  /** How the agent reaches this server to enroll, e.g. http://localhost:3000. */
  url: string;
  /** CUSTODY_PUBLIC_URL's first origin, which the gateway hands to agents instead. */
  publicUrl?: URL | undefined;
}

export interface DemoRun {
  /** Settles once the agent runs (enrolled first if it had to be); rejects if the demo failed. */
  readonly ready: Promise<{ agentId: string; enrolled: boolean }>;
  /** Stops the agent, then the simulated site. */
  stop(): Promise<void>;
}

export interface PreparedDemo {
  site: DemoSite;
  plan: DemoSitePlan;
  /** For the start banner: the demo site and how to run without the demo. */
  bannerLines: string[];
  /**
   * Starts the simulated site and the agent in the background, reporting progress through
   * `log`; the web server is usable meanwhile.
   */
  start(server: DemoServer, log: (line: string) => void): DemoRun;
}

function gatewayUrlFor(server: DemoServer): string {
  const base = server.publicUrl ?? new URL(server.url);
  return `${base.protocol === 'https:' ? 'wss:' : 'ws:'}//${base.host}${AGENT_GATEWAY_PATH}`;
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

/** Keeps the previous start's log as `<file>.1`, so the logs do not grow without end. */
async function rotateLog(file: string): Promise<void> {
  await rename(file, `${file}.1`).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  });
}

function failure(what: string, child: DemoProcess, logFile: string): Error {
  const last = child.tail().slice(-5);
  return new Error([`${what}; see ${logFile}`, ...last.map((line) => `    ${line}`)].join('\n'));
}

/**
 * The demo's database side, before the start banner: the demo site, owned by the demo owner
 * and granted to the demo integrator (the demo users must exist: startAuth with demoUsers),
 * and the simulator's site file with a free camera port. Idempotent: a later start finds the
 * same site.
 */
export async function prepareDemo(options: PrepareDemoOptions): Promise<PreparedDemo> {
  const source =
    options.siteFile ??
    join(options.repoRoot, 'packages', 'simulator', 'examples', 'demo-site.json');
  const plan = await writeDemoSiteFile({
    source,
    target: join(options.demoDir, 'site.json'),
    preferredPort: options.cameraPort ?? DEMO_CAMERA_PORT,
    addressBase: options.addressBase,
  });
  const site = await seedDemoSite(options.db, {
    name: plan.name,
    address: 'Harbour Road 7 (simulated)',
    networkNotes: `Simulated AXIS cameras on loopback (${plan.cidr}), started with Custody by npm start; CUSTODY_DEMO=0 npm start runs without them.`,
  });
  const last = cameraAddress(plan.addressBase, plan.cameraCount - 1);
  const grant = site.granted ? `granted to ${site.integratorName}` : 'grant revoked by the owner';
  const bannerLines = [
    `  demo:     ${site.name} (owner ${site.ownerName}, ${grant})`,
    `            ${plan.cameraCount} simulated cameras on ${plan.addressBase}–${last} port ${plan.cameraPort}, reported by a local agent`,
    `            data and logs in ${options.demoDir}; without the demo: CUSTODY_DEMO=0 npm start`,
  ];

  const agentOptions: DemoAgentOptions = {
    repoRoot: options.repoRoot,
    dataDir: join(options.demoDir, 'agent'),
    logFile: join(options.demoDir, 'agent.log'),
    cidr: plan.cidr,
    cameraPort: plan.cameraPort,
  };
  const simulatorLog = join(options.demoDir, 'simulator.log');

  function start(server: DemoServer, log: (line: string) => void): DemoRun {
    const startedAt = performance.now();
    const startedAtTime = new Date();
    const stopping = new AbortController();
    let simulator: DemoProcess | undefined;
    let agent: DemoProcess | undefined;

    async function startSimulator(): Promise<DemoProcess> {
      let onReady: (controlUrl: string | undefined) => void = () => undefined;
      const ready = new Promise<string | undefined>((resolve) => (onReady = resolve));
      let controlUrl: string | undefined;
      const child = await startDemoProcess({
        args: [join(options.repoRoot, 'packages', 'simulator', 'src', 'cli.ts'), plan.file],
        cwd: options.repoRoot,
        env: {},
        logFile: simulatorLog,
        onLine(line) {
          const control = /^Control API: (\S+)/.exec(line);
          if (control) controlUrl = control[1];
          if (line.startsWith('Ready.')) onReady(controlUrl);
        },
      });
      simulator = child;
      const outcome = await Promise.race([
        ready.then((url) => ({ kind: 'ready' as const, url })),
        child.exited.then(() => ({ kind: 'exited' as const })),
        sleep(SIMULATOR_READY_MS, { kind: 'timeout' as const }, { ref: false }),
      ]);
      if (outcome.kind !== 'ready') {
        throw failure(
          outcome.kind === 'exited'
            ? 'the simulated site did not start'
            : `the simulated site was not ready within ${SIMULATOR_READY_MS / 1000} s`,
          child,
          simulatorLog,
        );
      }
      log(
        `demo: ${plan.cameraCount} simulated cameras up after ${seconds(startedAt)}${outcome.url ? `; power and reset buttons: ${outcome.url}` : ''}`,
      );
      void child.exited.then(({ code, signal }) => {
        if (stopping.signal.aborted) return;
        log(
          failure(
            `demo: the simulated site stopped (${signal ?? `exit ${code}`})`,
            child,
            simulatorLog,
          ).message,
        );
      });
      return child;
    }

    /** Start-up progress: the cameras the agent has reported since this start. */
    async function watchInventory(): Promise<void> {
      let reported = 0;
      const deadline = performance.now() + WATCH_INVENTORY_MS;
      while (!stopping.signal.aborted && performance.now() < deadline) {
        const [row] = await options.db
          .select({ cameras: count() })
          .from(cameras)
          .where(
            and(
              eq(cameras.siteId, site.id),
              isNull(cameras.lostAt),
              // The agent runs on this machine: its clock is this one.
              gte(cameras.lastSeenAt, startedAtTime),
            ),
          );
        const seen = row?.cameras ?? 0;
        if (seen > reported) {
          reported = seen;
          log(
            `demo: the agent reported ${seen} of ${plan.cameraCount} cameras, ${seconds(startedAt)} after start`,
          );
        }
        if (seen >= plan.cameraCount) return;
        await sleep(1_000, undefined, { ref: false });
      }
    }

    async function run(): Promise<{ agentId: string; enrolled: boolean }> {
      await Promise.all([rotateLog(simulatorLog), rotateLog(agentOptions.logFile)]);
      await startSimulator();
      if (stopping.signal.aborted) throw new Error('the demo was stopped while starting');
      const enrollment = await ensureDemoAgentEnrolled({
        ...agentOptions,
        db: options.db,
        siteId: site.id,
        serverUrl: server.url,
        gatewayUrl: gatewayUrlFor(server),
      });
      if (enrollment.enrolled) log(`demo: agent enrolled as ${enrollment.agentId}`);
      if (stopping.signal.aborted) throw new Error('the demo was stopped while starting');
      const child = await startDemoAgent(agentOptions);
      agent = child;
      void child.exited.then(({ code, signal }) => {
        if (stopping.signal.aborted) return;
        const why =
          code === 4
            ? 'the server revoked it or refused its identity; the next start enrolls it again'
            : (signal ?? `exit ${code}`);
        log(failure(`demo: the agent stopped (${why})`, child, agentOptions.logFile).message);
      });
      void watchInventory().catch((error: unknown) => {
        if (!stopping.signal.aborted) {
          log(`demo: cannot follow the inventory: ${safeErrorMessage(error)}`);
        }
      });
      return enrollment;
    }

    const ready = run();
    ready.catch((error: unknown) => {
      if (!stopping.signal.aborted) log(`demo: could not start: ${safeErrorMessage(error)}`);
    });
    return {
      ready,
      async stop() {
        stopping.abort();
        // The agent first, so it does not report the cameras vanishing. Then again once the
        // start-up has settled: it checks for the stop between steps, but one step may have
        // been spawning a process right then.
        await agent?.stop(STOP_GRACE_MS);
        await simulator?.stop(STOP_GRACE_MS);
        await ready.catch(() => undefined);
        await agent?.stop(STOP_GRACE_MS);
        await simulator?.stop(STOP_GRACE_MS);
      },
    };
  }

  return { site, plan, bannerLines, start };
}
