import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createSimulator,
  type CameraUserInput,
  type FirmwareId,
  type SimulatedCamera,
  type Simulator,
} from '@custody/simulator';
import { createAttemptBudget, type Credentials } from '@custody/vapix';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CameraDirectory } from '../../apps/agent/src/cameras/camera-directory.ts';
import { scanRange } from '../../apps/agent/src/discovery/range-scan.ts';
import { generateKeyPair, signText } from '../../apps/agent/src/identity/ed25519.ts';
import {
  createCommandExecutor,
  type CommandExecutor,
} from '../../apps/agent/src/jobs/command-executor.ts';
import type {
  CommandMessage,
  CommandProgressBody,
  CommandReport,
  CommandResultBody,
} from '../../apps/agent/src/jobs/command-report.ts';
import { pinnedTls, type JobVapixOptions } from '../../apps/agent/src/jobs/camera-access.ts';
import {
  createMemoryNonceJournal,
  createMemoryResultStore,
} from '../../apps/agent/src/store/testing/memory-stores.ts';
import { useTempDirs } from '../../apps/agent/src/store/testing/temp-dirs.ts';
import { openTlsPinStore } from '../../apps/agent/src/store/tls-pin-store.ts';
// The tests package does not depend on @custody/core; its source is imported like the agent's.
import { commandSigningText, type CameraSighting } from '@custody/core';
import {
  fastSimulator,
  freePort,
  httpsUrlOf,
  httpUrlOf,
  isolated,
  until,
} from './support/simulated-site.ts';

/*
 * The command executor with its real verbs against simulated cameras over real sockets. Every
 * camera lives on its own address of 127.89.0.0/26 on one shared HTTP port, so a hard factory
 * default that moves a camera is followed by a range scan, as discovery would on site.
 */

const SITE_BASE = '127.89.0.1';
const SITE_HOSTS = Array.from({ length: 62 }, (_, index) => `127.89.0.${index + 1}`);

// Distinctive passwords: after the suite, none may appear in any report or log line.
const OLD_ADMIN: Credentials = { username: 'root', password: 'Old-Admin-Quokka-4417' };
const NEW_ADMIN: Credentials = { username: 'custody', password: 'New-Admin-Narwhal-8823' };
const SERVICE: Credentials = { username: 'custodysvc', password: 'Service-Pangolin-5531' };
const VMS: Credentials = { username: 'vms', password: 'Vms-Axolotl-2290-Key' };
const WRONG: Credentials = { username: 'root', password: 'Wrong-Guess-Okapi-6602' };
const ROTATED: Credentials = { username: 'root', password: 'Rotated-Tapir-3319-Now' };
const SECRETS = [OLD_ADMIN, NEW_ADMIN, SERVICE, VMS, WRONG, ROTATED].map(
  (secret) => secret.password,
);

const CONFIGURED: CameraUserInput[] = [
  { ...OLD_ADMIN, role: 'admin' },
  { username: 'vms', password: 'Vms-Old-Pass-1', role: 'operator' },
];

const SERVER = generateKeyPair();
const AGENT_ID = randomUUID();
const SITE_ID = randomUUID();

let simulator: Simulator;
let port: number;

beforeAll(async () => {
  port = await freePort(SITE_BASE);
  simulator = await createSimulator({
    ...fastSimulator(SITE_BASE),
    ports: { http: port },
    controlPort: 0,
  });
});

afterAll(async () => {
  await simulator.close();
});

