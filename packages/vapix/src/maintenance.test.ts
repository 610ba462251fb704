import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { parseParamList } from './apis/param-cgi.ts';
import { detectCapabilities } from './detect-capabilities.ts';
import { API_DISCOVERY_404_5_51, GET_API_LIST_12_9 } from './fixtures/api-discovery.ts';
import { UNRESTRICTED_2004_ERROR } from './fixtures/basic-device-info.ts';
import {
  FWMGR_EMPTY_OK,
  FWMGR_ERROR_405,
  FWMGR_ERROR_421,
  LEGACY_FACTORY_DEFAULT_HTML,
  LEGACY_RESTART_HTML,
} from './fixtures/maintenance.ts';
import { NETWORK_SETTER_OK } from './fixtures/network-and-time.ts';
import { BRAND_AND_PROPERTIES_5_51, PROPERTIES_9_80 } from './fixtures/param-cgi.ts';
import { SYSTEM_READY_10_12, SYSTEM_READY_12 } from './fixtures/system-ready.ts';
import { factoryDefaultWithFallback, restartWithFallback } from './maintenance.ts';
import { setIPv4WithFallback, subnetMaskOf } from './set-ipv4-with-fallback.ts';
import {
  createMockTransport,
  type MockTransport,
  type SentRequest,
} from './test-support/mock-transport.ts';
import type { VapixClient } from './vapix-client.ts';
import { VapixApiError, VapixAuthError } from './vapix-error.ts';
import { waitForRestart, type RestartState } from './wait-for-restart.ts';

let transport: MockTransport;
let vapix: VapixClient;
let sent: SentRequest[];

beforeEach(() => {
  transport = createMockTransport();
  ({ vapix, sent } = transport);
});

afterEach(() => transport.close());

function reply(
  path: string,
  status: number,
  body: string,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): void {
  transport.reply({ path, status, body, headers });
}

function replyDown(path: string): void {
  transport.replyWithError(
    path,
    'POST',
    Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
  );
}

const html = { 'content-type': 'text/html' };
const FWMGR = '/axis-cgi/firmwaremanagement.cgi';

describe('factoryDefaultWithFallback and restartWithFallback (reference §5.1, §5.2)', () => {
  it('uses firmwaremanagement.cgi when it answers', async () => {
    reply(FWMGR, 200, FWMGR_EMPTY_OK);
    expect(await factoryDefaultWithFallback(vapix, 'soft')).toEqual({ via: 'fwmgr' });
    expect(sent.map((request) => request.path)).toEqual([FWMGR]);
  });

  it('falls back to hardfactorydefault.cgi when fwmgr is absent (404)', async () => {
    reply(FWMGR, 404, 'Not Found', html);
    reply('/axis-cgi/hardfactorydefault.cgi', 200, LEGACY_FACTORY_DEFAULT_HTML, html);
    expect(await factoryDefaultWithFallback(vapix, 'hard')).toEqual({ via: 'legacy' });
    expect(sent.map((request) => `${request.method} ${request.path}`)).toEqual([
      `POST ${FWMGR}`,
      'GET /axis-cgi/hardfactorydefault.cgi',
    ]);
  });

  it('falls back to factorydefault.cgi when fwmgr does not know the method (405)', async () => {
    reply(FWMGR, 200, FWMGR_ERROR_405);
    reply('/axis-cgi/factorydefault.cgi', 200, LEGACY_FACTORY_DEFAULT_HTML, html);
    expect(await factoryDefaultWithFallback(vapix, 'soft')).toEqual({ via: 'legacy' });
  });

  it('does not fall back on other fwmgr errors', async () => {
    reply(FWMGR, 200, FWMGR_ERROR_421);
    await expect(factoryDefaultWithFallback(vapix, 'soft')).rejects.toBeInstanceOf(VapixApiError);
    expect(sent).toHaveLength(1);
  });

  it('restarts through restart.cgi when fwmgr is absent', async () => {
    reply(FWMGR, 404, 'Not Found', html);
    reply('/axis-cgi/restart.cgi', 200, LEGACY_RESTART_HTML, html);
    expect(await restartWithFallback(vapix)).toEqual({ via: 'legacy' });
    expect(JSON.parse(sent[0]?.body ?? '{}')).toMatchObject({ method: 'reboot' });
  });
});

