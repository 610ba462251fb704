import { z } from 'zod';

import { jsonRpcRequest } from '../json-rpc.ts';
import type { VapixRequest } from '../request.ts';
import { StringRecordSchema } from './string-record.ts';

export const BASIC_DEVICE_INFO_PATH = '/axis-cgi/basicdeviceinfo.cgi';

/** basicdeviceinfo property names (reference §3.1); any may be missing on a given model. */
export interface DeviceProperties {
  readonly ProdNbr?: string;
  readonly ProdFullName?: string;
  readonly ProdShortName?: string;
  readonly ProdType?: string;
  readonly ProdVariant?: string;
  readonly SerialNumber?: string;
  readonly Version?: string;
  readonly HardwareID?: string;
  readonly Brand?: string;
  readonly BuildDate?: string;
  readonly WebURL?: string;
  readonly Architecture?: string;
  readonly Soc?: string;
  readonly SocSerialNumber?: string;
  readonly [name: string]: string | undefined;
}

export interface DevicePropertiesResult {
  apiVersion: string | undefined;
  properties: DeviceProperties;
}

const PropertyListSchema = z.object({ propertyList: StringRecordSchema });

function propertiesRequest(
  method: string,
  anonymous: boolean,
): VapixRequest<DevicePropertiesResult> {
  return jsonRpcRequest({
    path: BASIC_DEVICE_INFO_PATH,
    method,
    apiVersion: '1.0',
    callClass: anonymous ? 'probe' : 'normal',
    anonymous,
    data: PropertyListSchema,
    map: ({ apiVersion, data }) => ({ apiVersion, properties: data.propertyList }),
  });
}

/** Every property; needs credentials (AXIS OS 8.40+). */
export function getAllProperties(): VapixRequest<DevicePropertiesResult> {
  return propertiesRequest('getAllProperties', false);
}

/**
 * The anonymous subset (no Architecture/Soc/SocSerialNumber). Older firmware answers with
 * JSON-RPC error 2004, which surfaces as a VapixApiError.
 */
export function getAllUnrestrictedProperties(): VapixRequest<DevicePropertiesResult> {
  return propertiesRequest('getAllUnrestrictedProperties', true);
}
