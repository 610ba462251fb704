import { createServer } from 'node:net';

function tryListen(host: string, port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen({ host, port, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : null;
      server.close(() => resolve(bound));
    });
  });
}

/**
 * `preferred` when it is free on `host`, otherwise any free port. A stable port keeps the
 * demo's camera addresses the same from one start to the next.
 */
export async function pickPort(host: string, preferred: number): Promise<number> {
  const port =
    (preferred === 0 ? null : await tryListen(host, preferred)) ?? (await tryListen(host, 0));
  if (port === null) throw new Error(`No free TCP port on ${host}`);
  return port;
}
