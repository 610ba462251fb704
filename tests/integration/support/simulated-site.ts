import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CameraUserInput, SimulatedCamera, SimulatorOptions } from '@custody/simulator';
import {
  createAttemptBudget,
  createAuthSessionCache,
  createRequestLimiter,
  createVapixClient,
  type AttemptBudget,
  type AuthSessionCache,
  type Credentials,
  type RequestLimiter,
  type VapixClient,
  type VapixClientOptions,
} from '@custody/vapix';

export const ADMIN: Credentials = { username: 'root', password: 'pass-Word-1' };
export const ADMIN_USERS: CameraUserInput[] = [{ ...ADMIN, role: 'admin' }];

/**
 * Simulated time runs 100× faster: a 5 s reboot is 50 ms of real time. Nonces live an
 * (simulated) hour so request counts never include a stale-nonce retry.
 */
export function fastSimulator(addressBase: string): SimulatorOptions {
  return {
    addressBase,
    timeScale: 100,
    rebootMs: 5_000,
    readyDelayMs: 500,
    nonceLifetimeMs: 3_600_000,
    seed: 7,
  };
}

export interface Isolation {
  budget: AttemptBudget;
  sessions: AuthSessionCache;
  limiter: RequestLimiter;
}

/** A budget, nonce cache and limiter of its own, so no test sees another's failures or nonces. */
export function isolated(): Isolation {
  return {
    budget: createAttemptBudget(),
    sessions: createAuthSessionCache(),
    limiter: createRequestLimiter(),
  };
}

export function httpUrlOf(camera: SimulatedCamera): string {
  const url = camera.httpUrl;
  if (url === undefined) throw new Error(`camera ${camera.serial} is not listening`);
  return url;
}

export function httpsUrlOf(camera: SimulatedCamera): string {
  const url = camera.httpsUrl;
  if (url === undefined) throw new Error(`camera ${camera.serial} has no https port`);
  return url;
}

export function rtspUrlOf(camera: SimulatedCamera): string {
  const url = camera.rtspUrl;
  if (url === undefined) throw new Error(`camera ${camera.serial} has no rtsp port`);
  return url;
}

/** `ACCC8E123456` → `AC:CC:8E:12:34:56` (the serial is the MAC, reference §1.5). */
export function macOf(serial: string): string {
  return serial.replace(/(..)(?!$)/g, '$1:');
}

/** Opens clients on demand and closes them all in one call (from afterEach/afterAll). */
export function createClientPool() {
  const open: VapixClient[] = [];
  return {
    open(options: VapixClientOptions): VapixClient {
      const client = createVapixClient({ ...isolated(), ...options });
      open.push(client);
      return client;
    },
    async closeAll(): Promise<void> {
      await Promise.all(open.splice(0).map((client) => client.close()));
    },
  };
}

/** A TCP port that was free on `host` a moment ago. */
export function freePort(host: string): Promise<number> {
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

/** Resolves once `condition` holds, checking every 5 ms; rejects after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(5);
  }
}

/** Resolves once the camera has booted again since `bootCount` and is in service. */
export function cameraBootedSince(camera: SimulatedCamera, bootCount: number): Promise<void> {
  return until(() => camera.state.bootCount > bootCount && camera.phase === 'ready');
}

/** Width and height from a JPEG's start-of-frame segment; undefined when there is none. */
export function jpegDimensions(jpeg: Buffer): { width: number; height: number } | undefined {
  let offset = 2;
  while (offset + 9 < jpeg.length) {
    if (jpeg[offset] !== 0xff) return undefined;
    const marker = jpeg[offset + 1] ?? 0;
    const length = jpeg.readUInt16BE(offset + 2);
    const isStartOfFrame =
      marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isStartOfFrame) {
      return { height: jpeg.readUInt16BE(offset + 5), width: jpeg.readUInt16BE(offset + 7) };
    }
    offset += 2 + length;
  }
  return undefined;
}
