import { connect, createServer, type Socket } from 'node:net';

/*
 * A loopback TCP relay to put between a process and its PostgreSQL server, so a test can take
 * the database away the way a network or server outage does: `cut()` resets every relayed
 * connection and refuses new ones until `restore()`.
 */

export interface TcpProxy {
  readonly port: number;
  /** `url` (a postgres:// URL) pointed at the relay instead of the server. */
  through(url: string): string;
  /** Connections relayed right now. */
  readonly open: number;
  /** Connections refused while cut. */
  readonly refused: number;
  /** Relayed connections reset by `cut()`. */
  readonly reset: number;
  readonly isCut: boolean;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let cut = false;
  let refused = 0;
  let reset = 0;
  const server = createServer((client) => {
    if (cut) {
      refused += 1;
      client.resetAndDestroy();
      return;
    }
    const upstream = connect({ host: target.host, port: target.port });
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    through(url) {
      const parsed = new URL(url);
      parsed.hostname = '127.0.0.1';
      parsed.port = String(port);
      return parsed.toString();
    },
    get open() {
      return pairs.size;
    },
    get refused() {
      return refused;
    },
    get reset() {
      return reset;
    },
    get isCut() {
      return cut;
    },
    cut() {
      cut = true;
      reset += pairs.size;
      for (const [client, upstream] of pairs) {
        client.resetAndDestroy();
        upstream.destroy();
      }
      pairs.clear();
    },
    restore() {
      cut = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const [client, upstream] of pairs) {
          client.destroy();
          upstream.destroy();
        }
        pairs.clear();
        server.close(() => resolve());
      }),
  };
}
