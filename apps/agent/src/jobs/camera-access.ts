import { parseSerial } from '@custody/core';
import {
  VapixAuthError,
  VapixBudgetExhaustedError,
  VapixError,
  VapixHttpError,
  VapixLockedOutError,
  VapixUnsupportedError,
  cameraKeyOf,
  createSharedCameraConnections,
  createVapixClient,
  defaultAttemptBudget,
  listParams,
  probe,
  rtspDescribe,
  serialFromRealm,
  systemReady,
  whoAmI,
  type AttemptBudget,
  type AuthSessionCache,
  type CallTimeouts,
  type CertificateInfo,
  type Credentials,
  type ProbeResult,
  type RequestLimiter,
  type RtspDescribeResult,
  type SystemReady,
  type TlsPolicy,
  type VapixClient,
} from '@custody/vapix';
import { failed, type VerbOutcome } from './verb-outcome.ts';

/** The VAPIX plumbing every job shares, so budgets and nonces span the whole agent. */
export interface JobVapixOptions {
  /** Credential attempts per camera across every job (default: vapix's process-wide budget). */
  budget?: AttemptBudget;
  limiter?: RequestLimiter;
  sessions?: AuthSessionCache;
  timeouts?: Partial<CallTimeouts>;
  /** Certificate policy for a camera's https URL (default: CA verification). */
  tlsFor?: (serial: string, url: string) => TlsPolicy;
  /**
   * Told the certificate of an address that stated the command's serial to an anonymous look, so
   * a first-use pin can be stored before any credential is sent there.
   */
  onCertificate?: (serial: string, info: CertificateInfo) => void;
  /** The command verifiably factory-defaulted the camera: its next certificate may be pinned. */
  allowRepin?: (serial: string) => void;
}

/** The job options that make every HTTPS call follow the agent's per-camera pins. */
export function pinnedTls(pins: {
  policyFor(serial: string | undefined): TlsPolicy;
  observe(serial: string, fingerprint256: string): void;
  allowRepin(serial: string): void;
}): Pick<JobVapixOptions, 'tlsFor' | 'onCertificate' | 'allowRepin'> {
  return {
    tlsFor: (serial) => pins.policyFor(serial),
    onCertificate: (serial, info) => pins.observe(serial, info.fingerprint256),
    allowRepin: (serial) => pins.allowRepin(serial),
  };
}

/** What one anonymous look at an address showed. */
export interface Observation {
  url: string;
  /** Something answered HTTP there. */
  reachable: boolean;
  /** The serial the device states without credentials, when it states one. */
  serial: string | undefined;
  /** systemready's `needsetup` (factory default); undefined without systemready. */
  needsSetup: boolean | undefined;
  /** systemready's `systemready`; undefined on firmware without it. */
  systemReady: boolean | undefined;
  bootId: string | undefined;
  uptimeSeconds: number | undefined;
  /** systemready's `passphrasepolicy` (12.x): none, length or complex. */
  passphrasePolicy: string | undefined;
  /** Set when the device blocks this agent after authentication failures. */
  lockedOut: boolean;
  /** Why it could not be reached or identified; secret-free. */
  problem: string | undefined;
}

/** A look at `url` that found nothing there, with a secret-free reason. */
export function unreachableObservation(url: string, problem: string | undefined): Observation {
  return {
    url,
    reachable: false,
    serial: undefined,
    needsSetup: undefined,
    systemReady: undefined,
    bootId: undefined,
    uptimeSeconds: undefined,
    passphrasePolicy: undefined,
    lockedOut: false,
    problem,
  };
}

export type LoginCheck =
  | { outcome: 'works'; isAdmin: boolean | null }
  | { outcome: 'rejected' }
  | { outcome: 'budget-spent'; retryAfterMs: number }
  | { outcome: 'locked-out'; retryAfterMs: number };

/** How a login check reads in a result or progress message: "works", "is rejected", … */
export function describeLogin(check: LoginCheck): string {
  switch (check.outcome) {
    case 'works':
      return 'works';
    case 'rejected':
      return 'is rejected';
    case 'budget-spent':
      return `could not be tried: the attempt budget is spent (retry in ${Math.ceil(check.retryAfterMs / 1000)} s)`;
    case 'locked-out':
      return `could not be tried: the camera is blocking this agent (retry in ${Math.ceil(check.retryAfterMs / 1000)} s)`;
  }
}

export type Located =
  { ok: true; url: string; observation: Observation } | { ok: false; failure: VerbOutcome };

/** The base URL of a camera: scheme, host and port; paths and trailing slashes dropped. */
export function baseUrlOf(url: string): string {
  return new URL(url).origin;
}

/** The URL of the same service on another host, e.g. after a new static address. */
export function withHost(url: string, host: string): string {
  const moved = new URL(url);
  moved.hostname = host;
  return moved.origin;
}