/** Discovery for the test site: a range scan, run while somebody listens for sightings. */
function scanningDirectory(): CameraDirectory & { rounds(): number } {
  const urls = new Map<string, string>();
  const listeners = new Set<(sighting: CameraSighting) => void>();
  let rounds = 0;
  let scanning = false;
  const loop = async () => {
    scanning = true;
    while (listeners.size > 0) {
      const { sightings } = await scanRange({
        hosts: SITE_HOSTS,
        ports: [port],
        timeoutMs: 1_000,
        concurrency: 16,
      });
      rounds += 1;
      for (const found of sightings) {
        const url = `http://${found.host}:${found.port}`;
        urls.set(found.serial, url);
        const sighting: CameraSighting = {
          serial: found.serial,
          url,
          address: found.host,
          source: 'scan',
          model: found.model ?? null,
          productName: found.productName ?? null,
          firmware: found.firmware ?? null,
          hardwareId: null,
          mac: null,
          accessState: null,
          seenAt: new Date().toISOString(),
        };
        for (const listener of listeners) listener(sighting);
      }
      await sleep(20);
    }
    scanning = false;
  };
  return {
    urlOf: (serial) => urls.get(serial),
    // The loop below already scans for as long as anyone listens.
    discoverNow: () => Promise.resolve(),
    onSighting(listener) {
      listeners.add(listener);
      if (!scanning) void loop();
      return () => listeners.delete(listener);
    },
    rounds: () => rounds,
  };
}

interface Agent {
  executor: CommandExecutor;
  reports: CommandReport[];
  logs: string[];
  directory: ReturnType<typeof scanningDirectory>;
  run(payload: Payload): Promise<CommandResultBody>;
}

function agent(
  options: { maxFailures?: number; tls?: Pick<JobVapixOptions, 'tlsFor' | 'onCertificate'> } = {},
): Agent {
  const reports: CommandReport[] = [];
  const logs: string[] = [];
  const directory = scanningDirectory();
  const record = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    const line = `${level} ${message} ${JSON.stringify(fields ?? {})}`;
    logs.push(line);
  };
  const { sessions, limiter } = isolated();
  const executor = createCommandExecutor({
    identity: { agentId: AGENT_ID, siteId: SITE_ID, commandSigningKey: SERVER.publicKey },
    nonces: createMemoryNonceJournal(),
    results: createMemoryResultStore(),
    directory,
    report: (body) => {
      reports.push(body);
      return Promise.resolve();
    },
    budget: createAttemptBudget({ maxFailures: options.maxFailures ?? 3 }),
    vapix: { sessions, limiter, ...options.tls },
    logger: { info: record('info'), warn: record('warn'), error: record('error') },
    timing: {
      pollIntervalMs: 10,
      restartTimeoutMs: 10_000,
      resetTimeoutMs: 15_000,
      addressChangeTimeoutMs: 10_000,
      progressEveryMs: 500,
      // These tests read each verb's progress, which a real agent holds back for its first second.
      progressHoldMs: 0,
    },
    factoryDefaultUrls: [],
  });
  return {
    executor,
    reports,
    logs,
    directory,
    async run(payload) {
      await executor.handle(messageOf(payload));
      const result = reports.findLast(
        (report): report is CommandResultBody =>
          report.type === 'command-result' && report.commandId === payload.commandId,
      );
      if (result === undefined) throw new Error(`no result for ${String(payload.verb)}`);
      return result;
    },
  };
}

type Payload = Record<string, unknown> & { commandId: string; verb: string };

function command(
  camera: SimulatedCamera,
  verb: string,
  params: Record<string, unknown>,
  secrets: Record<string, Credentials>,
  extra: Record<string, unknown> = {},
): Payload {
  const now = Date.now();
  return {
    commandId: randomUUID(),
    agentId: AGENT_ID,
    siteId: SITE_ID,
    serial: camera.serial,
    url: httpUrlOf(camera),
    verb,
    params,
    secrets,
    approval: null,
    issuedAt: new Date(now - 1_000).toISOString(),
    expiresAt: new Date(now + 600_000).toISOString(),
    nonce: randomBytes(16).toString('base64'),
    ...extra,
  };
}

function approvalFor(camera: SimulatedCamera, action: string) {
  return {
    grantId: randomUUID(),
    action,
    serial: camera.serial,
    siteId: SITE_ID,
    agentId: AGENT_ID,
    expiresAt: new Date(Date.now() + 600_000).toISOString(),
  };
}

