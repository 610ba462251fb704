import { z } from 'zod';

import { jsonRpcRequest } from '../json-rpc.ts';
import type { VapixRequest } from '../request.ts';

export const NETWORK_SETTINGS_PATH = '/axis-cgi/network_settings.cgi';

const AddressSchema = z.looseObject({
  address: z.string(),
  prefixLength: z.number().int().min(0).max(32),
  origin: z.string().optional(),
  broadcast: z.string().optional(),
});

const DeviceSchema = z.looseObject({
  name: z.string(),
  macAddress: z.string().optional(),
  IPv4: z
    .looseObject({
      enabled: z.boolean().optional(),
      configurationMode: z.string().optional(),
      linkLocalMode: z.string().optional(),
      addresses: z.array(AddressSchema).optional(),
      staticAddressConfigurations: z.array(AddressSchema).optional(),
      defaultRouter: z.string().optional(),
      staticDefaultRouter: z.string().optional(),
    })
    .optional(),
});

const NetworkInfoSchema = z.looseObject({
  system: z.looseObject({}).optional(),
  devices: z.array(DeviceSchema),
});

export type NetworkDevice = z.infer<typeof DeviceSchema>;

export interface NetworkInfo {
  apiVersion: string | undefined;
  devices: NetworkDevice[];
  system: Record<string, unknown> | undefined;
}

/** network_settings getNetworkInfo (8.50+, shape from the 10.12/12.11 recordings, §1.6). */
export function getNetworkInfo(): VapixRequest<NetworkInfo> {
  return jsonRpcRequest({
    path: NETWORK_SETTINGS_PATH,
    method: 'getNetworkInfo',
    apiVersion: '1.0',
    data: NetworkInfoSchema,
    map: ({ apiVersion, data }) => ({ apiVersion, devices: data.devices, system: data.system }),
  });
}

export type IPv4Configuration =
  | { mode: 'dhcp'; deviceName?: string }
  | {
      mode: 'static';
      deviceName?: string;
      address: string;
      prefixLength: number;
      defaultRouter: string;
    };

/** setIPv4AddressConfiguration (reference §6.5); expect the connection to drop afterwards. */
export function setIPv4AddressConfiguration(config: IPv4Configuration): VapixRequest<void> {
  const params: Record<string, unknown> = {
    deviceName: config.deviceName ?? 'eth0',
    configurationMode: config.mode,
  };
  if (config.mode === 'static') {
    params.staticAddressConfigurations = [
      { address: config.address, prefixLength: config.prefixLength },
    ];
    params.staticDefaultRouter = config.defaultRouter;
  }
  return jsonRpcRequest({
    path: NETWORK_SETTINGS_PATH,
    method: 'setIPv4AddressConfiguration',
    apiVersion: '1.0',
    params,
    data: z.unknown(),
    map: () => undefined,
  });
}