describe('setIPv4WithFallback (reference §6.5)', () => {
  it('uses network_settings.cgi when present', async () => {
    reply('/axis-cgi/network_settings.cgi', 200, NETWORK_SETTER_OK);
    expect(await setIPv4WithFallback(vapix, { mode: 'dhcp' })).toEqual({ via: 'network-settings' });
  });

  it('writes Network.* parameters with BootProto=none when network_settings.cgi is absent', async () => {
    reply('/axis-cgi/network_settings.cgi', 404, 'Not Found', html);
    reply('/axis-cgi/param.cgi', 200, 'OK', { 'content-type': 'text/plain' });
    const result = await setIPv4WithFallback(vapix, {
      mode: 'static',
      address: '10.0.0.100',
      prefixLength: 24,
      defaultRouter: '10.0.0.1',
    });
    expect(result).toEqual({ via: 'param-cgi' });
    expect(Object.fromEntries(new URLSearchParams(sent[1]?.body))).toEqual({
      action: 'update',
      'root.Network.BootProto': 'none',
      'root.Network.IPAddress': '10.0.0.100',
      'root.Network.SubnetMask': '255.255.255.0',
      'root.Network.Broadcast': '10.0.0.255',
      'root.Network.DefaultRouter': '10.0.0.1',
    });
  });

  it('switches back to DHCP with BootProto=dhcp', async () => {
    reply('/axis-cgi/network_settings.cgi', 404, 'Not Found', html);
    reply('/axis-cgi/param.cgi', 200, 'OK', { 'content-type': 'text/plain' });
    await setIPv4WithFallback(vapix, { mode: 'dhcp' });
    expect(Object.fromEntries(new URLSearchParams(sent[1]?.body))).toEqual({
      action: 'update',
      'root.Network.BootProto': 'dhcp',
    });
  });

  it('computes subnet masks from prefix lengths', () => {
    expect(subnetMaskOf(16)).toBe('255.255.0.0');
    expect(subnetMaskOf(32)).toBe('255.255.255.255');
    expect(subnetMaskOf(0)).toBe('0.0.0.0');
  });
});

describe('detectCapabilities (reference §7.2)', () => {
  it('takes ids from apidiscovery and extras from Properties without probing', async () => {
    reply('/axis-cgi/apidiscovery.cgi', 200, GET_API_LIST_12_9);
    reply('/axis-cgi/param.cgi', 200, PROPERTIES_9_80, { 'content-type': 'text/plain' });
    const capabilities = await detectCapabilities(vapix);
    expect(capabilities).toEqual([
      'api-discovery',
      'basic-device-info',
      'fwmgr',
      'https',
      'network-settings',
      'param-cgi',
      'systemready',
      'time-service',
      'user-management',
    ]);
    expect(sent).toHaveLength(2);
  });

  it('falls back to Properties and probes on 5.x, reading 404 as unsupported', async () => {
    reply('/axis-cgi/apidiscovery.cgi', 404, API_DISCOVERY_404_5_51, html);
    reply('/axis-cgi/param.cgi', 200, BRAND_AND_PROPERTIES_5_51, { 'content-type': 'text/plain' });
    reply('/axis-cgi/systemready.cgi', 404, 'Not Found', html);
    reply('/axis-cgi/basicdeviceinfo.cgi', 404, 'Not Found', html);
    expect(await detectCapabilities(vapix)).toEqual(['https', 'param-cgi', 'user-management']);
  });

  it('counts basicdeviceinfo as present when it answers error 2004', async () => {
    reply('/axis-cgi/apidiscovery.cgi', 404, 'Not Found', html);
    reply('/axis-cgi/param.cgi', 404, 'Not Found', html);
    reply('/axis-cgi/systemready.cgi', 200, SYSTEM_READY_10_12);
    reply('/axis-cgi/basicdeviceinfo.cgi', 200, UNRESTRICTED_2004_ERROR);
    expect(await detectCapabilities(vapix)).toEqual(['basic-device-info', 'systemready']);
  });

  it('reuses the Properties list and anonymous answers the caller already has', async () => {
    reply('/axis-cgi/apidiscovery.cgi', 200, GET_API_LIST_12_9);
    const known = {
      properties: parseParamList(PROPERTIES_9_80),
      systemReady: true,
      basicDeviceInfo: true,
    };
    expect(await detectCapabilities(vapix, { known })).toContain('fwmgr');
    expect(sent.map((request) => request.path)).toEqual(['/axis-cgi/apidiscovery.cgi']);
  });

  it('skips apidiscovery where basicdeviceinfo is absent and Properties do not list it (5.x)', async () => {
    const known = {
      properties: parseParamList(BRAND_AND_PROPERTIES_5_51),
      systemReady: false,
      basicDeviceInfo: false,
    };
    expect(await detectCapabilities(vapix, { known })).toEqual([
      'https',
      'param-cgi',
      'user-management',
    ]);
    expect(sent).toHaveLength(0);
  });

  it('still asks apidiscovery when the Properties say it exists, whatever else is known', async () => {
    reply('/axis-cgi/apidiscovery.cgi', 200, GET_API_LIST_12_9);
    const known = { properties: parseParamList(PROPERTIES_9_80), basicDeviceInfo: false };
    expect(await detectCapabilities(vapix, { known })).toContain('api-discovery');
    expect(sent).toHaveLength(1);
  });

  it('stops at an authentication failure instead of trying other sources', async () => {
    reply('/axis-cgi/apidiscovery.cgi', 401, '', {
      'www-authenticate': 'Digest realm="AXIS_ACCC12345678", nonce="n", qop="auth"',
    });
    await expect(detectCapabilities(vapix)).rejects.toBeInstanceOf(VapixAuthError);
    expect(sent).toHaveLength(1);
  });
});

