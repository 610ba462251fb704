import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import type { Server, Socket } from 'node:net';
import { createServer } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import { BruteForceGuard } from './brute-force-guard.ts';
import { sleepOnClock, type ClockTimer, type SimulatorClock } from './clock.ts';
import { FIRMWARE_PROFILES, type FirmwareId, type FirmwareProfile } from './firmware-profiles.ts';
import { NonceIssuer } from './http-auth.ts';
import {
  SOFT_RESET_KEPT_PARAMETERS,
  defaultParameters,
  isReadOnlyParameter,
} from './parameters.ts';
import type { RandomSource } from './seeded-random.ts';
import {
  createSelfSignedCertificate,
  type SelfSignedCertificate,
} from './self-signed-certificate.ts';
import type { Role, UserAccount } from './user-accounts.ts';

export const CAMERA_FAULTS = ['faulty-button', 'bricked', 'insufficient-power'] as const;
export type CameraFault = (typeof CAMERA_FAULTS)[number];

/**
 * off: no power. button-held: powered on with the control button held, not booting yet.
 * booting: powered, ports closed. starting: ports open, systemready "no". ready: in service.
 * dead: powered but never coming back (bricked).
 */
export type CameraPhase = 'off' | 'button-held' | 'booting' | 'starting' | 'ready' | 'dead';
export type LedState = 'off' | 'amber' | 'amber-flashing' | 'green';
export type ConnectionKind = 'http' | 'https' | 'rtsp' | 'upnp';
export type ResetSource = 'power' | 'reboot' | 'factoryDefault' | 'button';

export interface CameraUserInput {
  username: string;
  password: string;
  role: Role;
}

export interface AddCameraOptions {
  firmware: FirmwareId;
  serial?: string;
  model?: string;
  /** `Brand.ProdFullName`, e.g. "AXIS P3265-V Dome Camera". */
  productName?: string;
  hardwareId?: string;
  state?: 'factory-default' | 'configured';
  /** Accounts of a configured camera; a configured camera without any gets a root account with an unknown random password. */
  users?: CameraUserInput[];
  https?: boolean;
  rtsp?: boolean;
  latencyMs?: number;
  jitterMs?: number;
  dropRate?: number;
  /**
   * Chance (0..1) that a request is carried out (answered 2xx) and then its connection closes
   * before the answer goes out: the change took effect, and the client cannot tell.
   */
  dropAfterRate?: number;
  /** Simulated downtime of a reboot or factory default, in ms (default 30 000). */
  rebootMs?: number;
  /** Simulated time between the ports opening and systemready "yes", in ms (default 1 000). */
  readyDelayMs?: number;
  fault?: CameraFault;
  /** Initial parameter values, keys without `root.` (e.g. `Network.UPnP.Enabled`). */
  params?: Record<string, string>;
  /** Number of edge recordings on the SD card (default 2). */
  recordings?: number;
}

export interface CameraEndpoint {
  address: string;
  httpPort: number;
  httpsPort: number | undefined;
  rtspPort: number | undefined;
  upnpPort: number | undefined;
}

export interface CameraServers {
  http: Server;
  https: Server | undefined;
  rtsp: Server | undefined;
  upnp: Server | undefined;
}

/** What a camera needs from the simulator that hosts it. */
export interface CameraHost {
  readonly clock: SimulatorClock;
  readonly nonceLifetimeMs: number;
  readonly serveUpnpDescription: boolean;
  acceptConnection(socket: Socket, camera: SimulatedCamera, kind: ConnectionKind): void;
  /** Listens on `previous` again, or on a new address/ports when `move` (or `address`) says so. */
  bindEndpoint(
    servers: CameraServers,
    previous: CameraEndpoint | undefined,
    move: { address?: string } | undefined,
  ): Promise<CameraEndpoint>;
  cameraUp(camera: SimulatedCamera): void;
  cameraDown(camera: SimulatedCamera, endpoint: CameraEndpoint): void;
}

export interface CameraStateSnapshot {
  phase: CameraPhase;
  powered: boolean;
  systemready: 'yes' | 'no';
  needsetup: boolean;
  users: { username: string; role: Role }[];
  bootId: string | undefined;
  bootCount: number;
  /** Seconds since the last boot, as systemready reports it. */
  uptime: number;
  led: LedState;
  buttonPressed: boolean;
  fault: CameraFault | undefined;
  address: string | undefined;
  httpUrl: string | undefined;
  resetSource: ResetSource;
}

