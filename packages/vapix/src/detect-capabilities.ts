import { getApiList } from './apis/api-discovery.ts';
import { getAllUnrestrictedProperties } from './apis/basic-device-info.ts';
import { listParams, type ParamList } from './apis/param-cgi.ts';
import { yesNo } from './apis/string-record.ts';
import { systemReady } from './apis/system-ready.ts';
import type { VapixRequest } from './request.ts';
import type { VapixClient } from './vapix-client.ts';
import {
  VapixApiError,
  VapixHttpError,
  VapixMalformedResponseError,
  VapixUnsupportedError,
  type VapixError,
} from './vapix-error.ts';

/** Capability ids are apidiscovery ids, plus `https` read from `Properties.HTTPS.HTTPS`. */
export type CapabilityId = string;

/**
 * Errors that only say "this source did not tell us": the next source is tried. Everything
 * else (auth, lock-out, budget, transport) stops detection, so it never adds login attempts.
 */
export function isInconclusive(error: unknown): boolean {
  if (error instanceof VapixUnsupportedError || error instanceof VapixApiError) return true;
  if (error instanceof VapixMalformedResponseError) return true;
  return error instanceof VapixHttpError && error.code !== 'VAPIX_FORBIDDEN';
}

async function attempt<T>(run: () => Promise<T>): Promise<{ value: T } | { error: VapixError }> {
  try {
    return { value: await run() };
  } catch (error) {
    if (isInconclusive(error)) return { error: error as VapixError };
    throw error;
  }
}

const PROPERTY_CAPABILITIES: ReadonlyArray<[string, string, (value: string) => boolean]> = [
  ['Properties.ApiDiscovery.ApiDiscovery', 'api-discovery', (value) => yesNo(value) === true],
  ['Properties.FirmwareManagement.Version', 'fwmgr', (value) => value.trim() !== ''],
  ['Properties.HTTPS.HTTPS', 'https', (value) => yesNo(value) === true],
  // pwdgrp.cgi exists on every VAPIX 3 firmware (AXIS OS 5.00+, reference §4.1).
  ['Properties.API.HTTP.Version', 'user-management', (value) => Number(value) >= 3],
];

/**
 * What the caller already learned with the same client, so no call is repeated: the
 * param.cgi list it read (containing `root.Properties`), and whether the anonymous
 * systemready and basicdeviceinfo answered (true), answered 404 (false) or told nothing
 * (undefined, e.g. a 401).
 */
export interface KnownSources {
  properties?: ParamList;
  systemReady?: boolean;
  basicDeviceInfo?: boolean;
}

/**
 * Which APIs the device offers (reference §7.2): apidiscovery first, then param.cgi
 * `Properties.*`, then probing the anonymous endpoints, a 404 meaning "unsupported".
 * apidiscovery (9.x+) is not asked where basicdeviceinfo.cgi (8.40+) answered 404 and the
 * known `Properties.ApiDiscovery.ApiDiscovery` does not say yes (reference §3.2, §7.1).
 */
export async function detectCapabilities(
  client: VapixClient,
  options: { signal?: AbortSignal; known?: KnownSources } = {},
): Promise<CapabilityId[]> {
  const found = new Set<CapabilityId>();
  const known = options.known ?? {};
  const send = <T>(request: VapixRequest<T>): Promise<T> =>
    client.send(request, { signal: options.signal });

  const predatesDiscovery =
    known.basicDeviceInfo === false &&
    known.properties !== undefined &&
    yesNo(known.properties.params['Properties.ApiDiscovery.ApiDiscovery']) !== true;
  const discovery = predatesDiscovery ? undefined : await attempt(() => send(getApiList()));
  if (discovery !== undefined && 'value' in discovery) {
    found.add('api-discovery');
    for (const api of discovery.value.apis) found.add(api.id);
  }

  const properties =
    known.properties === undefined
      ? await attempt(() => send(listParams('root.Properties')))
      : { value: known.properties };
  if ('value' in properties) {
    found.add('param-cgi');
    for (const [name, capability, test] of PROPERTY_CAPABILITIES) {
      const value = properties.value.params[name];
      if (value !== undefined && test(value)) found.add(capability);
    }
  }

  if (discovery === undefined || !('value' in discovery)) {
    let hasSystemReady = known.systemReady;
    if (hasSystemReady === undefined) {
      const ready = await attempt(() =>
        client.send(systemReady(), { signal: options.signal, credentials: null }),
      );
      hasSystemReady = 'value' in ready;
    }
    if (hasSystemReady) found.add('systemready');
    let hasBasicDeviceInfo = known.basicDeviceInfo;
    if (hasBasicDeviceInfo === undefined) {
      const info = await attempt(() =>
        client.send(getAllUnrestrictedProperties(), {
          signal: options.signal,
          credentials: null,
        }),
      );
      // A JSON-RPC error (2004 on older firmware) still proves the CGI exists.
      hasBasicDeviceInfo = 'value' in info || info.error instanceof VapixApiError;
    }
    if (hasBasicDeviceInfo) found.add('basic-device-info');
  }

  return [...found].sort();
}
