import { jsonRpcRequest } from '../json-rpc.ts';
import type { VapixRequest } from '../request.ts';
import { nonNegativeInteger, StringRecordSchema, yesNo } from './string-record.ts';

export const SYSTEM_READY_PATH = '/axis-cgi/systemready.cgi';

/**
 * systemready (reference §4.3). Every member is optional by firmware: 10.12 has no `uptime`
 * or `bootid`, 12.9 adds `passphrasepolicy`, factory default adds `previewmode`. The device
 * sends strings; they are typed here, with the raw strings kept alongside.
 */
export interface SystemReady {
  apiVersion: string | undefined;
  systemReady: boolean | undefined;
  needSetup: boolean | undefined;
  uptimeSeconds: number | undefined;
  bootId: string | undefined;
  previewModeSeconds: number | undefined;
  passphrasePolicy: string | undefined;
  raw: Readonly<Record<string, string>>;
}

export interface SystemReadyOptions {
  /** Long-poll: the device answers once ready or after this many seconds. */
  timeoutSeconds?: number;
}

export function systemReady(options: SystemReadyOptions = {}): VapixRequest<SystemReady> {
  const { timeoutSeconds } = options;
  return jsonRpcRequest({
    path: SYSTEM_READY_PATH,
    method: 'systemready',
    apiVersion: '1.0',
    ...(timeoutSeconds !== undefined
      ? {
          params: { timeout: timeoutSeconds },
          callClass: 'long-poll',
          longPollSeconds: timeoutSeconds,
        }
      : { callClass: 'probe' }),
    anonymous: true,
    data: StringRecordSchema,
    map: ({ apiVersion, data }) => ({
      apiVersion,
      systemReady: yesNo(data.systemready),
      needSetup: yesNo(data.needsetup),
      uptimeSeconds: nonNegativeInteger(data.uptime),
      bootId: data.bootid === '' ? undefined : data.bootid,
      previewModeSeconds: nonNegativeInteger(data.previewmode),
      passphrasePolicy: data.passphrasepolicy,
      raw: data,
    }),
  });
}