interface ParameterTable {
  key: string;
  list: readonly (readonly [string, string])[];
  byName: ReadonlyMap<string, string>;
  rendered: Map<string, string>;
}

export interface CameraStats {
  requests: number;
  /** TCP connections accepted on the HTTP and HTTPS ports. */
  connections: number;
  authFailures: number;
  dropped: number;
  /** Requests carried out whose answer was lost (`dropAfterRate`, an answer fault). */
  answersLost: number;
  blocked: number;
  rtspRequests: number;
}

/**
 * What happens to the answer of the next requests that match `path` (and `action`, when given)
 * and succeed (2xx): the device has carried them out, and then the client never hears so.
 */
export interface AnswerFault {
  /** The request path, e.g. `/axis-cgi/pwdgrp.cgi`. */
  path: string;
  /** Only requests whose form or query `action` (CGIs) or JSON `method` is this, e.g. `update`. */
  action?: string;
  /** How many matching requests it hits (default 1). */
  times?: number;
  /** `drop`: the connection closes unanswered; `power-off`: the camera loses power instead of answering. */
  effect: 'drop' | 'power-off';
  /** With `power-off`: power returns after this many simulated ms (without, it stays off). */
  powerOnAfterMs?: number;
}

export interface CameraControl {
  powerOff(): void;
  powerOn(): void;
  pressButton(): void;
  releaseButton(): void;
  /** Power off, press, power on, wait `seconds` on the simulator clock, release. */
  holdButton(seconds: number): Promise<void>;
  setFault(fault: CameraFault | undefined): void;
  reboot(): void;
  /** Arms (or, with undefined, clears) a fault on the answer of the next matching requests. */
  setAnswerFault(fault: AnswerFault | undefined): void;
}

export interface CameraIdentity {
  serial: string;
  model: string;
  productFullName: string;
  productType: string;
  hardwareId: string;
  architecture: string;
  soc: string | undefined;
}

export interface CameraSettings {
  latencyMs: number;
  jitterMs: number;
  dropRate: number;
  dropAfterRate: number;
  rebootMs: number;
  readyDelayMs: number;
  https: boolean;
  rtsp: boolean;
  recordings: number;
}

/** The control button must be held this long, from power-on, to reset (the LED turns amber). */
export const BUTTON_RESET_HOLD_MS = 15_000;
/** Moving to a new static address takes this long (simulated), without a reboot. */
const ADDRESS_CHANGE_MS = 2_000;

export class SimulatedCamera {
  readonly profile: FirmwareProfile;
  readonly firmware: FirmwareId;
  readonly identity: CameraIdentity;
  readonly realm: string;
  readonly settings: CameraSettings;
  readonly users = new Map<string, UserAccount>();
  readonly stats: CameraStats = {
    requests: 0,
    connections: 0,
    authFailures: 0,
    dropped: 0,
    answersLost: 0,
    blocked: 0,
    rtspRequests: 0,
  };
  readonly nonces: NonceIssuer;
  readonly bruteForce = new BruteForceGuard();
  readonly control: CameraControl;
  readonly activeFirmwarePart = String(1_000_000_000 + randomBytes(4).readUInt32BE());
  /** When the camera was added (simulated ms); edge recordings are dated before it. */
  readonly createdAt: number;

  private overrides: Map<string, string>;
  /** Bumped on every change to `overrides`, so the parameter table knows it is out of date. */
  private overridesVersion = 0;
  private parameterCache: ParameterTable | undefined;
  private phaseValue: CameraPhase = 'off';
  private powered = false;
  private fault: CameraFault | undefined;
  private answerFault: { fault: AnswerFault; left: number } | undefined;
  private endpoint: CameraEndpoint | undefined;
  private pendingMove: { address?: string } | undefined;
  private readonly servers: CameraServers;
  private readonly sockets = new Set<Socket>();
  private closing: Promise<void> = Promise.resolve();
  private readonly timers = new Set<ClockTimer>();
  private generation = 0;
  private bootId: string | undefined;
  private bootedAt: number | undefined;
  private bootCount = 0;
  private resetSource: ResetSource = 'power';
  private buttonPressed = false;
  private buttonHeldSince: number | undefined;
  private certificate: SelfSignedCertificate | undefined;
  private secureContext: SecureContext | undefined;
  private readonly events = new EventEmitter();
  private removed = false;

