import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { probe, type ProbeResult } from '@custody/vapix';

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

/** Probes every camera of a simulated site with working credentials, `concurrency` at a time. */
export async function runProbeSweep(options: ProbeSweepOptions): Promise<ProbeSweepFigures> {
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
  try {
    await next(child, 'listening');
    child.send({
      type: 'start',
      count: options.count,
      latencyMs: options.latencyMs,
      password,
      firmware: options.firmware,
    });
    const ready = await next<Ready>(child, 'ready');
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
        results.push(await probe(camera.url, { username: 'root', password }));
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, worker));
    const wallMs = performance.now() - started;
    const clientCpu = process.cpuUsage(clientCpuBefore);

    const { requests: requestsAfter, cpuMicros: simulatorCpuAfter } = await statsOf(child);
    const requestsPerProbe = (requestsAfter - requestsBefore) / ready.cameras.length;
    const physicalLimitMs =
      (ready.cameras.length * requestsPerProbe * options.latencyMs) / options.concurrency;
    const accessStates: Record<string, number> = {};
    for (const result of results)
      accessStates[result.accessState] = (accessStates[result.accessState] ?? 0) + 1;
    const cameraBytes = ready.memory.rss - ready.memory.rssBefore;
    return {
      cameras: ready.cameras.length,
      latencyMs: options.latencyMs,
      concurrency: options.concurrency,
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
  } finally {
    child.send({ type: 'close' });
    await new Promise((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => resolve(clearTimeout(timer)));
    });
  }
}

async function statsOf(child: ChildProcess): Promise<{ requests: number; cpuMicros: number }> {
  const reply = next<{ requests: number; cpuMicros: number }>(child, 'stats');
  child.send({ type: 'stats' });
  return reply;
}

export function formatFigures(figures: ProbeSweepFigures): string {
  const states = Object.entries(figures.accessStates)
    .map(([state, count]) => `${state} ${count}`)
    .join(', ');
  const requests = figures.cameras * figures.requestsPerProbe;
  const cpuPerRequest = (cpuMs: number) =>
    `${(cpuMs / 1000).toFixed(2)} s (${((cpuMs * 1000) / requests).toFixed(0)} µs)`;
  return [
    `probe sweep: ${figures.cameras} simulated cameras, ${figures.latencyMs} ms latency per request, ${figures.concurrency} probes in parallel`,
    `  wall time          ${(figures.wallMs / 1000).toFixed(2)} s`,
    `  cameras/second     ${figures.camerasPerSecond.toFixed(1)}`,
    `  requests/probe     ${figures.requestsPerProbe.toFixed(2)}`,
    `  physical limit     ${(figures.physicalLimitMs / 1000).toFixed(2)} s (cameras x requests/probe x latency / concurrency)`,
    `  ratio to limit     ${figures.ratio.toFixed(2)} (target <= 1.3)`,
    `  CPU per request    client ${cpuPerRequest(figures.clientCpuMs)}, simulator ${cpuPerRequest(figures.simulatorCpuMs)}`,
    `  outcomes           ${states}`,
    `  simulator memory   ${figures.simulatorRssMiB.toFixed(0)} MiB RSS, ${figures.simulatorRssPerCameraKiB.toFixed(1)} KiB per camera`,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = await import('node:util').then(({ parseArgs }) =>
    parseArgs({
      options: {
        cameras: { type: 'string', default: '1000' },
        latency: { type: 'string', default: '20' },
        concurrency: { type: 'string', default: '100' },
        firmware: { type: 'string' },
        'simulator-cpu-prof-dir': { type: 'string' },
      },
    }),
  );
  const figures = await runProbeSweep({
    count: Number(values.cameras),
    latencyMs: Number(values.latency),
    concurrency: Number(values.concurrency),
    firmware: values.firmware,
    simulatorProfileDir: values['simulator-cpu-prof-dir'],
  });
  console.log(formatFigures(figures));
}
