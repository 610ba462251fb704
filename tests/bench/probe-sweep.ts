import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  createAttemptBudget,
  createAuthSessionCache,
  createRequestLimiter,
  probe,
  type ProbeResult,
} from '@custody/vapix';

/**
 * Probes in parallel by default. Client and simulator each run on one core of the 2-core
 * machine the figures are taken on, so past some concurrency the sweep stops waiting on
 * latency and queues for CPU instead. At 20 ms latency the ratio stays flat (about 1.2, the
 * per-request overhead) up to around 64 probes in parallel and bends beyond; 48 keeps a
 * margin below the bend for other work on the machine.
 */
export const DEFAULT_CONCURRENCY = 48;
/** Also swept by the CLI, one pass each, to show where the ratio bends. */
export const COMPARED_CONCURRENCIES = [25, 64, 100];

export interface ProbeSweepOptions {
  count: number;
  latencyMs: number;
  concurrency: number;
  /** One firmware profile for every camera; a round-robin mix of all profiles otherwise. */
  firmware?: string | undefined;
  /** Writes a V8 CPU profile of the simulator host into this directory. */
  simulatorProfileDir?: string | undefined;
}

export interface ProbeSweepFigures {
  cameras: number;
  latencyMs: number;
  concurrency: number;
  wallMs: number;
  camerasPerSecond: number;
  requestsPerProbe: number;
  /** cameras × requests per probe × latency / concurrency: no client can beat it. */
  physicalLimitMs: number;
  ratio: number;
  /** CPU time (user + system) spent during the sweep, by side. */
  clientCpuMs: number;
  simulatorCpuMs: number;
  accessStates: Record<string, number>;
  simulatorRssMiB: number;
  simulatorRssPerCameraKiB: number;
}

interface Ready {
  type: 'ready';
  cameras: { serial: string; url: string; firmware: string }[];
  memory: { rssBefore: number; rss: number; heapUsed: number };
}