  constructor(
    private readonly host: CameraHost,
    options: AddCameraOptions,
    identity: CameraIdentity,
    settings: CameraSettings,
    accounts: readonly UserAccount[],
    readonly random: RandomSource,
  ) {
    this.profile = FIRMWARE_PROFILES[options.firmware];
    this.firmware = options.firmware;
    this.identity = identity;
    this.realm = `AXIS_${identity.serial}`;
    this.settings = settings;
    this.fault = options.fault;
    this.nonces = new NonceIssuer(this.realm, host.nonceLifetimeMs);
    this.overrides = new Map(Object.entries(options.params ?? {}));
    for (const account of accounts) this.users.set(account.username, account);
    this.createdAt = host.clock.now();
    this.events.setMaxListeners(0);
    const accept = (kind: ConnectionKind) => (socket: Socket) => this.accept(socket, kind);
    this.servers = {
      http: createServer(accept('http')),
      https: settings.https ? createServer(accept('https')) : undefined,
      rtsp: settings.rtsp ? createServer(accept('rtsp')) : undefined,
      upnp: host.serveUpnpDescription ? createServer(accept('upnp')) : undefined,
    };
    this.control = {
      powerOff: () => this.powerOff(),
      powerOn: () => this.powerOn(),
      pressButton: () => this.pressButton(),
      releaseButton: () => this.releaseButton(),
      holdButton: (seconds) => this.holdButton(seconds),
      setFault: (fault) => {
        this.fault = fault;
      },
      reboot: () => this.reboot('reboot'),
      setAnswerFault: (fault) => {
        this.answerFault =
          fault === undefined ? undefined : { fault: { ...fault }, left: fault.times ?? 1 };
      },
    };
  }

  get serial(): string {
    return this.identity.serial;
  }

  get phase(): CameraPhase {
    return this.phaseValue;
  }

  get address(): string | undefined {
    return this.endpoint?.address;
  }

  get currentEndpoint(): CameraEndpoint | undefined {
    return this.endpoint;
  }

  get httpUrl(): string | undefined {
    return this.endpoint && `http://${this.endpoint.address}:${this.endpoint.httpPort}`;
  }

  get httpsUrl(): string | undefined {
    const port = this.endpoint?.httpsPort;
    return port === undefined ? undefined : `https://${this.endpoint?.address}:${port}`;
  }

  get rtspUrl(): string | undefined {
    const port = this.endpoint?.rtspPort;
    return port === undefined
      ? undefined
      : `rtsp://${this.endpoint?.address}:${port}/axis-media/media.amp`;
  }

  get needsSetup(): boolean {
    return this.users.size === 0;
  }

  get isReady(): boolean {
    return this.phaseValue === 'ready';
  }

  get currentBootId(): string | undefined {
    return this.bootId;
  }

  get uptimeSeconds(): number {
    return this.bootedAt === undefined
      ? 0
      : Math.max(0, Math.floor((this.host.clock.now() - this.bootedAt) / 1000));
  }

  /** The HTTPS certificate, generated on first use and again after a hard factory default. */
  get certificatePem(): string | undefined {
    return this.settings.https ? this.ensureCertificate().certificatePem : undefined;
  }

  get certificateFingerprint256(): string | undefined {
    return this.settings.https ? this.ensureCertificate().fingerprint256 : undefined;
  }

  get state(): CameraStateSnapshot {
    return {
      phase: this.phaseValue,
      powered: this.powered,
      systemready: this.isReady ? 'yes' : 'no',
      needsetup: this.needsSetup,
      users: [...this.users.values()].map(({ username, role }) => ({ username, role })),
      bootId: this.bootId,
      bootCount: this.bootCount,
      uptime: this.uptimeSeconds,
      led: this.led(),
      buttonPressed: this.buttonPressed,
      fault: this.fault,
      address: this.endpoint?.address,
      httpUrl: this.httpUrl,
      resetSource: this.resetSource,
    };
  }

  /** Simulated now, in ms. */
  clockNow(): number {
    return this.host.clock.now();
  }

