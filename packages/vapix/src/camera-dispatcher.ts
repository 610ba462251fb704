import type { TLSSocket } from 'node:tls';

import { Agent, buildConnector } from 'undici';

import type { CertificateInfo, TlsPolicy } from './types.ts';
import { VapixCertificateError } from './vapix-error.ts';

/** `ab:cd…`, `ABCD…` and `AB CD…` all become Node's `AB:CD:…` form. */
export function normalizeFingerprint(fingerprint: string): string {
  const hex = fingerprint.replace(/[^0-9a-fA-F]/g, '').toUpperCase();
  return hex.match(/.{1,2}/g)?.join(':') ?? '';
}

export interface CertificateState {
  /** The fingerprint that must match; set by the policy or by the first handshake. */
  pinned: string | undefined;
  /** The certificate presented on the latest handshake. */
  observed: CertificateInfo | undefined;
}

export interface CameraDispatcherOptions {
  tls: TlsPolicy;
  connectTimeoutMs: number;
  /** Connections per origin; the per-camera limiter is the real bound, this only matches it. */
  connections: number;
  onCertificate?: (info: CertificateInfo) => void;
}

/**
 * An undici Agent whose TLS handshakes follow the camera's policy. In `pin` mode the chain is
 * not verified (camera certificates are self-signed on ≤11.x, reference §7.6) but the leaf's
 * SHA-256 fingerprint must match the pin, learned on first use when none is configured. TLS
 * session reuse is off so every connection shows its certificate and gets checked.
 */
export function createCameraDispatcher(options: CameraDispatcherOptions): {
  dispatcher: Agent;
  certificates: CertificateState;
} {
  const { tls } = options;
  const certificates: CertificateState = {
    pinned:
      tls.mode === 'pin' && tls.fingerprint256 !== undefined
        ? normalizeFingerprint(tls.fingerprint256)
        : undefined,
    observed: undefined,
  };
  const base = buildConnector({
    rejectUnauthorized: tls.mode === 'verify',
    ...(tls.mode === 'verify' && tls.ca !== undefined ? { ca: tls.ca } : {}),
    maxCachedSessions: 0,
    timeout: options.connectTimeoutMs,
  });

  const connect: buildConnector.connector = (connectOptions, callback) => {
    base(connectOptions, (error, socket) => {
      if (error !== null) {
        callback(error, null);
        return;
      }
      if (connectOptions.protocol !== 'https:') {
        callback(null, socket);
        return;
      }
      const presented = (socket as TLSSocket).getPeerCertificate().fingerprint256 as
        string | undefined;
      if (presented === undefined || presented === '') {
        socket.destroy();
        callback(
          new VapixCertificateError('VAPIX_TLS_UNTRUSTED', 'the device presented no certificate'),
          null,
        );
        return;
      }
      const fingerprint256 = normalizeFingerprint(presented);
      let firstUse = false;
      if (tls.mode === 'pin') {
        if (certificates.pinned === undefined) {
          certificates.pinned = fingerprint256;
          firstUse = true;
        } else if (certificates.pinned !== fingerprint256) {
          socket.destroy();
          callback(
            new VapixCertificateError(
              'VAPIX_TLS_PIN_MISMATCH',
              'the device presented a certificate different from the pinned one',
              { fingerprint256 },
            ),
            null,
          );
          return;
        }
      }
      const changed = certificates.observed?.fingerprint256 !== fingerprint256;
      certificates.observed = { fingerprint256, firstUse };
      if (changed || firstUse) options.onCertificate?.({ fingerprint256, firstUse });
      callback(null, socket);
    });
  };

  return {
    dispatcher: new Agent({ connect, connections: options.connections }),
    certificates,
  };
}
