import { z } from 'zod';

import { decodeText } from '../decode-text.ts';
import { jsonRpcRequest } from '../json-rpc.ts';
import type { VapixRequest } from '../request.ts';
import { VapixCgiError } from '../vapix-error.ts';
import { cgiErrorMessage, htmlText } from './html-text.ts';

export const FIRMWARE_MANAGEMENT_PATH = '/axis-cgi/firmwaremanagement.cgi';
export const LEGACY_FACTORY_DEFAULT_PATH = '/axis-cgi/factorydefault.cgi';
export const LEGACY_HARD_FACTORY_DEFAULT_PATH = '/axis-cgi/hardfactorydefault.cgi';
export const LEGACY_RESTART_PATH = '/axis-cgi/restart.cgi';

/**
 * `soft` keeps the network settings (the device stays at its address); `hard` resets
 * everything, IP settings and certificates included. Both remove every user (reference §5.2).
 */
export type FactoryDefaultMode = 'soft' | 'hard';

const FirmwareStatusSchema = z.looseObject({
  activeFirmwareVersion: z.string().optional(),
  activeFirmwarePart: z.string().optional(),
  inactiveFirmwareVersion: z.string().optional(),
  isCommitted: z.boolean().optional(),
  timeToRollback: z.number().optional(),
  lastUpgradeAt: z.string().optional(),
  lastUpgradeResult: z.string().optional(),
  resetSource: z.string().optional(),
});

export type FirmwareStatus = z.infer<typeof FirmwareStatusSchema> & {
  apiVersion: string | undefined;
};

const EmptyDataSchema = z.unknown();

/** fwmgr `status` (7.40+): active firmware and why the device last reset. */
export function firmwareStatus(): VapixRequest<FirmwareStatus> {
  return jsonRpcRequest({
    path: FIRMWARE_MANAGEMENT_PATH,
    method: 'status',
    apiVersion: '1.0',
    data: FirmwareStatusSchema,
    map: ({ apiVersion, data }) => ({ ...data, apiVersion }),
  });
}

/** fwmgr `reboot`. */
export function reboot(): VapixRequest<void> {
  return jsonRpcRequest({
    path: FIRMWARE_MANAGEMENT_PATH,
    method: 'reboot',
    apiVersion: '1.0',
    data: EmptyDataSchema,
    map: () => undefined,
  });
}

/** fwmgr `factoryDefault`; the mode goes under `params` (reference §5.1, not top level). */
export function factoryDefault(mode: FactoryDefaultMode): VapixRequest<void> {
  return jsonRpcRequest({
    path: FIRMWARE_MANAGEMENT_PATH,
    method: 'factoryDefault',
    apiVersion: '1.0',
    params: { factoryDefaultMode: mode },
    data: EmptyDataSchema,
    map: () => undefined,
  });
}

/**
 * Legacy maintenance CGIs answer 200 HTML with a meta refresh to a message page
 * (reference §5.2); an `Error:` text is the only failure signal inside a 200.
 */
function legacyRequest(path: string): VapixRequest<void> {
  return {
    method: 'GET',
    path,
    callClass: 'normal',
    parse: (response, context) => {
      const error = cgiErrorMessage(htmlText(decodeText(response.body, response.contentType)));
      if (error !== undefined) throw new VapixCgiError(error, context);
    },
  };
}

export function legacyFactoryDefault(mode: FactoryDefaultMode): VapixRequest<void> {
  return legacyRequest(
    mode === 'hard' ? LEGACY_HARD_FACTORY_DEFAULT_PATH : LEGACY_FACTORY_DEFAULT_PATH,
  );
}

export function legacyRestart(): VapixRequest<void> {
  return legacyRequest(LEGACY_RESTART_PATH);
}