  recordAuthFailure(source: string): void {
    this.stats.authFailures += 1;
    this.bruteForce.recordFailure(source, this.clockNow());
  }

  isBlocked(source: string): boolean {
    return this.bruteForce.isBlocked(source, this.clockNow());
  }

  /** Draws from the camera's seeded generator: true means drop this connection unanswered. */
  shouldDrop(): boolean {
    return this.settings.dropRate > 0 && this.random() < this.settings.dropRate;
  }

  /** Draws from the camera's seeded generator: true means carry the request out, then drop it. */
  shouldDropAnswer(): boolean {
    return this.settings.dropAfterRate > 0 && this.random() < this.settings.dropAfterRate;
  }

  /**
   * The armed answer fault, when this successful request matches it; each match uses one of
   * its `times`.
   */
  takeAnswerFault(path: string, action: () => string | undefined): AnswerFault | undefined {
    const armed = this.answerFault;
    if (!armed || armed.fault.path !== path) return undefined;
    if (armed.fault.action !== undefined && armed.fault.action !== action()) return undefined;
    armed.left -= 1;
    if (armed.left <= 0) this.answerFault = undefined;
    return armed.fault;
  }

  /** The answer fault still armed, if any. */
  get pendingAnswerFault(): (AnswerFault & { left: number }) | undefined {
    return this.answerFault && { ...this.answerFault.fault, left: this.answerFault.left };
  }

  /**
   * The password `username` currently takes, or undefined when there is no such account: for
   * tests and benchmarks in the simulator's process, which check what the device really holds.
   * Nothing over the network (VAPIX or the control API) ever tells a password.
   */
  passwordOf(username: string): string | undefined {
    return this.users.get(username)?.password;
  }

  /** Power lost in the middle of a request: off now, back on after `powerOnAfterMs` when given. */
  losePower(powerOnAfterMs: number | undefined): void {
    this.powerOff();
    if (powerOnAfterMs !== undefined) this.schedule(powerOnAfterMs, () => this.powerOn());
  }

  /** Real milliseconds to wait before answering. */
  responseDelayMs(): number {
    const jitter = this.settings.jitterMs > 0 ? this.random() * this.settings.jitterMs : 0;
    return this.settings.latencyMs + jitter;
  }

  // Parameters

  /**
   * Every parameter with its current value. Built once per change of what it depends on
   * (address, ports, root account, overrides) rather than per request; callers must not
   * modify the returned list.
   */
  parameters(): readonly (readonly [string, string])[] {
    return this.parameterTable().list;
  }

  parameter(name: string): string | undefined {
    return this.overrides.get(name) ?? this.parameterTable().byName.get(name);
  }

  /**
   * `render()`'s text for a param.cgi group list, remembered until a parameter changes. A
   * few lists per camera at most: a probe asks the same one or two every time.
   */
  renderedParameters(groups: string, render: () => string): string {
    const { rendered } = this.parameterTable();
    let text = rendered.get(groups);
    if (text === undefined) {
      if (rendered.size >= 8) rendered.clear();
      text = render();
      rendered.set(groups, text);
    }
    return text;
  }

  /** Returns false for unknown or read-only parameters. */
  setParameter(name: string, value: string): boolean {
    if (isReadOnlyParameter(name)) return false;
    if (!this.parameterTable().byName.has(name)) return false;
    this.overrides.set(name, value);
    this.overridesVersion += 1;
    return true;
  }

  private parameterTable(): ParameterTable {
    const endpoint = this.endpoint;
    const key = `${endpoint?.address}|${endpoint?.httpsPort}|${endpoint?.rtspPort}|${this.users.has('root')}|${this.overridesVersion}`;
    if (this.parameterCache?.key === key) return this.parameterCache;
    const defaults = defaultParameters({
      profile: this.profile,
      ...this.identity,
      address: endpoint?.address ?? '0.0.0.0',
      httpsPort: endpoint?.httpsPort,
      rtspPort: endpoint?.rtspPort,
      rootPasswordSet: this.users.has('root'),
    });
    const list = defaults.map(
      ([name, value]) => [name, this.overrides.get(name) ?? value] as const,
    );
    const table: ParameterTable = {
      key,
      list,
      byName: new Map(list),
      rendered: new Map(),
    };
    this.parameterCache = table;
    return table;
  }

