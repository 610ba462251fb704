import type { DeviceProperties } from './apis/basic-device-info.ts';
import type { ParamList } from './apis/param-cgi.ts';

export interface DeviceIdentity {
  /** 12 upper-case hex digits; equal to the primary MAC without separators (reference §1.5). */
  serial: string;
  /** `AC:CC:8E:12:34:56`, derived from the serial. */
  mac: string;
  /** Product number, e.g. `P3265-V` (`ProdNbr`). */
  model: string | undefined;
  /** `ProdFullName`, e.g. `AXIS P3265-V Dome Camera`. */
  productName: string | undefined;
  firmware: string | undefined;
  hardwareId: string | undefined;
}

/** `accc8e-12:34:56` → `ACCC8E123456`; undefined unless it is 12 hex digits. */
export function normalizeSerial(value: string | undefined): string | undefined {
  const compact = (value ?? '').replace(/[\s:.-]/g, '').toUpperCase();
  return /^[0-9A-F]{12}$/.test(compact) ? compact : undefined;
}

export function macFromSerial(serial: string): string {
  return serial.match(/.{2}/g)?.join(':') ?? serial;
}

function identity(
  serialValue: string | undefined,
  fields: Omit<DeviceIdentity, 'serial' | 'mac'>,
): DeviceIdentity | null {
  const serial = normalizeSerial(serialValue);
  if (serial === undefined) return null;
  return { serial, mac: macFromSerial(serial), ...fields };
}

export function identityFromProperties(properties: DeviceProperties): DeviceIdentity | null {
  return identity(properties.SerialNumber, {
    model: properties.ProdNbr,
    productName: properties.ProdFullName,
    firmware: properties.Version,
    hardwareId: properties.HardwareID,
  });
}

/** The same identity from param.cgi `Brand` and `Properties` groups (5.x, reference §3.2). */
export function identityFromParams(list: ParamList): DeviceIdentity | null {
  const { params } = list;
  return identity(params['Properties.System.SerialNumber'], {
    model: params['Brand.ProdNbr'],
    productName: params['Brand.ProdFullName'],
    firmware: params['Properties.Firmware.Version'],
    hardwareId: params['Properties.System.HardwareID'],
  });
}
