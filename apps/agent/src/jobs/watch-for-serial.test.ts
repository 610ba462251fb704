import type { CameraSighting } from '@custody/core';
import { describe, expect, it } from 'vitest';
import type { CameraAccess, Observation } from './camera-access.ts';
import { DEFAULT_JOB_TIMING, silentJobLogger, type JobContext } from './job-context.ts';
import { watchForSerial, type WatchOptions } from './watch-for-serial.ts';

const SERIAL = 'ACCC8E000001';
const OLD = 'http://10.0.0.5';
const NEW = 'http://10.0.0.77';

type Look = Partial<Observation>;

const up = (look: Look = {}): Look => ({
  reachable: true,
  serial: SERIAL,
  systemReady: true,
  needsSetup: false,
  ...look,
});
const down: Look = { reachable: false };

/**
 * A job context whose camera looks follow a script per address: each look takes the next entry,
 * the last one repeating; addresses without a script never answer.
 */
function scripted(scripts: Record<string, Look[]>, directoryUrl?: string) {
  const looks = new Map<string, number>();
  const listeners = new Set<(sighting: CameraSighting) => void>();
  const progress: string[] = [];
  let discoveries = 0;
  const cameras = {
    observe(url: string): Promise<Observation> {
      const script = scripts[url] ?? [down];
      const index = looks.get(url) ?? 0;
      looks.set(url, index + 1);
      const look = script[Math.min(index, script.length - 1)] ?? down;
      return Promise.resolve({
        url,
        reachable: false,
        serial: undefined,
        needsSetup: undefined,
        systemReady: undefined,
        bootId: undefined,
        uptimeSeconds: undefined,
        passphrasePolicy: undefined,
        lockedOut: false,
        problem: undefined,
        ...look,
      });
    },
  } as unknown as CameraAccess;
  const context = {
    serial: SERIAL,
    cameras,
    directory: {
      urlOf: () => directoryUrl,
      onSighting: (listener: (sighting: CameraSighting) => void) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      discoverNow: () => {
        discoveries += 1;
        return Promise.resolve();
      },
    },
    timing: { ...DEFAULT_JOB_TIMING, pollIntervalMs: 1, progressEveryMs: 60_000 },
    signal: new AbortController().signal,
    log: silentJobLogger,
    progress: (_step: string, message: string) => {
      progress.push(message);
      return Promise.resolve();
    },
  } as unknown as JobContext;
  return {
    context,
    looks,
    progress,
    listeners,
    get discoveries() {
      return discoveries;
    },
  };
}

const watch = (overrides: Partial<WatchOptions> = {}): WatchOptions => ({
  candidateUrls: [OLD],
  timeoutMs: 300,
  requireFactoryDefault: true,
  requireRestart: false,
  useDirectory: true,
  cause: 'button-reset',
  step: 'watching',
  ...overrides,
});