function messageOf(payload: Record<string, unknown>): CommandMessage {
  return {
    v: 1,
    id: randomUUID(),
    type: 'command',
    sentAt: new Date().toISOString(),
    payload,
    signature: signText(SERVER.privateKeyPem, commandSigningText(payload)),
  };
}

function progressOf(reports: CommandReport[], commandId: string): CommandProgressBody[] {
  return reports.filter(
    (report): report is CommandProgressBody =>
      report.type === 'command-progress' && report.commandId === commandId,
  );
}

async function control(camera: SimulatedCamera, action: string, body: unknown = {}): Promise<void> {
  const response = await fetch(`${simulator.controlUrl}/cameras/${camera.serial}/${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
}

const configured = (firmware: FirmwareId) => simulator.addCamera({ firmware, users: CONFIGURED });

describe.each(['5.51', '9.80', '10.12', '12.x'] as const)('jobs on a %s camera', (firmware) => {
  it('probes with a delivered credential and reports identity and access state', async () => {
    const camera = await configured(firmware);
    const result = await agent().run(
      command(camera, 'probe', { credential: 'admin' }, { admin: OLD_ADMIN }),
    );
    expect(result).toMatchObject({
      outcome: 'succeeded',
      replayed: false,
      result: {
        accessState: 'authenticated',
        identity: { serial: camera.serial, model: camera.identity.model },
        credential: 'admin',
      },
    });
  });

  it('tests credentials once each: the wrong one is rejected, the right one works as admin', async () => {
    const camera = await configured(firmware);
    const job = agent();
    const payload = command(
      camera,
      'test-credential',
      { credentials: ['guess', 'admin'] },
      { guess: WRONG, admin: OLD_ADMIN },
    );
    const result = await job.run(payload);
    expect(result.outcome).toBe('succeeded');
    expect(result.result).toMatchObject({
      credentials: [
        { ref: 'guess', username: 'root', outcome: 'rejected' },
        { ref: 'admin', username: 'root', outcome: 'works', isAdmin: true },
      ],
      stopped: null,
    });
    expect(camera.stats.authFailures).toBe(1);
    expect(progressOf(job.reports, payload.commandId)).toHaveLength(2);
  });

  it('rotates the admin password and proves the new one works and the old one fails', async () => {
    const camera = await configured(firmware);
    const result = await agent().run(
      command(
        camera,
        'rotate-credential',
        { credential: 'admin', next: 'admin-next' },
        {
          admin: OLD_ADMIN,
          'admin-next': ROTATED,
        },
      ),
    );
    expect(result).toMatchObject({
      outcome: 'succeeded',
      result: {
        account: 'root',
        passwordChanged: true,
        newCredentialWorks: true,
        oldCredentialFails: true,
        oldCredentialChecked: true,
      },
    });
    expect(camera.users.get('root')?.password).toBe(ROTATED.password);
    // The look, the change and both login tests share one keep-alive connection (the locating
    // probe may open its own): a camera is not handed a connection per step.
    expect(camera.stats.connections).toBeLessThanOrEqual(2);
  });

  it('rotates another account with the admin and proves its previous password fails', async () => {
    const camera = await configured(firmware);
    const previous: Credentials = { username: 'vms', password: 'Vms-Old-Pass-1' };
    const next: Credentials = { username: 'vms', password: 'Vms-Rotated-Ibis-7745' };
    const result = await agent().run(
      command(
        camera,
        'rotate-credential',
        { credential: 'admin', next: 'vms-next', previous: 'vms' },
        { admin: OLD_ADMIN, 'vms-next': next, vms: previous },
      ),
    );
    expect(result).toMatchObject({
      outcome: 'succeeded',
      result: {
        account: 'vms',
        passwordChanged: true,
        newCredentialWorks: true,
        oldCredentialFails: true,
        oldCredentialChecked: true,
      },
    });
    expect(camera.users.get('vms')?.password).toBe(next.password);
    expect(camera.users.get('root')?.password).toBe(OLD_ADMIN.password);
    expect(JSON.stringify(result)).not.toContain(next.password);
  });

  it('restarts the camera and waits until it is back', async () => {
    const camera = await configured(firmware);
    const boots = camera.state.bootCount;
    const job = agent();
    const payload = command(camera, 'soft-restart', { credential: 'admin' }, { admin: OLD_ADMIN });
    const result = await job.run(payload);
    expect(result).toMatchObject({
      outcome: 'succeeded',
      result: { url: httpUrlOf(camera), via: firmware === '5.51' ? 'legacy' : 'fwmgr' },
    });
    expect(camera.state.bootCount).toBe(boots + 1);
    expect(camera.phase).toBe('ready');
    expect(progressOf(job.reports, payload.commandId).length).toBeGreaterThan(0);
  });
});

describe('test-credential and the attempt budget', () => {
  it('stops when the budget is spent and says which credentials were not tried', async () => {
    const camera = await configured('11.11');
    const result = await agent({ maxFailures: 1 }).run(
      command(
        camera,
        'test-credential',
        { credentials: ['first', 'second', 'admin'] },
        {
          first: WRONG,
          second: { username: 'root', password: 'Another-Wrong-Guess-2' },
          admin: OLD_ADMIN,
        },
      ),
    );
    expect(result.result).toMatchObject({
      credentials: [
        { ref: 'first', outcome: 'rejected' },
        { ref: 'second', outcome: 'not-tried-budget-spent' },
        { ref: 'admin', outcome: 'not-tried-budget-spent' },
      ],
      stopped: 'budget-spent',
      attemptsLeft: 0,
    });
    expect(result.result?.summary).toMatch(/budget .* spent: 2 credential\(s\) were not tried/);
    expect(camera.stats.authFailures).toBe(1);
  });
});

describe('acting only on the right camera', () => {
  it('refuses to act where another serial answers, without sending it any credential', async () => {
    const camera = await configured('12.x');
    const other = await configured('12.x');
    const result = await agent().run(
      command(
        camera,
        'rotate-credential',
        { credential: 'admin', next: 'admin-next' },
        {
          admin: OLD_ADMIN,
          'admin-next': ROTATED,
        },
        { url: httpUrlOf(other) },
      ),
    );
    expect(result).toMatchObject({
      outcome: 'failed',
      error: { code: 'wrong-device', message: expect.stringContaining(other.serial) as string },
    });
    expect(other.users.get('root')?.password).toBe(OLD_ADMIN.password);
    expect(other.stats.authFailures).toBe(0);
  });
});

describe('software factory default', () => {
  it('refuses a soft factory default without an approval and leaves the camera alone', async () => {
    const camera = await configured('11.11');
    const result = await agent().run(
      command(camera, 'factory-default-soft', { credential: 'admin' }, { admin: OLD_ADMIN }),
    );
    expect(result).toMatchObject({ outcome: 'refused', error: { code: 'approval-missing' } });
    expect(camera.state.needsetup).toBe(false);
  });

  it('runs an approved soft factory default and finds the camera at its address in factory-default state', async () => {
    const camera = await configured('11.11');
    const url = httpUrlOf(camera);
    const job = agent();
    const payload = command(
      camera,
      'factory-default-soft',
      { credential: 'admin' },
      { admin: OLD_ADMIN },
      {
        approval: approvalFor(camera, 'factory-default-soft'),
      },
    );
    const result = await job.run(payload);
    expect(result).toMatchObject({
      outcome: 'succeeded',
      result: { mode: 'soft', via: 'fwmgr', url, addressChanged: false, needsSetup: true },
    });
    expect(camera.state.needsetup).toBe(true);
    expect(progressOf(job.reports, payload.commandId).map((report) => report.step)).toContain(
      'waiting',
    );
  });

  it('follows a camera whose approved hard factory default moved it to a new address', async () => {
    const camera = await configured('12.x');
    const before = httpUrlOf(camera);
    const job = agent();
    const result = await job.run(
      command(
        camera,
        'factory-default-hard',
        { credential: 'admin' },
        { admin: OLD_ADMIN },
        {
          approval: approvalFor(camera, 'factory-default-hard'),
        },
      ),
    );
    expect(camera.state.needsetup).toBe(true);
    expect(httpUrlOf(camera)).not.toBe(before);
    expect(result).toMatchObject({
      outcome: 'succeeded',
      result: {
        mode: 'hard',
        previousUrl: before,
        url: httpUrlOf(camera),
        addressChanged: true,
        foundVia: 'directory',
      },
    });
    expect(job.directory.rounds()).toBeGreaterThan(0);
  });
});

describe('watch-for-device during a control-button reset', () => {
  async function watchWhile(
    camera: SimulatedCamera,
    timeoutMs: number,
    act: () => Promise<void>,
  ): Promise<CommandResultBody> {
    const job = agent();
    const payload = command(
      camera,
      'watch-for-device',
      { timeoutMs, requireFactoryDefault: true },
      {},
    );
    const result = job.run(payload);
    await until(() => progressOf(job.reports, payload.commandId).length > 0);
    await act();
    return result;
  }

  it('returns when the camera reappears in factory-default state at its new address', async () => {
    const camera = await configured('10.12');
    const before = httpUrlOf(camera);
    const result = await watchWhile(camera, 15_000, () =>
      control(camera, 'hold-button', { seconds: 20 }),
    );
    expect(result).toMatchObject({
      outcome: 'succeeded',
      result: { url: httpUrlOf(camera), needsSetup: true, foundVia: 'directory' },
    });
    expect(httpUrlOf(camera)).not.toBe(before);
  });

  it('diagnoses a faulty button: the camera came back still configured', async () => {
    const camera = await configured('11.11');
    await control(camera, 'fault', { fault: 'faulty-button' });
    const result = await watchWhile(camera, 3_000, () =>
      control(camera, 'hold-button', { seconds: 20 }),
    );
    expect(result).toMatchObject({
      outcome: 'failed',
      error: { code: 'came-back-configured', message: expect.stringContaining('button') as string },
      result: { diagnosis: 'came-back-configured', lastSeenUrl: httpUrlOf(camera) },
    });
    expect(camera.state.needsetup).toBe(false);
  });

  it('diagnoses a camera that never came back', async () => {
    const camera = await configured('12.x');
    await control(camera, 'fault', { fault: 'bricked' });
    const result = await watchWhile(camera, 2_000, () =>
      control(camera, 'hold-button', { seconds: 20 }),
    );
    expect(result).toMatchObject({ outcome: 'failed', error: { code: 'never-came-back' } });
  });

  it('says when nothing happened at all during the watch', async () => {
    const camera = await configured('12.x');
    const result = await watchWhile(camera, 1_000, () => Promise.resolve());
    expect(result).toMatchObject({ outcome: 'failed', error: { code: 'still-configured' } });
  });
});

describe('recommissioning end to end', () => {
  const provisionParams = (address: string) => ({
    admin: 'admin',
    serviceAccount: 'service',
    vmsAccount: 'vms',
    time: { timezone: 'UTC0', ntpServers: ['ntp.example.org'] },
    network: { mode: 'static', address, prefixLength: 8, gateway: '127.0.0.1' },
  });
  const provisionSecrets = { admin: NEW_ADMIN, service: SERVICE, vms: VMS };
  const ALL_CHECKS = [
    'serial-at-address',
    'new-credential-works',
    'old-credential-fails',
    'snapshot-jpeg',
    'rtsp-describe',
    'recordings',
  ];

  it.each([
    ['12.x', '127.89.1.50'],
    ['10.12', '127.89.1.51'],
  ] as const)(
    'resets a %s camera, provisions it onto its planned address and verifies it with evidence',
    async (firmware, address) => {
      const camera = await configured(firmware);
      const job = agent();
      const reset = await job.run(
        command(
          camera,
          'factory-default-hard',
          { credential: 'admin' },
          { admin: OLD_ADMIN },
          {
            approval: approvalFor(camera, 'factory-default-hard'),
          },
        ),
      );
      expect(reset.outcome).toBe('succeeded');

      const provision = command(camera, 'provision', provisionParams(address), provisionSecrets, {
        url: reset.result?.url,
      });
      const provisioned = await job.run(provision);
      const planned = `http://${address}:${port}`;
      expect(provisioned).toMatchObject({
        outcome: 'succeeded',
        result: {
          url: planned,
          accounts: { admin: 'custody', service: 'custodysvc', vms: 'vms' },
          createdRoot: firmware === '10.12',
        },
      });
      expect(
        (provisioned.result?.steps as Array<{ step: string; status: string }>).map(
          (step) => `${step.step}:${step.status}`,
        ),
      ).toEqual([
        'first-admin:succeeded',
        'service-account:succeeded',
        'vms-account:succeeded',
        'time:succeeded',
        'network:succeeded',
      ]);
      expect(progressOf(job.reports, provision.commandId).map((report) => report.step)).toEqual(
        expect.arrayContaining([
          'first-admin',
          'service-account',
          'vms-account',
          'time',
          'network',
        ]),
      );
      expect(camera.address).toBe(address);
      expect(camera.parameter('Time.POSIXTimeZone')).toBe('UTC0');
      expect(camera.parameter('Time.NTP.Server')).toBe('ntp.example.org');
      expect(camera.state.users).toEqual(
        expect.arrayContaining([
          { username: 'custody', role: 'admin' },
          { username: 'custodysvc', role: 'admin' },
          { username: 'vms', role: 'operator' },
        ]),
      );

      const verified = await job.run(
        command(
          camera,
          'verify',
          {
            credential: 'service',
            oldCredential: 'old',
            vmsCredential: 'vms',
            expectedUrl: planned,
            checks: ALL_CHECKS,
          },
          { service: SERVICE, old: OLD_ADMIN, vms: VMS },
          { url: planned },
        ),
      );
      expect(verified.outcome).toBe('succeeded');
      const checks = verified.result?.checks as Array<{
        check: string;
        outcome: string;
        evidence: Record<string, unknown>;
      }>;
      expect(checks.map((check) => `${check.check}:${check.outcome}`)).toEqual([
        'serial-at-address:passed',
        'new-credential-works:passed',
        'snapshot-jpeg:passed',
        'rtsp-describe:passed',
        'recordings:passed',
        'old-credential-fails:passed',
      ]);
      const evidence = Object.fromEntries(checks.map((check) => [check.check, check.evidence]));
      expect(evidence['serial-at-address']).toEqual({ url: planned, serial: camera.serial });
      expect(evidence['snapshot-jpeg']).toMatchObject({
        contentType: 'image/jpeg',
        bytes: expect.any(Number) as number,
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/) as string,
      });
      expect(evidence['rtsp-describe']).toMatchObject({
        credential: 'vms',
        media: expect.arrayContaining([expect.objectContaining({ type: 'video' })]) as unknown,
      });
      expect(evidence.recordings).toEqual({ total: 2 });
    },
  );

  it('reports each verification check that failed, with its reason', async () => {
    const camera = await configured('11.11');
    const result = await agent().run(
      command(
        camera,
        'verify',
        {
          credential: 'admin',
          oldCredential: 'admin',
          checks: ['new-credential-works', 'old-credential-fails'],
        },
        { admin: OLD_ADMIN },
      ),
    );
    expect(result).toMatchObject({
      outcome: 'failed',
      error: {
        code: 'verification-failed',
        message: expect.stringContaining('old-credential-fails') as string,
      },
      result: {
        checks: [
          { check: 'new-credential-works', outcome: 'passed' },
          {
            check: 'old-credential-fails',
            outcome: 'failed',
            reason: expect.stringContaining('works') as string,
          },
        ],
      },
    });
  });

  it('refuses to provision a configured camera it holds no working credential for', async () => {
    const camera = await configured('12.x');
    const result = await agent().run(
      command(camera, 'provision', provisionParams('127.89.1.60'), provisionSecrets),
    );
    expect(result).toMatchObject({ outcome: 'failed', error: { code: 'not-factory-default' } });
    expect(
      (result.result?.steps as Array<{ step: string; status: string }>).map((step) => step.status),
    ).toEqual(['failed', 'not-run', 'not-run', 'not-run', 'not-run']);
    expect(camera.address).not.toBe('127.89.1.60');
  });
});