  // Lifecycle

  /** First power-up when the camera is added: it comes up ready at once. */
  async start(): Promise<void> {
    this.powered = true;
    await this.bringUp({ initial: true, keepBoot: false });
  }

  /** Stops everything for good (removeCamera / close). */
  async remove(): Promise<void> {
    this.removed = true;
    this.goDown('off');
    this.powered = false;
    await this.closing;
  }

  reboot(source: ResetSource): void {
    if (!this.powered || this.removed) return;
    this.resetSource = source;
    this.bootedAt = undefined;
    this.goDown('booting');
    this.scheduleBoot(this.settings.rebootMs);
  }

  factoryDefault(mode: 'soft' | 'hard', source: ResetSource = 'factoryDefault'): void {
    this.users.clear();
    const kept = new Map<string, string>();
    if (mode === 'soft') {
      for (const name of SOFT_RESET_KEPT_PARAMETERS) {
        const value = this.overrides.get(name);
        if (value !== undefined) kept.set(name, value);
      }
    }
    this.overrides = kept;
    this.overridesVersion += 1;
    if (mode === 'hard') {
      this.pendingMove = {};
      this.certificate = undefined;
      this.secureContext = undefined;
    }
    this.reboot(source);
  }

  /** Re-addresses the camera without a reboot (network settings applied). */
  changeAddress(address: string): void {
    if (this.phaseValue !== 'ready') return;
    this.pendingMove = { address };
    this.goDown('booting');
    this.schedule(ADDRESS_CHANGE_MS, () => {
      void this.bringUp({ initial: false, keepBoot: true });
    });
  }