describe('waitForRestart (reference §5.3)', () => {
  const READY = '/axis-cgi/systemready.cgi';
  const instant = { intervalMs: 0, sleep: () => Promise.resolve() };
  const readyWith = (data: Record<string, string>): string =>
    JSON.stringify({ apiVersion: '1.4', method: 'systemready', data });

  it('is done when the bootid changes and systemready is yes', async () => {
    reply(READY, 200, SYSTEM_READY_12);
    reply(
      READY,
      200,
      readyWith({ systemready: 'no', needsetup: 'no', uptime: '3', bootid: 'new-boot' }),
    );
    reply(
      READY,
      200,
      readyWith({ systemready: 'yes', needsetup: 'no', uptime: '9', bootid: 'new-boot' }),
    );
    const result = await waitForRestart(
      vapix,
      { bootId: '93bfbb4a-9c3f-4075-a0c5-8702dfccfc04', uptimeSeconds: 12484 },
      instant,
    );
    expect(result.evidence).toBe('bootid-changed');
    expect(result.polls).toBe(3);
    expect(result.ready.uptimeSeconds).toBe(9);
  });

  it('is done when uptime drops even if the bootid is not reported', async () => {
    reply(READY, 200, readyWith({ systemready: 'yes', uptime: '5' }));
    const result = await waitForRestart(vapix, { uptimeSeconds: 500 }, instant);
    expect(result.evidence).toBe('uptime-decreased');
  });

  it('sees 10.12 go down and come back, then waits for systemready yes', async () => {
    const states: RestartState[] = [];
    reply(READY, 200, SYSTEM_READY_10_12);
    replyDown(READY);
    replyDown(READY);
    reply(READY, 200, readyWith({ systemready: 'no', needsetup: 'no' }));
    reply(READY, 200, SYSTEM_READY_10_12);
    const result = await waitForRestart(
      vapix,
      {},
      { ...instant, onStateChange: (state) => states.push(state) },
    );
    expect(result).toMatchObject({ evidence: 'went-down', polls: 5 });
    expect(states).toEqual(['waiting-to-come-back', 'waiting-to-be-ready', 'ready']);
  });

  it('gives up with VAPIX_TIMEOUT when the device never restarts', async () => {
    let time = 0;
    for (let i = 0; i < 4; i++) reply(READY, 200, SYSTEM_READY_12);
    const error: unknown = await waitForRestart(
      vapix,
      { bootId: '93bfbb4a-9c3f-4075-a0c5-8702dfccfc04' },
      {
        intervalMs: 1_000,
        timeoutMs: 3_000,
        now: () => time,
        sleep: (ms) => {
          time += ms;
          return Promise.resolve();
        },
      },
    ).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'VAPIX_TIMEOUT' });
    expect(String(error)).toContain('waiting-to-go-down');
    expect(sent).toHaveLength(4);
  });

  it('says at once that a device without systemready cannot be watched', async () => {
    reply(READY, 404, 'Not Found', html);
    await expect(waitForRestart(vapix, {}, instant)).rejects.toMatchObject({
      code: 'VAPIX_UNSUPPORTED',
    });
  });

  it('says so as soon as a device without systemready answers again after its downtime', async () => {
    replyDown(READY);
    replyDown(READY);
    reply(READY, 404, 'Not Found', html);
    for (let i = 0; i < 5; i++) reply(READY, 404, 'Not Found', html);
    await expect(waitForRestart(vapix, {}, instant)).rejects.toMatchObject({
      code: 'VAPIX_UNSUPPORTED',
    });
    // `sent` records answered requests: the first 404 ends the wait.
    expect(sent).toHaveLength(1);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      waitForRestart(vapix, {}, { ...instant, signal: controller.signal }),
    ).rejects.toMatchObject({
      code: 'VAPIX_ABORTED',
    });
    expect(sent).toHaveLength(0);
  });
});