function next<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type: string; message?: string }) => {
      if (message.type === 'error') {
        cleanup();
        reject(new Error(`simulator host failed: ${message.message}`));
      } else if (message.type === type) {
        cleanup();
        resolve(message as T);
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`simulator host exited with ${code}`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

async function statsOf(child: ChildProcess): Promise<{ requests: number; cpuMicros: number }> {
  const reply = next<{ requests: number; cpuMicros: number }>(child, 'stats');
  child.send({ type: 'stats' });
  return reply;
}

export interface SweepSite {
  /** Probes every camera once, `concurrency` at a time, with fresh nonce caches and budgets. */
  sweep(concurrency: number): Promise<ProbeSweepFigures>;
  close(): Promise<void>;
}

/** Starts a simulated site in its own process, ready for any number of sweeps. */
export async function startSweepSite(
  options: Omit<ProbeSweepOptions, 'concurrency'>,
): Promise<SweepSite> {
  const password = randomBytes(12).toString('base64url');
  const child = fork(fileURLToPath(new URL('./sim-host.ts', import.meta.url)), {
    execArgv: [
      '--import',
      'tsx',
      '--expose-gc',
      ...(options.simulatorProfileDir === undefined
        ? []
        : ['--cpu-prof', `--cpu-prof-dir=${options.simulatorProfileDir}`]),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const close = async () => {
    child.send({ type: 'close' });
    await new Promise((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => resolve(clearTimeout(timer)));
    });
  };
  let ready: Ready;
  try {
    await next(child, 'listening');
    child.send({
      type: 'start',
      count: options.count,
      latencyMs: options.latencyMs,
      password,
      firmware: options.firmware,
    });
    ready = await next<Ready>(child, 'ready');
  } catch (error) {
    await close();
    throw error;
  }
  const cameraBytes = ready.memory.rss - ready.memory.rssBefore;
  // One object for the whole site, as the agent holds a site's credentials.
  const credentials = { username: 'root', password };

  const sweep = async (concurrency: number): Promise<ProbeSweepFigures> => {
    // Each sweep starts cold, as an agent's first sweep of a site does: no cached nonces.
    const isolation = {
      budget: createAttemptBudget(),
      sessions: createAuthSessionCache(),
      limiter: createRequestLimiter(),
    };
    const { requests: requestsBefore, cpuMicros: simulatorCpuBefore } = await statsOf(child);
    const results: ProbeResult[] = [];
    let index = 0;
    const clientCpuBefore = process.cpuUsage();
    const started = performance.now();
    const worker = async () => {
      while (index < ready.cameras.length) {
        const camera = ready.cameras[index];
        index += 1;
        if (camera === undefined) break;
        results.push(await probe(camera.url, credentials, isolation));
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const wallMs = performance.now() - started;
    const clientCpu = process.cpuUsage(clientCpuBefore);
    const { requests: requestsAfter, cpuMicros: simulatorCpuAfter } = await statsOf(child);

    const requestsPerProbe = (requestsAfter - requestsBefore) / ready.cameras.length;
    const physicalLimitMs =
      (ready.cameras.length * requestsPerProbe * options.latencyMs) / concurrency;
    const accessStates: Record<string, number> = {};
    for (const result of results)
      accessStates[result.accessState] = (accessStates[result.accessState] ?? 0) + 1;
    return {
      cameras: ready.cameras.length,
      latencyMs: options.latencyMs,
      concurrency,
      wallMs,
      camerasPerSecond: ready.cameras.length / (wallMs / 1000),
      requestsPerProbe,
      physicalLimitMs,
      ratio: wallMs / physicalLimitMs,
      clientCpuMs: (clientCpu.user + clientCpu.system) / 1000,
      simulatorCpuMs: (simulatorCpuAfter - simulatorCpuBefore) / 1000,
      accessStates,
      simulatorRssMiB: ready.memory.rss / 2 ** 20,
      simulatorRssPerCameraKiB: cameraBytes / ready.cameras.length / 1024,
    };
  };

  return { sweep, close };
}

/** Probes every camera of a simulated site with working credentials, `concurrency` at a time. */
export async function runProbeSweep(options: ProbeSweepOptions): Promise<ProbeSweepFigures> {
  const site = await startSweepSite(options);
  try {
    return await site.sweep(options.concurrency);
  } finally {
    await site.close();
  }
}

export function formatFigures(figures: ProbeSweepFigures): string {
  const states = Object.entries(figures.accessStates)
    .map(([state, count]) => `${state} ${count}`)
    .join(', ');
  const requests = figures.cameras * figures.requestsPerProbe;
  const cpuPerRequest = (cpuMs: number) =>
    `${(cpuMs / 1000).toFixed(2)} s (${((cpuMs * 1000) / requests).toFixed(0)} µs/request, ${(cpuMs / figures.cameras).toFixed(2)} ms/probe)`;
  return [
    `probe sweep: ${figures.cameras} simulated cameras, ${figures.latencyMs} ms latency per request, ${figures.concurrency} probes in parallel`,
    `  wall time          ${(figures.wallMs / 1000).toFixed(2)} s`,
    `  cameras/second     ${figures.camerasPerSecond.toFixed(1)}`,
    `  requests/probe     ${figures.requestsPerProbe.toFixed(2)}`,
    `  physical limit     ${(figures.physicalLimitMs / 1000).toFixed(2)} s (cameras x requests/probe x latency / concurrency)`,
    `  ratio to limit     ${figures.ratio.toFixed(2)} (target <= 1.3)`,
    `  CPU                client ${cpuPerRequest(figures.clientCpuMs)}`,
    `                     simulator ${cpuPerRequest(figures.simulatorCpuMs)}`,
    `  outcomes           ${states}`,
    `  simulator memory   ${figures.simulatorRssMiB.toFixed(0)} MiB RSS, ${figures.simulatorRssPerCameraKiB.toFixed(1)} KiB per camera`,
  ].join('\n');
}

/** Best and spread of repeated sweeps at one concurrency (other work on the machine adds noise). */
export function formatRepeats(runs: readonly ProbeSweepFigures[]): string {
  const ratios = runs.map((run) => run.ratio);
  const rates = runs.map((run) => run.camerasPerSecond);
  return `  over ${runs.length} sweeps     ratio best ${Math.min(...ratios).toFixed(2)} (spread ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}), cameras/second best ${Math.max(...rates).toFixed(1)} (spread ${Math.min(...rates).toFixed(1)}-${Math.max(...rates).toFixed(1)})`;
}

export function formatComparison(runs: readonly ProbeSweepFigures[]): string {
  const rows = runs.map(
    (run) =>
      `  ${String(run.concurrency).padStart(11)}  ${run.ratio.toFixed(2).padStart(5)}  ${run.camerasPerSecond.toFixed(1).padStart(9)}  ${(run.wallMs / 1000).toFixed(2).padStart(6)} s  ${((run.clientCpuMs * 1000) / (run.cameras * run.requestsPerProbe)).toFixed(0).padStart(6)} µs  ${((run.simulatorCpuMs * 1000) / (run.cameras * run.requestsPerProbe)).toFixed(0).padStart(6)} µs`,
  );
  return ['  concurrency  ratio  cameras/s    wall    client/req  simulator/req', ...rows].join(
    '\n',
  );
}

function parseConcurrencies(value: string): number[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
    .map(Number);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = await import('node:util').then(({ parseArgs }) =>
    parseArgs({
      options: {
        cameras: { type: 'string', default: '1000' },
        latency: { type: 'string', default: '20' },
        concurrency: { type: 'string', default: String(DEFAULT_CONCURRENCY) },
        repeat: { type: 'string', default: '3' },
        warmup: { type: 'string', default: '2' },
        compare: { type: 'string', default: COMPARED_CONCURRENCIES.join(',') },
        firmware: { type: 'string' },
        'simulator-cpu-prof-dir': { type: 'string' },
      },
    }),
  );
  const site = await startSweepSite({
    count: Number(values.cameras),
    latencyMs: Number(values.latency),
    firmware: values.firmware,
    simulatorProfileDir: values['simulator-cpu-prof-dir'],
  });
  try {
    const concurrency = Number(values.concurrency);
    // The first sweeps also pay for compiling and optimising the client and simulator code; a
    // long-running agent does not, so they are run and left out of the figures.
    const warmups = Math.max(0, Number(values.warmup));
    for (let round = 0; round < warmups; round += 1) await site.sweep(concurrency);
    if (warmups > 0)
      console.log(`(after ${warmups} warm-up sweep${warmups > 1 ? 's' : ''}, not counted)`);
    const runs: ProbeSweepFigures[] = [];
    for (let round = 0; round < Math.max(1, Number(values.repeat)); round += 1) {
      runs.push(await site.sweep(concurrency));
    }
    const best = runs.reduce((a, b) => (b.ratio < a.ratio ? b : a));
    console.log(formatFigures(best));
    if (runs.length > 1) console.log(formatRepeats(runs));
    const compared = parseConcurrencies(values.compare).filter((value) => value !== concurrency);
    if (compared.length > 0) {
      const others: ProbeSweepFigures[] = [];
      for (const value of compared) others.push(await site.sweep(value));
      console.log('other concurrencies, one sweep each:');
      console.log(
        formatComparison([best, ...others].sort((a, b) => a.concurrency - b.concurrency)),
      );
    }
  } finally {
    await site.close();
  }
}
