import { randomBytes, randomInt } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { AddressPool, type AddressPoolKind } from './address-pool.ts';
import type { AnnouncedDevice } from './announced-device.ts';
import { createScaledClock, type SimulatorClock } from './clock.ts';
import { startControlServer, type ControlServer } from './control-server.ts';
import { FIRMWARE_PROFILES, isFirmwareId } from './firmware-profiles.ts';
import { MdnsAnnouncer } from './mdns-announcer.ts';
import { createSeededRandom, deriveSeed, type RandomSource } from './seeded-random.ts';
import { serveRtspConnection } from './rtsp-session.ts';
import {
  SimulatedCamera,
  type AddCameraOptions,
  type CameraEndpoint,
  type CameraHost,
  type ConnectionKind,
} from './simulated-camera.ts';
import { SsdpAnnouncer } from './ssdp-announcer.ts';
import { isValidPassword, isValidUsername, type UserAccount } from './user-accounts.ts';
import { createVapixHandler } from './vapix-routes.ts';

export interface AnnounceOptions {
  /** The interface SSDP and mDNS bind to and send on. Required: multicast has no default. */
  interfaceAddress: string;
  ssdp?: boolean;
  mdns?: boolean;
  ssdpNotifyIntervalMs?: number;
}

export interface SimulatorOptions {
  /** Bind address in `ports` mode (default 127.0.0.1). */
  host?: string;
  /** `loopback-ips`: each camera on its own 127.x.y.z; `ports`: each on its own ports of `host`. */
  addressPool?: AddressPoolKind;
  /** First address handed out in `loopback-ips` mode (default 127.77.0.1). */
  addressBase?: string;
  /** Ports every camera uses in `loopback-ips` mode; 0 (default) picks a free one per camera. */
  ports?: { http?: number; https?: number; rtsp?: number };
  latencyMs?: number;
  jitterMs?: number;
  dropRate?: number;
  /** Default chance that a request is carried out and its answer lost (see AddCameraOptions). */
  dropAfterRate?: number;
  seed?: number;
  /** >1 runs simulated time (reboots, button holds, nonce lifetime, blocks) faster. */
  timeScale?: number;
  /** Replaces the scaled wall clock (then `timeScale` is ignored). */
  clock?: SimulatorClock;
  rebootMs?: number;
  readyDelayMs?: number;
  /** Digest nonce lifetime, simulated ms (Apache's default is 300 s). */
  nonceLifetimeMs?: number;
  announce?: AnnounceOptions;
  /** Starts the HTTP control API on 127.0.0.1 at this port (0 = any free port). */
  controlPort?: number;
}

export interface Simulator {
  readonly cameras: readonly SimulatedCamera[];
  readonly clock: SimulatorClock;
  /** Base URL of the control API, when `controlPort` was given. */
  readonly controlUrl: string | undefined;
  addCamera(options: AddCameraOptions): Promise<SimulatedCamera>;
  getCamera(serial: string): SimulatedCamera | undefined;
  removeCamera(serial: string): Promise<boolean>;
  close(): Promise<void>;
}

const SERIAL_PATTERN = /^[0-9A-F]{12}$/;

function checkRate(name: string, value: number | undefined): void {
  if (value !== undefined && !(value >= 0 && value <= 1)) {
    throw new RangeError(`${name} must be between 0 and 1, got ${value}`);
  }
}

function checkDuration(name: string, value: number | undefined): void {
  if (value !== undefined && !(value >= 0 && Number.isFinite(value))) {
    throw new RangeError(`${name} must be a non-negative number of ms, got ${value}`);
  }
}

function initialAccounts(options: AddCameraOptions): UserAccount[] {
  const state = options.state ?? 'configured';
  const users = options.users ?? [];
  if (state === 'factory-default') {
    if (users.length > 0) throw new Error('a factory-default camera has no users');
    return [];
  }
  if (users.length === 0) {
    // An inherited camera: an administrator exists, and nobody knows its password.
    return [
      {
        username: 'root',
        password: randomBytes(18).toString('base64url'),
        role: 'admin',
        primaryGroup: 'root',
        ptz: true,
      },
    ];
  }
  return users.map((user) => {
    if (!isValidUsername(user.username)) {
      throw new Error(`invalid user name "${user.username}": 1-14 characters a-z A-Z 0-9`);
    }
    if (!isValidPassword(user.password)) {
      throw new Error(`invalid password for "${user.username}": 1-64 printable ASCII characters`);
    }
    return {
      username: user.username,
      password: user.password,
      role: user.role,
      primaryGroup: user.username === 'root' ? 'root' : 'users',
      ptz: user.role === 'admin',
    };
  });
}

