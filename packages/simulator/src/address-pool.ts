import type { Server } from 'node:net';
import { isIPv4 } from 'node:net';
import type { CameraEndpoint, CameraServers } from './simulated-camera.ts';

export type AddressPoolKind = 'loopback-ips' | 'ports';

export interface PortPlan {
  http: number;
  https: number;
  rtsp: number;
}

function listen(server: Server, address: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen({ host: address, port, exclusive: true }, () => {
      server.off('error', onError);
      const bound = server.address();
      resolve(typeof bound === 'object' && bound ? bound.port : port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
  });
}

function toNumber(address: string): number {
  return address.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

function toAddress(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

function isLoopback(address: string): boolean {
  return isIPv4(address) && address.startsWith('127.');
}

/**
 * Hands out where each camera listens: its own 127.x.y.z address (all of 127/8 answers on
 * Linux without configuration) or its own ports on one host address.
 */
export class AddressPool {
  private readonly inUse = new Set<string>();
  private next: number;

  constructor(
    readonly kind: AddressPoolKind,
    private readonly host: string,
    base: string,
    private readonly ports: PortPlan,
  ) {
    if (!isIPv4(host)) throw new Error(`host must be an IPv4 address, got "${host}"`);
    if (kind === 'loopback-ips' && !isLoopback(base)) {
      throw new Error(`addressBase must be in 127.0.0.0/8, got "${base}"`);
    }
    this.next = toNumber(base);
  }

  /** Whether the simulator can re-address a camera to `address` (static IP change). */
  canUse(address: string): boolean {
    return this.kind === 'loopback-ips' && isLoopback(address) && !this.inUse.has(address);
  }

  release(address: string): void {
    if (this.kind === 'loopback-ips') this.inUse.delete(address);
  }

  async bind(
    servers: CameraServers,
    previous: CameraEndpoint | undefined,
    move: { address?: string } | undefined,
  ): Promise<CameraEndpoint> {
    if (previous && !move) {
      try {
        return await this.listenAll(servers, previous.address, {
          http: previous.httpPort,
          https: previous.httpsPort ?? 0,
          rtsp: previous.rtspPort ?? 0,
        });
      } catch {
        // The old ports were taken while the camera was down: it comes back elsewhere.
      }
    }
    if (move?.address !== undefined) {
      const endpoint = await this.listenAll(servers, move.address, this.ports);
      if (previous) this.release(previous.address);
      this.inUse.add(endpoint.address);
      return endpoint;
    }
    const endpoint = await this.bindFresh(servers, previous);
    if (previous && previous.address !== endpoint.address) this.release(previous.address);
    return endpoint;
  }

  private async bindFresh(
    servers: CameraServers,
    previous: CameraEndpoint | undefined,
  ): Promise<CameraEndpoint> {
    if (this.kind === 'ports') {
      for (;;) {
        const endpoint = await this.listenAll(servers, this.host, { http: 0, https: 0, rtsp: 0 });
        if (endpoint.httpPort !== previous?.httpPort) return endpoint;
        const { http, https, rtsp, upnp } = servers;
        const listening = [http, https, rtsp, upnp].filter((server) => server !== undefined);
        await Promise.all(listening.map(close));
      }
    }
    for (let attempt = 0; attempt < 4096; attempt += 1) {
      const address = this.takeAddress();
      try {
        const endpoint = await this.listenAll(servers, address, this.ports);
        this.inUse.add(address);
        return endpoint;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      }
    }
    throw new Error('no free loopback address found for a camera');
  }

  private takeAddress(): string {
    for (;;) {
      const value = this.next;
      this.next += 1;
      if (this.next > toNumber('127.255.255.254')) this.next = toNumber('127.0.1.1');
      const last = value % 256;
      const address = toAddress(value);
      if (last === 0 || last === 255 || this.inUse.has(address)) continue;
      return address;
    }
  }

  private async listenAll(
    servers: CameraServers,
    address: string,
    ports: PortPlan,
  ): Promise<CameraEndpoint> {
    const opened: Server[] = [];
    const open = async (server: Server | undefined, port: number) => {
      if (!server) return undefined;
      const bound = await listen(server, address, port);
      opened.push(server);
      return bound;
    };
    try {
      const httpPort = (await open(servers.http, ports.http)) ?? 0;
      const httpsPort = await open(servers.https, ports.https);
      const rtspPort = await open(servers.rtsp, ports.rtsp);
      const upnpPort = await open(servers.upnp, 0);
      return { address, httpPort, httpsPort, rtspPort, upnpPort };
    } catch (error) {
      await Promise.all(opened.map(close));
      throw error;
    }
  }
}