describe('watchForSerial', () => {
  it('finds the camera in factory-default state at the address discovery reports', async () => {
    const { context, progress } = scripted(
      { [OLD]: [up(), down], [NEW]: [down, down, up({ needsSetup: true })] },
      NEW,
    );
    const result = await watchForSerial(context, watch());
    expect(result).toMatchObject({ found: true, url: NEW, via: 'directory' });
    expect(progress).toContain(`Camera ${SERIAL} stopped answering; waiting for it to come back.`);
  });

  it('waits for systemready before accepting a camera that is back', async () => {
    const { context, looks } = scripted({
      [OLD]: [down, up({ needsSetup: true, systemReady: false }), up({ needsSetup: true })],
    });
    const result = await watchForSerial(context, watch({ useDirectory: false }));
    expect(result).toMatchObject({ found: true, url: OLD, via: 'address' });
    expect(looks.get(OLD)).toBe(3);
  });

  it('diagnoses a camera that went away and came back configured', async () => {
    const { context } = scripted({ [OLD]: [up(), down, up()] });
    const result = await watchForSerial(context, watch({ timeoutMs: 100 }));
    expect(result).toMatchObject({
      found: false,
      diagnosis: 'came-back-configured',
      lastSeenUrl: OLD,
    });
  });

  it('counts a new boot id as having gone away, even when the downtime was missed', async () => {
    const { context } = scripted({ [OLD]: [up({ bootId: 'a' }), up({ bootId: 'b' })] });
    const result = await watchForSerial(context, watch({ timeoutMs: 100 }));
    expect(result).toMatchObject({ found: false, diagnosis: 'came-back-configured' });
  });

  it('diagnoses a camera that never went away as not reset', async () => {
    const { context } = scripted({ [OLD]: [up()] });
    const result = await watchForSerial(context, watch({ timeoutMs: 100 }));
    expect(result).toMatchObject({ found: false, diagnosis: 'still-configured' });
  });

  it('diagnoses something that answers but never finishes starting', async () => {
    const { context } = scripted({
      [OLD]: [up(), down, { reachable: true, systemReady: false, needsSetup: true }],
    });
    const result = await watchForSerial(context, watch({ timeoutMs: 100 }));
    expect(result).toMatchObject({ found: false, diagnosis: 'never-ready' });
  });

  it('diagnoses a camera that never came back, naming where it looked', async () => {
    const { context } = scripted({ [OLD]: [up(), down] });
    const result = await watchForSerial(context, watch({ timeoutMs: 100 }));
    expect(result).toMatchObject({ found: false, diagnosis: 'never-came-back' });
    expect(result.found === false && result.message).toContain(OLD);
  });

  it('cannot confirm factory-default state on firmware without systemready', async () => {
    const { context } = scripted({
      [OLD]: [
        up({ systemReady: undefined, needsSetup: undefined }),
        down,
        up({ systemReady: undefined, needsSetup: undefined }),
      ],
    });
    const result = await watchForSerial(context, watch({ timeoutMs: 100 }));
    expect(result).toMatchObject({ found: false, diagnosis: 'factory-default-unconfirmed' });
  });

  it('accepts a restart only after seeing the camera go away', async () => {
    const { context, looks } = scripted({ [OLD]: [up(), up(), down, up()] });
    const result = await watchForSerial(
      context,
      watch({
        requireFactoryDefault: false,
        requireRestart: true,
        useDirectory: false,
        cause: 'restart',
      }),
    );
    expect(result).toMatchObject({ found: true, url: OLD });
    expect(looks.get(OLD)).toBe(4);
  });

  it('ignores a different camera answering at a candidate address', async () => {
    const { context } = scripted({ [OLD]: [up({ serial: 'ACCC8E999999', needsSetup: true })] });
    const result = await watchForSerial(context, watch({ timeoutMs: 50 }));
    expect(result).toMatchObject({ found: false, diagnosis: 'never-came-back' });
  });

  it('asks for discovery rounds while it waits, and follows the camera to where one finds it', async () => {
    const watched = scripted({ [OLD]: [down], [NEW]: [up({ needsSetup: true })] });
    const pending = watchForSerial(watched.context, watch({ timeoutMs: 2_000 }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(watched.discoveries).toBeGreaterThan(0);
    for (const listener of watched.listeners) {
      listener({
        serial: SERIAL,
        url: `${NEW}/`,
        address: '10.0.0.77',
        source: 'scan',
        model: null,
        productName: null,
        firmware: null,
        hardwareId: null,
        mac: null,
        accessState: null,
        seenAt: new Date().toISOString(),
      });
    }
    expect(await pending).toMatchObject({ found: true, url: NEW, via: 'directory' });
  });

  it('asks for no discovery when it only watches given addresses', async () => {
    const watched = scripted({ [OLD]: [up()] });
    await watchForSerial(watched.context, watch({ timeoutMs: 50, useDirectory: false }));
    expect(watched.discoveries).toBe(0);
  });
});
