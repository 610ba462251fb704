import { getAllProperties, getAllUnrestrictedProperties } from './apis/basic-device-info.ts';
import { listParams, type ParamList } from './apis/param-cgi.ts';
import { systemReady, type SystemReady } from './apis/system-ready.ts';
import { detectCapabilities, isInconclusive } from './detect-capabilities.ts';
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
 * Whether an anonymous call showed the capability: true for an answer (or, where
 * `apiErrorProves`, a JSON-RPC error, which proves the CGI exists), false for a 404 or an
 * unproving API error, undefined when it told nothing (401, 5xx) and is worth asking again.
 */
function shownCapability(
  result: { value: unknown } | { error: VapixError },
  apiErrorProves: boolean,
): boolean | undefined {
  if ('value' in result) return true;
  if (result.error instanceof VapixApiError) return apiErrorProves;
  if (result.error instanceof VapixUnsupportedError) return false;
  return undefined;
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

/** The login check and identity where the param.cgi list told nothing: basicdeviceinfo first. */
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
 * unrestricted properties, then at most one credentialed attempt: a param.cgi list whose
 * `Properties.*` capability detection reuses, as it reuses what the anonymous calls showed.
 * basicdeviceinfo stands in where that list tells nothing. Without credentials, one anonymous
 * protected call learns the serial from the realm when nothing else gave it. Every expected
 * outcome is returned as a value.
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
    const systemReadyKnown = shownCapability(ready, false);

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
    const basicDeviceInfoKnown = shownCapability(unrestricted, true);
    const hasBasicDeviceInfo = basicDeviceInfoKnown !== false;

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

    // The one credentialed check is a param.cgi list, which every firmware answers (reference
    // §3.2): it holds the `Properties.*` that capability detection reads, and the identity
    // (`Brand`, `Properties.System`) where the anonymous calls gave none (9.80, 5.x). A list
    // that tells nothing, or is not allowed, leaves the check to basicdeviceinfo as before.
    let properties: ParamList | undefined;
    try {
      properties = await client.send(
        listParams(identity === null ? ['root.Brand', 'root.Properties'] : 'root.Properties'),
        { signal },
      );
      identity ??= identityFromParams(properties);
    } catch (error) {
      // A 403 here is "signed in but not allowed to list", not a failed login.
      const notAllowed = error instanceof VapixHttpError && error.code === 'VAPIX_FORBIDDEN';
      if (!isInconclusive(error) && !notAllowed) {
        const outcome = outcomeOf(error);
        return finish(outcome.accessState, outcome.error);
      }
    }
    if (properties === undefined) {
      try {
        identity = (await authenticatedIdentity(client, hasBasicDeviceInfo, signal)) ?? identity;
      } catch (error) {
        const outcome = outcomeOf(error);
        return finish(outcome.accessState, outcome.error);
      }
    } else if (identity === null && hasBasicDeviceInfo) {
      // The list named no serial. Login is settled, so a failure here only leaves it unknown.
      try {
        const { properties: all } = await client.send(getAllProperties(), { signal });
        identity = identityFromProperties(all);
      } catch (error) {
        if (!(error instanceof VapixError) || error.code === 'VAPIX_ABORTED') throw error;
      }
    }

    try {
      const detected = await detectCapabilities(client, {
        signal,
        known: { properties, systemReady: systemReadyKnown, basicDeviceInfo: basicDeviceInfoKnown },
      });
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