function normalized(serial: string | undefined): string | undefined {
  const parsed = parseSerial(serial ?? '');
  return parsed.ok ? parsed.value : undefined;
}

function serialOf(result: ProbeResult): string | undefined {
  return normalized(result.identity?.serial ?? result.realmSerial);
}

export interface CameraAccess {
  /** A client with the agent's shared budget, limiter and nonces; closed when the job ends. */
  client(url: string, credentials: Credentials | null): VapixClient;
  probe(url: string, credentials: Credentials | null): Promise<ProbeResult>;
  /** An anonymous look: spends no credential attempt. `signal` narrows the job's own. */
  observe(url: string, signal?: AbortSignal): Promise<Observation>;
  /**
   * Finds the command's camera: the command's URL, then the directory's, each checked to report
   * the command's serial before anything is sent with credentials.
   */
  locate(urls: readonly (string | undefined)[]): Promise<Located>;
  /** One credentialed call that tells whether the credentials work, rationed by the budget. */
  checkLogin(url: string, credentials: Credentials): Promise<LoginCheck>;
  rtspDescribe(url: string, credentials: Credentials): Promise<RtspDescribeResult>;
  /** Attempts left for this camera at `url` before the budget is spent. */
  attemptsLeft(url: string): number;
  /**
   * The camera accepted a factory default from this command (or was found in factory-default
   * state): it may come back with a new certificate, which the next look may pin.
   */
  allowRepin(): void;
  closeAll(): Promise<void>;
}

