import type { CommandParams } from '@custody/core';
import type { Credentials } from '@custody/vapix';
import { describe, expect, it } from 'vitest';
import type { CameraAccess, Observation } from '../camera-access.ts';
import { DEFAULT_JOB_TIMING, silentJobLogger, type JobContext } from '../job-context.ts';
import { isPosixTimeZone, runProvision } from './provision-verb.ts';

const SERIAL = 'ACCC8E000001';
const URL = 'http://10.0.0.5';

function contextFor(
  policy: string | undefined,
  secrets: Record<string, Credentials>,
  removeAccounts: string[] = [],
) {
  const sent: string[] = [];
  const observation: Observation = {
    url: URL,
    reachable: true,
    serial: SERIAL,
    needsSetup: true,
    systemReady: true,
    bootId: undefined,
    uptimeSeconds: undefined,
    passphrasePolicy: policy,
    lockedOut: false,
    problem: undefined,
  };
  const cameras = {
    locate: () => Promise.resolve({ ok: true, url: URL, observation }),
    client: () => {
      sent.push('client');
      throw new Error('no camera calls expected');
    },
    checkLogin: () => {
      sent.push('login');
      throw new Error('no camera calls expected');
    },
  } as unknown as CameraAccess;
  const params: CommandParams<'provision'> = {
    admin: 'admin',
    serviceAccount: 'service',
    removeAccounts,
  };
  const context = {
    commandId: 'c',
    verb: 'provision',
    serial: SERIAL,
    params,
    url: URL,
    cameras,
    directory: { urlOf: () => undefined, onSighting: () => () => undefined },
    factoryDefaultUrls: [],
    timing: DEFAULT_JOB_TIMING,
    signal: new AbortController().signal,
    log: silentJobLogger,
    secret: (ref: string) => secrets[ref],
    progress: () => Promise.resolve(),
    now: () => new Date(),
    sleep: () => Promise.resolve(),
  } as unknown as JobContext<'provision'>;
  return { context, sent };
}

