import { getApiList } from './apis/api-discovery.ts';
import { getAllUnrestrictedProperties } from './apis/basic-device-info.ts';
import { listParams } from './apis/param-cgi.ts';
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
function isInconclusive(error: unknown): boolean {
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
 * Which APIs the device offers (reference §7.2): apidiscovery first, then param.cgi
 * `Properties.*`, then probing the anonymous endpoints, a 404 meaning "unsupported".
 */
export async function detectCapabilities(
  client: VapixClient,
  options: { signal?: AbortSignal } = {},
): Promise<CapabilityId[]> {
  const found = new Set<CapabilityId>();
  const send = <T>(request: VapixRequest<T>): Promise<T> =>
    client.send(request, { signal: options.signal });

  const discovery = await attempt(() => send(getApiList()));
  if ('value' in discovery) {
    found.add('api-discovery');
    for (const api of discovery.value.apis) found.add(api.id);
  }

  const properties = await attempt(() => send(listParams('root.Properties')));
  if ('value' in properties) {
    found.add('param-cgi');
    for (const [name, capability, test] of PROPERTY_CAPABILITIES) {
      const value = properties.value.params[name];
      if (value !== undefined && test(value)) found.add(capability);
    }
  }

  if (!('value' in discovery)) {
    const ready = await attempt(() =>
      client.send(systemReady(), { signal: options.signal, credentials: null }),
    );
    if ('value' in ready) found.add('systemready');
    const info = await attempt(() =>
      client.send(getAllUnrestrictedProperties(), { signal: options.signal, credentials: null }),
    );
    // A JSON-RPC error (2004 on older firmware) still proves the CGI exists.
    if ('value' in info || info.error instanceof VapixApiError) found.add('basic-device-info');
  }

  return [...found].sort();
}