function announcedDevice(camera: SimulatedCamera, endpoint: CameraEndpoint): AnnouncedDevice {
  return {
    serial: camera.serial,
    model: camera.identity.model,
    address: endpoint.address,
    httpPort: endpoint.httpPort,
    upnpPort: endpoint.upnpPort,
    ssdpServer:
      camera.firmware === '5.51'
        ? 'Linux/2.6.35, UPnP/1.0, Portable SDK for UPnP devices/1.6.18'
        : 'Linux/4.14.173-axis8, UPnP/1.0, Portable SDK for UPnP devices/1.8.7',
  };
}

export async function createSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  checkRate('dropRate', options.dropRate);
  checkRate('dropAfterRate', options.dropAfterRate);
  checkDuration('latencyMs', options.latencyMs);
  checkDuration('jitterMs', options.jitterMs);
  const clock = options.clock ?? createScaledClock(options.timeScale ?? 1);
  const seed = options.seed ?? randomInt(2 ** 31);
  const serialRandom = createSeededRandom(deriveSeed(seed, 'serials'));
  const pool = new AddressPool(
    options.addressPool ?? 'loopback-ips',
    options.host ?? '127.0.0.1',
    options.addressBase ?? '127.77.0.1',
    {
      http: options.ports?.http ?? 0,
      https: options.ports?.https ?? 0,
      rtsp: options.ports?.rtsp ?? 0,
    },
  );
  const cameras = new Map<string, SimulatedCamera>();
  const connections = new WeakMap<object, { camera: SimulatedCamera; kind: ConnectionKind }>();
  const announce = options.announce;
  const ssdp =
    announce && announce.ssdp !== false
      ? await SsdpAnnouncer.start({
          interfaceAddress: announce.interfaceAddress,
          notifyIntervalMs: announce.ssdpNotifyIntervalMs,
        })
      : undefined;
  let mdns: MdnsAnnouncer | undefined;
  try {
    mdns =
      announce && announce.mdns !== false
        ? await MdnsAnnouncer.start({ interfaceAddress: announce.interfaceAddress })
        : undefined;
  } catch (error) {
    await ssdp?.close();
    throw error;
  }

  const handleVapix = createVapixHandler((camera, address) => {
    if (!pool.canUse(address)) return false;
    camera.changeAddress(address);
    return true;
  });

  // One parser for every camera: each camera only owns listening sockets.
  const httpParser = createHttpServer(
    { keepAliveTimeout: 5000 },
    (req: IncomingMessage, res: ServerResponse) => {
      const owner = connections.get(req.socket);
      if (!owner || owner.kind === 'rtsp') {
        req.socket.destroy();
        return;
      }
      handleVapix(owner.camera, owner.kind, req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      });
    },
  );

  const host: CameraHost = {
    clock,
    nonceLifetimeMs: options.nonceLifetimeMs ?? 300_000,
    serveUpnpDescription: ssdp !== undefined,
    acceptConnection(socket: Socket, camera, kind) {
      if (kind === 'rtsp') {
        serveRtspConnection(camera, socket);
        return;
      }
      if (kind === 'https') {
        const secure = new TLSSocket(socket, {
          isServer: true,
          secureContext: camera.tlsContext(),
        });
        secure.on('error', () => secure.destroy());
        connections.set(secure, { camera, kind });
        httpParser.emit('connection', secure);
        return;
      }
      connections.set(socket, { camera, kind });
      httpParser.emit('connection', socket);
    },
    bindEndpoint: (servers, previous, move) => pool.bind(servers, previous, move),
    cameraUp(camera) {
      const endpoint = camera.currentEndpoint;
      if (!endpoint) return;
      const device = announcedDevice(camera, endpoint);
      if (ssdp && camera.parameter('Network.UPnP.Enabled') === 'yes') ssdp.alive(device);
      if (mdns && camera.parameter('Network.Bonjour.Enabled') === 'yes') mdns.announce(device);
    },
    cameraDown(camera, endpoint) {
      const device = announcedDevice(camera, endpoint);
      ssdp?.byebye(device);
      mdns?.goodbye(device);
    },
  };

  const generateSerial = (oui: string): string => {
    for (;;) {
      const suffix = Math.floor(serialRandom() * 0x1000000)
        .toString(16)
        .toUpperCase()
        .padStart(6, '0');
      const serial = `${oui}${suffix}`;
      if (!cameras.has(serial)) return serial;
    }
  };

  let control: ControlServer | undefined;
  let closed = false;

  const simulator: Simulator = {
    get cameras() {
      return [...cameras.values()];
    },
    clock,
    get controlUrl() {
      return control?.url;
    },
    async addCamera(cameraOptions) {
      if (closed) throw new Error('the simulator is closed');
      if (!isFirmwareId(cameraOptions.firmware)) {
        throw new Error(`unknown firmware "${String(cameraOptions.firmware)}"`);
      }
      checkRate('dropRate', cameraOptions.dropRate);
      checkRate('dropAfterRate', cameraOptions.dropAfterRate);
      checkDuration('latencyMs', cameraOptions.latencyMs);
      checkDuration('jitterMs', cameraOptions.jitterMs);
      checkDuration('rebootMs', cameraOptions.rebootMs);
      checkDuration('readyDelayMs', cameraOptions.readyDelayMs);
      const profile = FIRMWARE_PROFILES[cameraOptions.firmware];
      const serial = cameraOptions.serial?.toUpperCase() ?? generateSerial(profile.defaults.oui);
      if (!SERIAL_PATTERN.test(serial)) {
        throw new Error(`serial must be 12 hexadecimal digits, got "${cameraOptions.serial}"`);
      }
      if (cameras.has(serial)) throw new Error(`a camera with serial ${serial} already exists`);
      const accounts = initialAccounts(cameraOptions);
      const defaults = profile.defaults;
      const model = cameraOptions.model ?? defaults.model;
      const random: RandomSource = createSeededRandom(deriveSeed(seed, serial));
      const camera = new SimulatedCamera(
        host,
        cameraOptions,
        {
          serial,
          model,
          productFullName:
            cameraOptions.productName ??
            (model === defaults.model
              ? defaults.productFullName
              : `AXIS ${model} ${defaults.productType}`),
          productType: defaults.productType,
          hardwareId: cameraOptions.hardwareId ?? defaults.hardwareId,
          architecture: defaults.architecture,
          soc: defaults.soc,
        },
        {
          latencyMs: cameraOptions.latencyMs ?? options.latencyMs ?? 0,
          jitterMs: cameraOptions.jitterMs ?? options.jitterMs ?? 0,
          dropRate: cameraOptions.dropRate ?? options.dropRate ?? 0,
          dropAfterRate: cameraOptions.dropAfterRate ?? options.dropAfterRate ?? 0,
          rebootMs: cameraOptions.rebootMs ?? options.rebootMs ?? 30_000,
          readyDelayMs: cameraOptions.readyDelayMs ?? options.readyDelayMs ?? 1_000,
          https: cameraOptions.https ?? true,
          rtsp: cameraOptions.rtsp ?? true,
          recordings: cameraOptions.recordings ?? 2,
        },
        accounts,
        random,
      );
      cameras.set(serial, camera);
      try {
        await camera.start();
      } catch (error) {
        cameras.delete(serial);
        await camera.remove();
        throw error;
      }
      return camera;
    },
    getCamera(serial) {
      return cameras.get(serial.toUpperCase());
    },
    async removeCamera(serial) {
      const camera = cameras.get(serial.toUpperCase());
      if (!camera) return false;
      cameras.delete(camera.serial);
      const address = camera.address;
      await camera.remove();
      if (address) pool.release(address);
      return true;
    },
    async close() {
      if (closed) return;
      closed = true;
      await control?.close();
      await Promise.all([...cameras.keys()].map((serial) => simulator.removeCamera(serial)));
      await ssdp?.close();
      await mdns?.close();
    },
  };

  if (options.controlPort !== undefined) {
    try {
      control = await startControlServer(simulator, { port: options.controlPort });
    } catch (error) {
      await simulator.close();
      throw error;
    }
  }
  return simulator;
}