  waitForPhase(phase: CameraPhase, timeoutMs = 30_000): Promise<void> {
    if (this.phaseValue === phase) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.events.off('phase', listener);
        reject(new Error(`camera ${this.serial} did not reach ${phase} (now ${this.phaseValue})`));
      }, timeoutMs);
      const listener = (next: CameraPhase) => {
        if (next !== phase) return;
        clearTimeout(timer);
        this.events.off('phase', listener);
        resolve();
      };
      this.events.on('phase', listener);
    });
  }

  /** Resolves true once ready, or false after `ms` simulated milliseconds. */
  async waitUntilReady(ms: number): Promise<boolean> {
    if (this.isReady) return true;
    if (ms <= 0) return false;
    const controller = new AbortController();
    const timer = this.host.clock.setTimeout(() => controller.abort(), ms);
    try {
      while (!this.isReady) {
        const [next] = (await once(this.events, 'phase', { signal: controller.signal })) as [
          CameraPhase,
        ];
        if (next === 'ready') return true;
      }
      return true;
    } catch {
      return this.isReady;
    } finally {
      this.host.clock.clearTimeout(timer);
    }
  }

  // Power and the control button

  powerOff(): void {
    if (!this.powered) return;
    this.powered = false;
    this.buttonHeldSince = undefined;
    this.bootedAt = undefined;
    this.goDown('off');
  }

  powerOn(): void {
    if (this.powered || this.removed) return;
    this.powered = true;
    this.resetSource = 'power';
    if (this.buttonPressed) {
      this.buttonHeldSince = this.host.clock.now();
      this.setPhase('button-held');
      return;
    }
    this.scheduleBoot(this.settings.rebootMs);
  }

  pressButton(): void {
    this.buttonPressed = true;
  }

  releaseButton(): void {
    if (!this.buttonPressed) return;
    this.buttonPressed = false;
    const heldSince = this.buttonHeldSince;
    this.buttonHeldSince = undefined;
    if (this.phaseValue !== 'button-held' || heldSince === undefined) return;
    const heldMs = this.host.clock.now() - heldSince;
    if (heldMs >= BUTTON_RESET_HOLD_MS && this.fault !== 'faulty-button') {
      this.factoryDefault('hard', 'button');
      return;
    }
    this.scheduleBoot(this.settings.rebootMs);
  }

  async holdButton(seconds: number): Promise<void> {
    this.powerOff();
    this.pressButton();
    this.powerOn();
    await sleepOnClock(this.host.clock, seconds * 1000);
    this.releaseButton();
  }

  // Connections

  /** The TLS context for this camera's HTTPS port, created on the first handshake. */
  tlsContext(): SecureContext {
    if (!this.secureContext) {
      const certificate = this.ensureCertificate();
      this.secureContext = createSecureContext({
        cert: certificate.certificatePem,
        key: certificate.privateKeyPem,
      });
    }
    return this.secureContext;
  }

  private ensureCertificate(): SelfSignedCertificate {
    if (!this.certificate) {
      const hostName = `axis-${this.serial.toLowerCase()}`;
      const altNames = [hostName, `${hostName}.local`];
      if (this.endpoint) altNames.unshift(this.endpoint.address);
      this.certificate = createSelfSignedCertificate({
        commonName: hostName,
        altNames,
        now: new Date(this.host.clock.now()),
      });
    }
    return this.certificate;
  }

  private accept(socket: Socket, kind: ConnectionKind): void {
    if (this.phaseValue !== 'ready' && this.phaseValue !== 'starting') {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    if (kind !== 'rtsp') this.stats.connections += 1;
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    this.host.acceptConnection(socket, this, kind);
  }

  private async bringUp(options: { initial: boolean; keepBoot: boolean }): Promise<void> {
    const generation = this.generation;
    if (!options.initial && !options.keepBoot && this.fault === 'bricked') {
      this.setPhase('dead');
      return;
    }
    await this.closing;
    if (generation !== this.generation) return;
    let endpoint: CameraEndpoint;
    try {
      endpoint = await this.host.bindEndpoint(this.servers, this.endpoint, this.pendingMove);
    } catch (error) {
      if (options.initial) throw error;
      this.setPhase('dead');
      return;
    }
    if (generation !== this.generation) {
      this.closeServers();
      return;
    }
    this.pendingMove = undefined;
    this.endpoint = endpoint;
    if (options.keepBoot) {
      this.setPhase('ready');
      this.host.cameraUp(this);
      return;
    }
    this.bootId = randomUUID();
    this.bootedAt = this.host.clock.now();
    this.bootCount += 1;
    this.nonces.rotate();
    this.bruteForce.reset();
    if (options.initial) {
      this.setPhase('ready');
      this.host.cameraUp(this);
      return;
    }
    this.setPhase('starting');
    if (this.fault === 'insufficient-power') {
      // Browns out before it is ever ready, then tries again.
      this.schedule(this.settings.readyDelayMs, () => {
        this.bootedAt = undefined;
        this.goDown('booting');
        this.scheduleBoot(this.settings.rebootMs);
      });
      return;
    }
    this.schedule(this.settings.readyDelayMs, () => {
      this.setPhase('ready');
      this.host.cameraUp(this);
    });
  }

  private scheduleBoot(delayMs: number): void {
    this.setPhase('booting');
    this.schedule(delayMs, () => {
      void this.bringUp({ initial: false, keepBoot: false });
    });
  }

  private goDown(next: CameraPhase): void {
    this.generation += 1;
    for (const timer of this.timers) this.host.clock.clearTimeout(timer);
    this.timers.clear();
    if (this.phaseValue === 'ready' && this.endpoint) this.host.cameraDown(this, this.endpoint);
    this.setPhase(next);
    this.closeServers();
  }

  private closeServers(): void {
    const { http, https, rtsp, upnp } = this.servers;
    const closes = [http, https, rtsp, upnp]
      .filter((server): server is Server => server !== undefined && server.listening)
      .map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    this.closing = Promise.all([this.closing, ...closes]).then(() => undefined);
  }

  private schedule(ms: number, callback: () => void): void {
    const timer = this.host.clock.setTimeout(() => {
      this.timers.delete(timer);
      callback();
    }, ms);
    this.timers.add(timer);
  }

  private setPhase(phase: CameraPhase): void {
    if (this.phaseValue === phase) return;
    this.phaseValue = phase;
    this.events.emit('phase', phase);
  }

  private led(): LedState {
    switch (this.phaseValue) {
      case 'off':
      case 'dead':
        return 'off';
      case 'button-held': {
        const heldMs = this.host.clock.now() - (this.buttonHeldSince ?? this.host.clock.now());
        return heldMs >= BUTTON_RESET_HOLD_MS && this.fault !== 'faulty-button'
          ? 'amber-flashing'
          : 'amber';
      }
      case 'booting':
      case 'starting':
        return 'amber';
      case 'ready':
        return 'green';
    }
  }
}