describe('runProvision', () => {
  it('refuses passwords that break the camera passphrase policy before creating anything', async () => {
    const weak = 'Short-1';
    const { context, sent } = contextFor('complex', {
      admin: { username: 'custody', password: 'Long-Enough-Admin-42' },
      service: { username: 'custodysvc', password: weak },
    });
    const outcome = await runProvision(context);
    expect(sent).toEqual([]);
    expect(outcome).toMatchObject({
      outcome: 'failed',
      error: {
        code: 'password-policy',
        message: expect.stringContaining(
          '"service" does not meet the camera\'s "complex"',
        ) as string,
      },
    });
    expect(JSON.stringify(outcome)).not.toContain(weak);
  });

  it('checks the length policy too', async () => {
    const { context } = contextFor('length', {
      admin: { username: 'custody', password: 'Twelve-Chars' },
      service: { username: 'custodysvc', password: 'a-long-enough-passphrase' },
    });
    const outcome = await runProvision(context);
    expect(outcome).toMatchObject({
      outcome: 'failed',
      error: { code: 'password-policy', message: expect.stringContaining('at least 15') as string },
    });
  });

  it('refuses to remove an account the same command provisions, before touching the camera', async () => {
    const { context, sent } = contextFor(
      undefined,
      {
        admin: { username: 'custody', password: 'Long-Enough-Admin-42' },
        service: { username: 'custodysvc', password: 'Service-Long-Enough-7' },
      },
      ['olduser', 'custodysvc'],
    );
    const outcome = await runProvision(context);
    expect(outcome).toMatchObject({
      outcome: 'failed',
      error: { code: 'account-kept', message: expect.stringContaining('custodysvc') as string },
    });
    expect(sent).toEqual([]);
  });

  describe('with a DHCP plan', () => {
    const ADMIN = { username: 'custody', password: 'Long-Enough-Admin-42' };

    /** A configured camera that keeps answering at URL; its network info follows `modes`. */
    function dhcpCamera(modes: ('static' | 'dhcp')[], timeoutMs = 2_000) {
      let reads = 0;
      const sent: string[] = [];
      const observation: Observation = {
        url: URL,
        reachable: true,
        serial: SERIAL,
        needsSetup: false,
        systemReady: true,
        bootId: 'boot-1',
        uptimeSeconds: 100,
        passphrasePolicy: undefined,
        lockedOut: false,
        problem: undefined,
      };
      const client = {
        send: (request: { body?: { value?: { method?: string } } }) => {
          const method = request.body?.value?.method ?? 'unknown';
          sent.push(method);
          if (method !== 'getNetworkInfo') return Promise.resolve(undefined);
          const mode = modes[Math.min(reads, modes.length - 1)] ?? 'static';
          reads += 1;
          return Promise.resolve({
            apiVersion: '1.0',
            system: undefined,
            devices: [
              {
                name: 'eth0',
                IPv4: {
                  configurationMode: mode,
                  addresses: [{ address: '10.0.0.5', prefixLength: 24, origin: mode }],
                },
              },
            ],
          });
        },
        close: () => Promise.resolve(),
      };
      const cameras = {
        locate: () => Promise.resolve({ ok: true, url: URL, observation }),
        observe: (url: string) => Promise.resolve({ ...observation, url }),
        client: () => client,
        checkLogin: () => Promise.resolve({ outcome: 'works', isAdmin: true }),
      } as unknown as CameraAccess;
      const params: CommandParams<'provision'> = {
        admin: 'admin',
        serviceAccount: 'admin',
        network: { mode: 'dhcp' },
        removeAccounts: [],
      };
      const progress: string[] = [];
      const context = {
        commandId: 'c',
        verb: 'provision',
        serial: SERIAL,
        params,
        url: URL,
        cameras,
        directory: {
          urlOf: () => undefined,
          onSighting: () => () => undefined,
          discoverNow: () => Promise.resolve(),
        },
        factoryDefaultUrls: [],
        timing: {
          ...DEFAULT_JOB_TIMING,
          pollIntervalMs: 1,
          addressChangeTimeoutMs: timeoutMs,
          progressEveryMs: 60_000,
        },
        signal: new AbortController().signal,
        log: silentJobLogger,
        secret: () => ADMIN,
        progress: (_step: string, message: string) => {
          progress.push(message);
          return Promise.resolve();
        },
        now: () => new Date(),
        sleep: (ms: number) => new Promise((resolve) => setTimeout(resolve, ms)),
      } as unknown as JobContext<'provision'>;
      return { context, sent, progress, reads: () => reads };
    }

    it('waits until the camera runs on DHCP instead of trusting its old address', async () => {
      const camera = dhcpCamera(['static', 'static', 'static', 'dhcp']);
      const outcome = await runProvision(camera.context);
      expect(outcome).toMatchObject({ outcome: 'succeeded' });
      expect(camera.reads()).toBe(4);
      expect(camera.sent.filter((method) => method === 'setIPv4AddressConfiguration')).toHaveLength(
        1,
      );
    });

    it('fails when the camera still runs its old configuration after the timeout', async () => {
      const camera = dhcpCamera(['static'], 50);
      const outcome = await runProvision(camera.context);
      expect(outcome).toMatchObject({
        outcome: 'failed',
        error: { code: 'address-change-pending' },
      });
      expect(camera.reads()).toBeGreaterThan(1);
    });
  });
});

describe('isPosixTimeZone', () => {
  it('tells POSIX zones, DST rules with transition times included, from IANA names', () => {
    for (const zone of ['UTC0', 'CET-1CEST,M3.5.0,M10.5.0/3', '<+0330>-3:30', 'EST5EDT']) {
      expect(isPosixTimeZone(zone), zone).toBe(true);
    }
    for (const zone of ['Europe/Paris', 'America/Argentina/Buenos_Aires', 'Etc/GMT+1', 'UTC']) {
      expect(isPosixTimeZone(zone), zone).toBe(false);
    }
  });
});