export function createCameraAccess(options: {
  serial: string;
  vapix: JobVapixOptions;
  signal: AbortSignal;
}): CameraAccess {
  const { serial, vapix, signal } = options;
  const budget = vapix.budget ?? defaultAttemptBudget;
  const open = new Set<VapixClient>();
  // The look and every login test of this command go over the same keep-alive connection to the
  // camera instead of one each: less setup for the agent and for the camera.
  const connections = createSharedCameraConnections();
  const shared = {
    budget,
    ...(vapix.limiter === undefined ? {} : { limiter: vapix.limiter }),
    ...(vapix.sessions === undefined ? {} : { sessions: vapix.sessions }),
    ...(vapix.timeouts === undefined ? {} : { timeouts: vapix.timeouts }),
  };
  // Evaluated per client, so a pin stored by a look is in force for the calls that follow it.
  const tlsOf = (url: string) =>
    url.startsWith('https:')
      ? { tls: vapix.tlsFor?.(serial, url) ?? { mode: 'verify' as const } }
      : {};

  const client = (url: string, credentials: Credentials | null): VapixClient => {
    const created = createVapixClient({
      ...shared,
      ...tlsOf(url),
      url: baseUrlOf(url),
      credentials,
      connections,
    });
    open.add(created);
    return created;
  };

  const release = async (used: VapixClient): Promise<void> => {
    open.delete(used);
    await used.close();
  };

  /**
   * The probe stops at "needs setup", so firmware that keeps its properties private (9.80) has
   * not said its serial yet: a protected read answers 401 with the `AXIS_<serial>` realm.
   */
  const realmSerial = async (url: string, callSignal: AbortSignal): Promise<string | undefined> => {
    const anonymous = client(url, null);
    try {
      const { params } = await anonymous.send(listParams('root.Properties.System.SerialNumber'), {
        credentials: null,
        signal: callSignal,
      });
      return normalized(params['Properties.System.SerialNumber']);
    } catch (error) {
      if (error instanceof VapixAuthError)
        return normalized(serialFromRealm(anonymous.lastRealm()));
      if (error instanceof VapixError && error.code !== 'VAPIX_ABORTED') return undefined;
      throw error;
    } finally {
      await release(anonymous);
    }
  };

  const probeWith = (
    url: string,
    credentials: Credentials | null,
    callSignal: AbortSignal = signal,
  ): Promise<ProbeResult> =>
    probe(baseUrlOf(url), credentials, { ...shared, ...tlsOf(url), signal: callSignal });

  const observe = async (url: string, callSignal: AbortSignal = signal): Promise<Observation> => {
    const observation = unreachableObservation(baseUrlOf(url), undefined);
    const anonymous = client(url, null);
    let ready: SystemReady | undefined;
    try {
      ready = await anonymous.send(systemReady(), { credentials: null, signal: callSignal });
    } catch (error) {
      if (!(error instanceof VapixError) || error.code === 'VAPIX_ABORTED') throw error;
      if (
        error instanceof VapixLockedOutError ||
        (error instanceof VapixHttpError && error.status === 403)
      ) {
        return { ...observation, reachable: true, lockedOut: true, problem: error.message };
      }
      // 404: firmware without systemready (5.x); anything else with a status is still an answer.
      if (!(error instanceof VapixUnsupportedError) && !(error instanceof VapixHttpError)) {
        return { ...observation, problem: error.message };
      }
    } finally {
      await release(anonymous);
    }
    observation.reachable = true;
    if (ready !== undefined) {
      observation.needsSetup = ready.needSetup;
      observation.systemReady = ready.systemReady;
      observation.bootId = ready.bootId;
      observation.uptimeSeconds = ready.uptimeSeconds;
      observation.passphrasePolicy = ready.passphrasePolicy;
      // While starting, every other call answers 503: nothing more to learn yet.
      if (ready.systemReady === false) return observation;
    }
    const result = await probeWith(url, null, callSignal);
    if (result.accessState === 'unreachable') {
      return { ...observation, reachable: false, problem: result.error?.message };
    }
    observation.lockedOut = result.accessState === 'locked-out';
    observation.serial = serialOf(result);
    if (observation.serial === undefined && observation.needsSetup === true) {
      observation.serial = await realmSerial(url, callSignal);
    }
    // Only a device that stated the command's serial has its certificate pinned for it.
    if (observation.serial === serial && result.tls !== undefined) {
      vapix.onCertificate?.(serial, { fingerprint256: result.tls.fingerprint256, firstUse: true });
    }
    if (observation.serial === undefined) {
      observation.problem = result.error?.message ?? 'the device did not state its serial number';
    }
    return observation;
  };

  return {
    client,
    probe: (url, credentials) => probeWith(url, credentials),
    observe,
    async locate(urls) {
      const candidates = [
        ...new Set(urls.filter((url): url is string => url !== undefined).map(baseUrlOf)),
      ];
      if (candidates.length === 0) {
        return {
          ok: false,
          failure: failed(
            'no-address',
            `No address is known for camera ${serial}: the command names none and discovery has not seen it.`,
          ),
        };
      }
      const seen: Observation[] = [];
      for (const url of candidates) {
        const observation = await observe(url);
        if (observation.serial === serial) return { ok: true, url, observation };
        seen.push(observation);
      }
      const other = seen.find((observation) => observation.serial !== undefined);
      if (other !== undefined) {
        return {
          ok: false,
          failure: failed(
            'wrong-device',
            `The device at ${other.url} reports serial ${other.serial}, not ${serial}; nothing was sent to it.`,
          ),
        };
      }
      const locked = seen.find((observation) => observation.lockedOut);
      if (locked !== undefined) {
        return {
          ok: false,
          failure: failed(
            'locked-out',
            `The device at ${locked.url} is blocking this agent after authentication failures; try again later.`,
          ),
        };
      }
      const answering = seen.find((observation) => observation.reachable);
      if (answering !== undefined) {
        const reason =
          answering.systemReady === false
            ? 'it is still starting up'
            : 'it did not state its serial number without credentials';
        return {
          ok: false,
          failure: failed(
            'unidentified',
            `The device at ${answering.url} cannot be confirmed to be camera ${serial} (${reason}); nothing was sent to it.`,
          ),
        };
      }
      return {
        ok: false,
        failure: failed(
          'unreachable',
          `Camera ${serial} did not answer at ${candidates.join(', ')} (${seen[0]?.problem ?? 'no answer'}).`,
        ),
      };
    },
    async checkLogin(url, credentials) {
      const authenticated = client(url, credentials);
      try {
        try {
          const user = await authenticated.send(whoAmI(), { signal });
          // A device answering without a challenge has not checked the password at all.
          if (user.username !== credentials.username) {
            throw new VapixAuthError(
              'VAPIX_AUTH_REQUIRED',
              'the device answered for another user',
              {
                method: 'GET',
                path: '/axis-cgi/usergroup.cgi',
              },
            );
          }
          return { outcome: 'works', isAdmin: user.roles.includes('admin') };
        } catch (error) {
          if (!(error instanceof VapixUnsupportedError)) throw error;
        }
        // Without usergroup.cgi, a protected parameter read proves the login but not the role.
        await authenticated.send(listParams('root.Brand.ProdNbr'), { signal });
        return { outcome: 'works', isAdmin: null };
      } catch (error) {
        if (error instanceof VapixAuthError && error.code === 'VAPIX_LOGIN_FAILED') {
          return { outcome: 'rejected' };
        }
        if (error instanceof VapixBudgetExhaustedError) {
          return { outcome: 'budget-spent', retryAfterMs: error.retryAfterMs };
        }
        if (error instanceof VapixLockedOutError) {
          return { outcome: 'locked-out', retryAfterMs: error.retryAfterMs };
        }
        throw error;
      } finally {
        await release(authenticated);
      }
    },
    rtspDescribe: (url, credentials) =>
      rtspDescribe(url, credentials, {
        budget,
        signal,
        ...(vapix.timeouts?.normalMs === undefined ? {} : { timeoutMs: vapix.timeouts.normalMs }),
      }),
    attemptsLeft: (url) => budget.remaining(cameraKeyOf(baseUrlOf(url))),
    allowRepin: () => vapix.allowRepin?.(serial),
    async closeAll() {
      await Promise.all([...open].map((used) => release(used)));
      await connections.close();
    },
  };
}
