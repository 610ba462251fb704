import { getAllUnrestrictedProperties } from './apis/basic-device-info.ts';
import { listParams } from './apis/param-cgi.ts';
import { addUser } from './apis/pwdgrp.ts';
import { SYSTEM_READY_PATH, systemReady } from './apis/system-ready.ts';
import type { Credentials } from './types.ts';
import type { VapixClient } from './vapix-client.ts';
import {
  VapixApiError,
  VapixAuthError,
  VapixCgiError,
  VapixPreconditionError,
  VapixUnsupportedError,
} from './vapix-error.ts';
import { serialFromRealm } from './www-authenticate.ts';

export interface CreateFirstAdminOptions {
  signal?: AbortSignal;
  /** Refuse unless the anonymous properties report this serial (reference §4.3 safety checks). */
  expectedSerial?: string;
}

export interface FirstAdminResult {
  username: string;
  /**
   * True when firmware before 11.5 insisted on `root` first: `root` was created with the same
   * password and the requested user added through it.
   */
  createdRoot: boolean;
}

const ADMIN_ROLES = ['admin', 'operator', 'viewer', 'ptz'] as const;

/**
 * Why firmware without systemready gets no anonymous first admin: `needsetup` is the only
 * factory-default signal the reference gives (§4.3, "needsetup decides the state, not 401 vs
 * 200"), and systemready exists from 9.50 (§7.1). 5.x also lists `System.RootPwdSet`, but no
 * capture shows its value on a factory-defaulted device or whether it can be read without
 * credentials there, so it is not taken as proof either.
 */
const NO_SYSTEMREADY =
  'the device has no systemready.cgi (firmware before 9.50, such as 5.x), so it cannot confirm ' +
  'that it is in factory-default state, and no account is created anonymously on an ' +
  'unconfirmed device. Set the first administrator password in the camera web interface ' +
  '(over HTTPS where offered), then add the camera with that account.';

async function assertNeedsSetup(
  client: VapixClient,
  signal: AbortSignal | undefined,
): Promise<void> {
  let ready;
  try {
    ready = await client.send(systemReady(), { credentials: null, signal });
  } catch (error) {
    if (error instanceof VapixUnsupportedError) {
      throw new VapixUnsupportedError(NO_SYSTEMREADY, {
        method: 'POST',
        path: SYSTEM_READY_PATH,
        cause: error,
      });
    }
    throw error;
  }
  if (ready.needSetup !== true) {
    throw new VapixPreconditionError(
      'the device is not in factory-default state (needsetup is not "yes")',
      {
        method: 'POST',
        path: SYSTEM_READY_PATH,
      },
    );
  }
}

/**
 * The serial the device states without credentials: its unrestricted properties, or, where
 * firmware refuses (9.80) or lacks (5.51) that method, the `AXIS_<serial>` realm of the 401
 * a protected read gets (reference §2). Nothing secret is sent either way.
 */
async function reportedSerial(
  client: VapixClient,
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  try {
    // 9.80 answers this anonymous method with 401 (realm) or error 2004, 5.51 with 404.
    const { properties } = await client.send(getAllUnrestrictedProperties(), {
      credentials: null,
      signal,
    });
    if (properties.SerialNumber !== undefined) return properties.SerialNumber;
  } catch (error) {
    if (error instanceof VapixAuthError) return serialFromRealm(client.lastRealm());
    if (!(error instanceof VapixApiError || error instanceof VapixUnsupportedError)) throw error;
  }
  try {
    const list = await client.send(listParams('root.Properties.System.SerialNumber'), {
      credentials: null,
      signal,
    });
    return list.params['Properties.System.SerialNumber'];
  } catch (error) {
    if (!(error instanceof VapixAuthError)) throw error;
    return serialFromRealm(client.lastRealm());
  }
}

/**
 * Creates the first administrator on a factory-defaulted device, anonymously as only that
 * state allows (reference §4.3): `grp=root`, `sgrp=admin:operator:viewer:ptz`. `needsetup` is
 * re-read right before every anonymous write. Firmware that answers "not a valid initial
 * admin user" gets `root` first, then the requested user added while authenticated as root.
 * Firmware without systemready (before 9.50) is refused with VAPIX_UNSUPPORTED before anything
 * is written: nothing there proves the factory-default state.
 */
export async function createFirstAdmin(
  client: VapixClient,
  admin: Credentials,
  options: CreateFirstAdminOptions = {},
): Promise<FirstAdminResult> {
  const { signal } = options;
  if (options.expectedSerial !== undefined) {
    const serial = await reportedSerial(client, signal);
    if (serial?.toUpperCase() !== options.expectedSerial.toUpperCase()) {
      throw new VapixPreconditionError('the device does not report the expected serial number', {
        method: 'POST',
        path: '/axis-cgi/basicdeviceinfo.cgi',
      });
    }
  }

  await assertNeedsSetup(client, signal);
  const firstAdmin = (username: string) =>
    addUser({ username, password: admin.password, group: 'root', roles: ADMIN_ROLES });
  try {
    await client.send(firstAdmin(admin.username), { credentials: null, signal });
    return { username: admin.username, createdRoot: admin.username === 'root' };
  } catch (error) {
    const rootRequired =
      error instanceof VapixCgiError && /not a valid initial admin user/i.test(error.cgiMessage);
    if (!rootRequired || admin.username === 'root') throw error;
  }

  await assertNeedsSetup(client, signal);
  await client.send(firstAdmin('root'), { credentials: null, signal });
  await client.send(
    addUser({ username: admin.username, password: admin.password, roles: ADMIN_ROLES }),
    {
      credentials: { username: 'root', password: admin.password },
      signal,
    },
  );
  return { username: admin.username, createdRoot: true };
}
