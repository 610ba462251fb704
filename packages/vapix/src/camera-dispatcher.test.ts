import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server as HttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { getAllProperties } from './apis/basic-device-info.ts';
import { systemReady } from './apis/system-ready.ts';
import { createAttemptBudget } from './attempt-budget.ts';
import { normalizeFingerprint } from './camera-dispatcher.ts';
import { GET_ALL_PROPERTIES_P3265V } from './fixtures/basic-device-info.ts';
import { SYSTEM_READY_12 } from './fixtures/system-ready.ts';
import { createRequestLimiter } from './request-limiter.ts';
import {
  json,
  startFakeCamera,
  type FakeCamera,
  type FakeCameraOptions,
} from './test-support/fake-camera.ts';
import type { CertificateInfo, TlsPolicy } from './types.ts';
import { probe } from './probe.ts';
import { createVapixClient } from './vapix-client.ts';
import { VapixCertificateError } from './vapix-error.ts';

interface KeyPair {
  key: string;
  cert: string;
  fingerprint256: string;
}

let directory: string;
let first: KeyPair;
let second: KeyPair;

/** A throwaway self-signed certificate for 127.0.0.1, made with the openssl CLI. */
function selfSigned(name: string): KeyPair {
  const key = join(directory, `${name}.key`);
  const cert = join(directory, `${name}.crt`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      `/CN=axis-test-${name}`,
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const pem = readFileSync(cert, 'utf8');
  return {
    key: readFileSync(key, 'utf8'),
    cert: pem,
    fingerprint256: new X509Certificate(pem).fingerprint256,
  };
}

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'vapix-tls-'));
  first = selfSigned('first');
  second = selfSigned('second');
});

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

const cameras: FakeCamera[] = [];
afterEach(async () => {
  await Promise.all(cameras.splice(0).map((camera) => camera.close()));
});

async function httpsCamera(pair: KeyPair, options: FakeCameraOptions = {}): Promise<FakeCamera> {
  const camera = await startFakeCamera({
    tls: { key: pair.key, cert: pair.cert },
    anonymousPaths: ['/axis-cgi/systemready.cgi'],
    routes: {
      'POST /axis-cgi/systemready.cgi': () => json(SYSTEM_READY_12),
      'POST /axis-cgi/basicdeviceinfo.cgi': () => json(GET_ALL_PROPERTIES_P3265V),
    },
    ...options,
  });
  cameras.push(camera);
  return camera;
}

function client(camera: FakeCamera, tls: TlsPolicy, seen: CertificateInfo[] = []) {
  return createVapixClient({
    url: camera.url,
    tls,
    onCertificate: (info) => seen.push(info),
    budget: createAttemptBudget(),
    limiter: createRequestLimiter(),
  });
}

describe('certificate policy (reference §7.6)', () => {
  it('rejects a self-signed certificate under normal verification', async () => {
    const camera = await httpsCamera(first);
    const vapix = client(camera, { mode: 'verify' });
    await expect(vapix.send(systemReady())).rejects.toMatchObject({
      name: 'VapixCertificateError',
      code: 'VAPIX_TLS_UNTRUSTED',
      retryable: false,
    });
    expect(camera.requests).toHaveLength(0);
    await vapix.close();
  });

  it('accepts the certificate when it is the configured CA', async () => {
    const camera = await httpsCamera(first);
    const vapix = client(camera, { mode: 'verify', ca: first.cert });
    await expect(vapix.send(systemReady())).resolves.toMatchObject({ systemReady: true });
    await vapix.close();
  });

  it('pins on first use and reports the fingerprint so it can be stored', async () => {
    const camera = await httpsCamera(first);
    const seen: CertificateInfo[] = [];
    const vapix = client(camera, { mode: 'pin' }, seen);
    await vapix.send(systemReady());
    expect(seen).toEqual([{ fingerprint256: first.fingerprint256, firstUse: true }]);
    expect(vapix.certificate()?.fingerprint256).toBe(first.fingerprint256);
    await vapix.close();
  });

  it('accepts a matching pin written in any case or separator style', async () => {
    const camera = await httpsCamera(first);
    const pin = first.fingerprint256.replace(/:/g, '').toLowerCase();
    const vapix = client(camera, { mode: 'pin', fingerprint256: pin });
    await expect(vapix.send(systemReady())).resolves.toMatchObject({ needSetup: false });
    expect(normalizeFingerprint(pin)).toBe(first.fingerprint256);
    await vapix.close();
  });

  it('refuses a certificate that differs from the pin before any request is sent', async () => {
    const camera = await httpsCamera(second);
    const vapix = client(camera, { mode: 'pin', fingerprint256: first.fingerprint256 });
    const error: unknown = await vapix.send(systemReady()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(VapixCertificateError);
    expect(error).toMatchObject({
      code: 'VAPIX_TLS_PIN_MISMATCH',
      fingerprint256: second.fingerprint256,
    });
    expect(camera.requests).toHaveLength(0);
    await vapix.close();
  });

  it('refuses a changed certificate after trusting the first one', async () => {
    const camera = await httpsCamera(first);
    const vapix = client(camera, { mode: 'pin' });
    await vapix.send(systemReady());
    (camera.server as HttpsServer).setSecureContext({ key: second.key, cert: second.cert });
    camera.server.closeAllConnections();
    await expect(vapix.send(systemReady())).rejects.toMatchObject({
      code: 'VAPIX_TLS_PIN_MISMATCH',
    });
    expect(camera.requests).toHaveLength(1);
    await vapix.close();
  });

  it('sends Basic over HTTPS when the device offers only Basic (12.x)', async () => {
    const camera = await httpsCamera(first, { challenges: ['basic'], users: { root: 'pw' } });
    const vapix = createVapixClient({
      url: camera.url,
      tls: { mode: 'pin', fingerprint256: first.fingerprint256 },
      credentials: { username: 'root', password: 'pw' },
      budget: createAttemptBudget(),
      limiter: createRequestLimiter(),
    });
    await vapix.send(getAllProperties());
    await vapix.send(getAllProperties());
    expect(camera.requests.map((request) => request.authorization?.split(' ')[0])).toEqual([
      undefined,
      'Basic',
      'Basic',
    ]);
    await vapix.close();
  });

  it('lets probe report the pinned fingerprint, and a mismatch as unreachable', async () => {
    const camera = await httpsCamera(first, {
      isAnonymous: (request) => request.body.includes('getAllUnrestrictedProperties'),
    });
    const options = { budget: createAttemptBudget(), limiter: createRequestLimiter() };
    const trusted = await probe(camera.url, null, { ...options, tls: { mode: 'pin' } });
    expect(trusted.tls).toEqual({ fingerprint256: first.fingerprint256 });
    expect(trusted.identity?.serial).toBe('B8A44F631339');

    const mismatch = await probe(camera.url, null, {
      ...options,
      tls: { mode: 'pin', fingerprint256: second.fingerprint256 },
    });
    expect(mismatch).toMatchObject({
      accessState: 'unreachable',
      error: { code: 'VAPIX_TLS_PIN_MISMATCH' },
    });
  });
});
