import { getAllProperties, getAllUnrestrictedProperties } from './apis/basic-device-info.ts';
import { listParams } from './apis/param-cgi.ts';
import { systemReady, type SystemReady } from './apis/system-ready.ts';
import { detectCapabilities } from './detect-capabilities.ts';
import {
  identityFromParams,
  identityFromProperties,
  type DeviceIdentity,
} from './device-identity.ts';
import type { VapixErrorCode } from './error-codes.ts';
import type { Credentials } from './types.ts';
import { createVapixClient, type VapixClient, type VapixClientOptions } from './vapix-client.ts';
import {
  VapixApiError,
  VapixAuthError,
  VapixBudgetExhaustedError,
  VapixError,
  VapixHttpError,
  VapixInsecureAuthError,
  VapixLockedOutError,
  VapixTransportError,
  VapixUnsupportedError,
} from './vapix-error.ts';
import { serialFromRealm } from './www-authenticate.ts';

export type AccessState =
  'authenticated' | 'needs-setup' | 'login-failed' | 'locked-out' | 'unreachable';

export interface ProbeResult {
  url: string;
  accessState: AccessState;
  identity: DeviceIdentity | null;
  capabilities: string[];
  /** Serial read from an `AXIS_<serial>` auth realm, which proves an AXIS device even when login fails. */
  realmSerial?: string;
  tls?: { fingerprint256: string };
  error?: { code: VapixErrorCode; message: string };
}

export type ProbeOptions = Omit<VapixClientOptions, 'url' | 'credentials'> & {
  signal?: AbortSignal;
};

type Outcome = { accessState: AccessState; error: VapixError };

/**
 * Maps a failure to the access state it reveals. The caller's own abort says nothing about
 * the camera and propagates, as do non-VAPIX errors (bugs).
 */
function outcomeOf(error: unknown): Outcome {
  if (!(error instanceof VapixError) || error.code === 'VAPIX_ABORTED') throw error;
  if (error instanceof VapixLockedOutError) return { accessState: 'locked-out', error };
  if (
    error instanceof VapixAuthError ||
    error instanceof VapixInsecureAuthError ||
    error instanceof VapixBudgetExhaustedError ||
    (error instanceof VapixHttpError && error.code === 'VAPIX_FORBIDDEN')
  ) {
    return { accessState: 'login-failed', error };
  }
  if (error instanceof VapixTransportError || error instanceof VapixHttpError) {
    return { accessState: 'unreachable', error };
  }
  // A malformed or JSON-RPC error body came with a 2xx: the credentials were accepted.
  return { accessState: 'authenticated', error };
}

/** Anonymous call whose failure is information, not an outcome (404, 401, API errors). */
async function tryAnonymous<T>(
  run: () => Promise<T>,
): Promise<{ value: T } | { error: VapixError } | { outcome: Outcome }> {
  try {
    return { value: await run() };
  } catch (error) {
    if (error instanceof VapixTransportError || error instanceof VapixLockedOutError) {
      return { outcome: outcomeOf(error) };
    }
    if (error instanceof VapixError) return { error };
    throw error;
  }
}

/**
 * systemready needs no authentication (reference §4.3), so a 403 to the anonymous call cannot
 * mean "not privileged": it is taken for the brute-force block, which §2 infers to be a 403 per
 * source address, possibly caused by someone else on this host. Remembered in the budget so
 * nothing is sent while it lasts.
 */
function blockedOutcome(client: VapixClient, error: VapixHttpError): Outcome {
  client.budget.recordLockout(client.cameraKey);
  return {
    accessState: 'locked-out',
    error: new VapixLockedOutError(
      'the device refused an anonymous call (HTTP 403): it is blocking this address',
      {
        method: error.method,
        path: error.path,
        cause: error,
        retryAfterMs: client.budget.blockPeriodMs,
      },
    ),
  };
}

/**
 * The `AXIS_<serial>` realm of a protected call, asked anonymously: no credentials are sent and
 * no attempt is spent. basicdeviceinfo where it exists, else param.cgi (5.x, reference §3.1,
 * §7.1). A device that answers it anonymously gives its identity outright.
 */
async function anonymousIdentity(
  client: VapixClient,
  hasBasicDeviceInfo: boolean,
  signal: AbortSignal | undefined,
): Promise<{ identity: DeviceIdentity | null } | { outcome: Outcome }> {
  if (hasBasicDeviceInfo) {
    const full = await tryAnonymous(() =>
      client.send(getAllProperties(), { credentials: null, signal }),
    );
    if ('outcome' in full) return full;
    if ('value' in full) return { identity: identityFromProperties(full.value.properties) };
    if (!(full.error instanceof VapixUnsupportedError)) return { identity: null };
  }
  const list = await tryAnonymous(() =>
    client.send(listParams(['root.Brand', 'root.Properties']), { credentials: null, signal }),
  );
  if ('outcome' in list) return list;
  return { identity: 'value' in list ? identityFromParams(list.value) : null };
}