describe('HTTPS cameras', () => {
  const tempDir = useTempDirs('custody-agent-pins-');

  it('pins a camera certificate on its first anonymous look and then trusts only that one', async () => {
    const camera = await configured('11.11');
    const url = httpsUrlOf(camera);
    const pins = await openTlsPinStore(await tempDir());
    const probe = () =>
      agent({ tls: pinnedTls(pins) }).run(
        command(camera, 'probe', { credential: 'admin' }, { admin: OLD_ADMIN }, { url }),
      );
    expect(await probe()).toMatchObject({
      outcome: 'succeeded',
      result: { accessState: 'authenticated' },
    });
    const pinned = pins.policyFor(camera.serial);
    expect(pinned).toEqual({
      mode: 'pin',
      fingerprint256: expect.stringMatching(/^[0-9A-F:]{95}$/) as string,
    });
    // Pinned: the same camera still works.
    expect(await probe()).toMatchObject({ outcome: 'succeeded' });
    await pins.flush();
  });

  it('sends no credential to a camera whose certificate is not the pinned one', async () => {
    const camera = await configured('11.11');
    const pins = await openTlsPinStore(await tempDir());
    pins.observe(camera.serial, 'AB:'.repeat(31) + 'AB');
    const requests = camera.stats.requests;
    const result = await agent({ tls: pinnedTls(pins) }).run(
      command(
        camera,
        'probe',
        { credential: 'admin' },
        { admin: OLD_ADMIN },
        { url: httpsUrlOf(camera) },
      ),
    );
    expect(result).toMatchObject({ outcome: 'failed', error: { code: 'unreachable' } });
    expect(result.error?.message).toMatch(/certificate/);
    // The handshake failed before any HTTP request reached the camera.
    expect(camera.stats.requests).toBe(requests);
    await pins.flush();
  });
});

describe('secrets', () => {
  it('never puts a delivered password in a report or a log line', async () => {
    const camera = await configured('12.x');
    const job = agent();
    await job.run(
      command(
        camera,
        'test-credential',
        { credentials: ['guess', 'admin'] },
        { guess: WRONG, admin: OLD_ADMIN },
      ),
    );
    await job.run(
      command(
        camera,
        'rotate-credential',
        { credential: 'admin', next: 'admin-next' },
        { admin: OLD_ADMIN, 'admin-next': ROTATED },
      ),
    );
    await job.run(
      command(camera, 'factory-default-soft', { credential: 'admin' }, { admin: ROTATED }),
    );
    await job.run(
      command(
        camera,
        'probe',
        { credential: 'admin' },
        { admin: NEW_ADMIN },
        { url: 'http://127.89.0.61:1' },
      ),
    );
    expect(job.reports.filter((report) => report.type === 'command-result')).toHaveLength(4);
    expect(job.logs.length).toBeGreaterThan(4);
    const text = `${JSON.stringify(job.reports)}\n${job.logs.join('\n')}`;
    for (const secret of SECRETS) expect(text).not.toContain(secret);
    expect(text).not.toContain('[redacted]');
  });
});
