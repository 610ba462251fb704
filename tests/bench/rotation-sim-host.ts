import { createServer } from 'node:net';
import {
  createSimulator,
  type AnswerFault,
  type FirmwareId,
  type SimulatedCamera,
  type Simulator,
} from '@custody/simulator';
import { passwordFingerprint } from '../integration/support/password-fingerprint.ts';

/*
 * The rotation benchmark's cameras, in a process of their own so that they do not share an event
 * loop with the server or the agents: one simulator per site, each camera on its own loopback
 * address and the site's port. Only fingerprints of passwords ever leave this process.
 *
 * IPC: `start` → `ready` (the cameras, by site); `fingerprints` → `fingerprints`;
 * `answer-fault` / `power` → `done`; `stats` → `stats`; `close` → exits.
 */

export interface SimSite {
  addressBase: string;
  count: number;
}

export type SimHostRequest =
  | {
      type: 'start';
      sites: SimSite[];
      latencyMs: number;
      timeScale: number;
      rebootMs: number;
      readyDelayMs: number;
      /** The root password every camera starts with. */
      password: string;
      firmwares: FirmwareId[];
    }
  | { type: 'fingerprints'; id: number; accounts: { serial: string; username: string }[] }
  | { type: 'answer-fault'; id: number; serials: string[]; fault: AnswerFault | null }
  | { type: 'power'; id: number; serials: string[]; on: boolean }
  | { type: 'stats'; id: number }
  | { type: 'close' };

export interface SimHostCamera {
  serial: string;
  url: string;
  firmware: string;
}

export type SimHostReply =
  | { type: 'ready'; sites: { port: number; cameras: SimHostCamera[] }[] }
  | { type: 'fingerprints'; id: number; entries: [string, string | null][] }
  | { type: 'done'; id: number }
  | {
      type: 'stats';
      id: number;
      requests: number;
      answersLost: number;
      notReady: number;
      cpuMicros: number;
    }
  | { type: 'error'; message: string };

function send(message: SimHostReply): void {
  process.send?.(message);
}

/** A port free on `host` a moment ago (every camera of a site listens on it, each on its own address). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const simulators: Simulator[] = [];
const cameras = new Map<string, SimulatedCamera>();

async function start(request: Extract<SimHostRequest, { type: 'start' }>): Promise<void> {
  const sites: { port: number; cameras: SimHostCamera[] }[] = [];
  for (const [index, site] of request.sites.entries()) {
    const port = await freePort(site.addressBase);
    const simulator = await createSimulator({
      addressBase: site.addressBase,
      ports: { http: port },
      latencyMs: request.latencyMs,
      timeScale: request.timeScale,
      rebootMs: request.rebootMs,
      readyDelayMs: request.readyDelayMs,
      // Long-lived nonces: a stale-nonce retry is not what this measures.
      nonceLifetimeMs: 3_600_000,
      seed: 1_000 + index,
    });
    simulators.push(simulator);
    const started: SimHostCamera[] = [];
    for (let n = 0; n < site.count; n += 1) {
      const firmware = request.firmwares[n % request.firmwares.length] ?? '11.11';
      const camera = await simulator.addCamera({
        firmware,
        https: false,
        rtsp: false,
        users: [{ username: 'root', password: request.password, role: 'admin' }],
      });
      cameras.set(camera.serial, camera);
      started.push({ serial: camera.serial, url: camera.httpUrl ?? '', firmware });
    }
    sites.push({ port, cameras: started });
  }
  send({ type: 'ready', sites });
}

async function handle(request: SimHostRequest): Promise<void> {
  switch (request.type) {
    case 'start':
      return start(request);
    case 'fingerprints': {
      const entries: [string, string | null][] = request.accounts.map(({ serial, username }) => {
        const password = cameras.get(serial)?.passwordOf(username);
        return [
          `${serial}|${username}`,
          password === undefined ? null : passwordFingerprint(password),
        ];
      });
      send({ type: 'fingerprints', id: request.id, entries });
      return;
    }
    case 'answer-fault':
      for (const serial of request.serials) {
        cameras.get(serial)?.control.setAnswerFault(request.fault ?? undefined);
      }
      send({ type: 'done', id: request.id });
      return;
    case 'power':
      for (const serial of request.serials) {
        const camera = cameras.get(serial);
        if (request.on) camera?.control.powerOn();
        else camera?.control.powerOff();
      }
      send({ type: 'done', id: request.id });
      return;
    case 'stats': {
      let requests = 0;
      let answersLost = 0;
      let notReady = 0;
      for (const camera of cameras.values()) {
        requests += camera.stats.requests;
        answersLost += camera.stats.answersLost;
        if (!camera.isReady) notReady += 1;
      }
      const cpu = process.cpuUsage();
      send({
        type: 'stats',
        id: request.id,
        requests,
        answersLost,
        notReady,
        cpuMicros: cpu.user + cpu.system,
      });
      return;
    }
    case 'close':
      await Promise.all(simulators.map((simulator) => simulator.close()));
      process.exit(0);
  }
}

process.on('message', (request: SimHostRequest) => {
  handle(request).catch((error: unknown) => {
    send({
      type: 'error',
      message: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
  });
});
