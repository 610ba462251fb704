import type { TLSSocket } from 'node:tls';

import { buildConnector, Client, type Dispatcher } from 'undici';

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
  /** The one origin (scheme, host, port) every request goes to. */
  origin: string;
  tls: TlsPolicy;
  connectTimeoutMs: number;
  /** Connections per origin; the per-camera limiter is the real bound, this only matches it. */
  connections: number;
  onCertificate?: (info: CertificateInfo) => void;
}

/** The part of an undici Dispatcher the VAPIX client uses; MockAgent and Agent satisfy it. */
export interface CameraTransport {
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean;
  close(): Promise<void>;
}

/**
 * Given to `destroy()` of an idle connection at close. `close()` would make a fresh
 * ClientDestroyedError, and Node formats the stack of the error a socket is destroyed with
 * (source-mapped under tsx: tens of µs per connection). With nothing in flight, destroying
 * with one prepared error is the same close.
 */
const CONNECTION_CLOSED = new Error('the VAPIX client closed this idle connection');

/**
 * Up to `limit` keep-alive connections to one origin. A request goes to a connection with
 * nothing in flight before a new one is opened: undici's Pool marks a connection usable again
 * only once its `drain` event has run, which comes after a caller awaiting the previous
 * response sends its next request, so a strictly sequential client would alternate between
 * two sockets, paying a TCP (and TLS) setup on each, on the camera as much as here.
 */
class CameraConnections implements CameraTransport {
  private readonly clients: Client[] = [];

  constructor(
    private readonly origin: string,
    private readonly options: Client.Options,
    private readonly limit: number,
  ) {}

  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    if (this.clients.length === 0) return this.pick().dispatch(options, handler);
    // One loop turn before reusing a connection lets a close the camera already sent (idle
    // timeout, restart) be seen, so the request opens a fresh connection instead of failing.
    // A Client reports its own failures to the handler, so nothing escapes the callback.
    setImmediate(() => this.pick().dispatch(options, handler));
    return true;
  }

  async close(): Promise<void> {
    await Promise.all(
      this.clients.map((client) =>
        client.stats.size === 0 ? client.destroy(CONNECTION_CLOSED) : client.close(),
      ),
    );
  }

  private pick(): Client {
    let leastBusy: Client | undefined;
    let leastSize = Infinity;
    for (const client of this.clients) {
      const { size } = client.stats;
      if (size === 0) return client;
      if (size < leastSize) {
        leastBusy = client;
        leastSize = size;
      }
    }
    if (leastBusy === undefined || this.clients.length < this.limit) {
      const client = new Client(this.origin, this.options);
      this.clients.push(client);
      return client;
    }
    return leastBusy;
  }
}

/**
 * Connections to one camera whose TLS handshakes follow the camera's policy. In `pin` mode the chain is
 * not verified (camera certificates are self-signed on ≤11.x, reference §7.6) but the leaf's
 * SHA-256 fingerprint must match the pin, learned on first use when none is configured. TLS
 * session reuse is off so every connection shows its certificate and gets checked.
 */
export function createCameraDispatcher(options: CameraDispatcherOptions): {
  dispatcher: CameraTransport;
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
    dispatcher: new CameraConnections(
      options.origin,
      { connect },
      Math.max(1, options.connections),
    ),
    certificates,
  };
}

/**
 * Keep-alive connections shared by the clients of one piece of work (an agent command makes a
 * client for the look, another per credential it tests): one pool per origin and TLS policy, so
 * a camera sees one connection instead of one per client. A client learning a pin on first use
 * keeps its own (see VapixClientOptions.connections). The owner closes it; the clients never do.
 */
export interface SharedCameraConnections {
  /** The pool for these options, created on first use. */
  poolFor(options: Omit<CameraDispatcherOptions, 'onCertificate'>): {
    dispatcher: CameraTransport;
    certificates: CertificateState;
  };
  /** Closes every pool; later requests through them fail. */
  close(): Promise<void>;
}

export function createSharedCameraConnections(): SharedCameraConnections {
  const pools = new Map<string, ReturnType<typeof createCameraDispatcher>>();
  let closed = false;
  return {
    poolFor(options) {
      if (closed) throw new Error('these camera connections are closed');
      const key = JSON.stringify([
        options.origin,
        options.tls,
        options.connectTimeoutMs,
        options.connections,
      ]);
      let pool = pools.get(key);
      if (pool === undefined) {
        pool = createCameraDispatcher(options);
        pools.set(key, pool);
      }
      return pool;
    },
    async close() {
      closed = true;
      const open = [...pools.values()];
      pools.clear();
      await Promise.all(open.map((pool) => pool.dispatcher.close()));
    },
  };
}
