import {
  factoryDefault,
  legacyFactoryDefault,
  legacyRestart,
  reboot,
  type FactoryDefaultMode,
} from './apis/firmware-management.ts';
import type { VapixRequest } from './request.ts';
import type { VapixClient } from './vapix-client.ts';
import { VapixApiError, VapixUnsupportedError } from './vapix-error.ts';

export interface MaintenanceResult {
  /** Which path the device accepted: firmwaremanagement.cgi or the pre-7.40 CGI. */
  via: 'fwmgr' | 'legacy';
}

/** fwmgr absent (404) or without the method (JSON-RPC 405 "Unknown method"). */
function fwmgrUnavailable(error: unknown): boolean {
  return (
    error instanceof VapixUnsupportedError ||
    (error instanceof VapixApiError && error.apiCode === 405)
  );
}

async function withFallback(
  client: VapixClient,
  modern: VapixRequest<void>,
  legacy: VapixRequest<void>,
  signal: AbortSignal | undefined,
): Promise<MaintenanceResult> {
  try {
    await client.send(modern, { signal });
    return { via: 'fwmgr' };
  } catch (error) {
    if (!fwmgrUnavailable(error)) throw error;
  }
  await client.send(legacy, { signal });
  return { via: 'legacy' };
}

/**
 * Factory default through firmwaremanagement.cgi, falling back to factorydefault.cgi or
 * hardfactorydefault.cgi (reference §5.1, §5.2). Every user is removed either way.
 */
export function factoryDefaultWithFallback(
  client: VapixClient,
  mode: FactoryDefaultMode,
  options: { signal?: AbortSignal } = {},
): Promise<MaintenanceResult> {
  return withFallback(client, factoryDefault(mode), legacyFactoryDefault(mode), options.signal);
}

/** Reboot through firmwaremanagement.cgi, falling back to restart.cgi. */
export function restartWithFallback(
  client: VapixClient,
  options: { signal?: AbortSignal } = {},
): Promise<MaintenanceResult> {
  return withFallback(client, reboot(), legacyRestart(), options.signal);
}