async function authenticatedIdentity(
  client: VapixClient,
  hasBasicDeviceInfo: boolean,
  signal: AbortSignal | undefined,
): Promise<DeviceIdentity | null> {
  if (hasBasicDeviceInfo) {
    try {
      const { properties } = await client.send(getAllProperties(), { signal });
      return identityFromProperties(properties);
    } catch (error) {
      if (!(error instanceof VapixUnsupportedError)) throw error;
    }
  }
  // 5.x has neither basicdeviceinfo nor systemready (reference §7.1): param.cgi has it all.
  const list = await client.send(listParams(['root.Brand', 'root.Properties']), { signal });
  return identityFromParams(list);
}

/**
 * Read-only triage of one device (reference §3.1 "Unauthenticated probe pattern", §4.3):
 * anonymous systemready (`needsetup` decides needs-setup, not 401 vs 200), anonymous
 * unrestricted properties, then at most one credentialed attempt, falling back to param.cgi on
 * firmware without basicdeviceinfo. Without credentials, one anonymous protected call learns the
 * serial from the realm when nothing else gave it. Every expected outcome is returned as a value.
 */
export async function probe(
  url: string | URL,
  credentials?: Credentials | null,
  options: ProbeOptions = {},
): Promise<ProbeResult> {
  const { signal, ...clientOptions } = options;
  const client = createVapixClient({ ...clientOptions, url, credentials: credentials ?? null });
  const capabilities = new Set<string>();
  let identity: DeviceIdentity | null = null;

  const finish = (accessState: AccessState, error?: VapixError): ProbeResult => {
    const result: ProbeResult = {
      url: String(url),
      accessState,
      identity,
      capabilities: [...capabilities].sort(),
    };
    const realmSerial = serialFromRealm(client.lastRealm());
    if (realmSerial !== undefined) result.realmSerial = realmSerial;
    const certificate = client.certificate();
    if (certificate !== undefined) result.tls = { fingerprint256: certificate.fingerprint256 };
    if (error !== undefined) result.error = { code: error.code, message: error.message };
    return result;
  };

  try {
    const ready = await tryAnonymous(() =>
      client.send(systemReady(), { credentials: null, signal }),
    );
    if ('outcome' in ready) return finish(ready.outcome.accessState, ready.outcome.error);
    if ('error' in ready && ready.error instanceof VapixHttpError && ready.error.status === 403) {
      const blocked = blockedOutcome(client, ready.error);
      return finish(blocked.accessState, blocked.error);
    }
    let readiness: SystemReady | undefined;
    if ('value' in ready) {
      readiness = ready.value;
      capabilities.add('systemready');
    }

    const unrestricted = await tryAnonymous(() =>
      client.send(getAllUnrestrictedProperties(), { credentials: null, signal }),
    );
    if ('outcome' in unrestricted) {
      return finish(unrestricted.outcome.accessState, unrestricted.outcome.error);
    }
    if ('value' in unrestricted) {
      identity = identityFromProperties(unrestricted.value.properties);
      capabilities.add('basic-device-info');
    } else if (unrestricted.error instanceof VapixApiError) {
      capabilities.add('basic-device-info');
    }
    const hasBasicDeviceInfo = !(
      'error' in unrestricted && unrestricted.error instanceof VapixUnsupportedError
    );

    if (readiness?.needSetup === true) return finish('needs-setup');
    if (credentials === undefined || credentials === null) {
      if (identity === null && client.lastRealm() === undefined) {
        // Reference §3.1: a protected call answers 401 with the `AXIS_<serial>` realm, which
        // identifies firmware without the unrestricted method (9.80) or any JSON API (5.x).
        const found = await anonymousIdentity(client, hasBasicDeviceInfo, signal);
        if ('outcome' in found) return finish(found.outcome.accessState, found.outcome.error);
        identity = found.identity;
      }
      return finish(
        'login-failed',
        new VapixAuthError('VAPIX_AUTH_REQUIRED', 'no credentials were given to test', {
          realm: client.lastRealm(),
        }),
      );
    }

    try {
      identity = (await authenticatedIdentity(client, hasBasicDeviceInfo, signal)) ?? identity;
    } catch (error) {
      const outcome = outcomeOf(error);
      return finish(outcome.accessState, outcome.error);
    }

    try {
      const detected = await detectCapabilities(client, { signal });
      for (const capability of detected) capabilities.add(capability);
    } catch (error) {
      // Login already succeeded; a failed extra source only leaves capabilities incomplete.
      if (!(error instanceof VapixError) || error.code === 'VAPIX_ABORTED') throw error;
    }
    return finish('authenticated');
  } finally {
    await client.close();
  }
}
