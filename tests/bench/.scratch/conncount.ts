import http from 'node:http';
import { createSimulator, FIRMWARE_IDS } from '@custody/simulator';
import { probe } from '@custody/vapix';
const sockets = new Set<unknown>(); let requests = 0;
const perPath = new Map<string, number>();
const origEmit = http.Server.prototype.emit;
http.Server.prototype.emit = function (this: http.Server, event: string, ...args: unknown[]) {
  if (event === 'request') { const req = args[0] as http.IncomingMessage; sockets.add(req.socket); requests++; const ids = (globalThis as any).ids ??= new Map(); if (!ids.has(req.socket)) ids.set(req.socket, ids.size); console.log('  sock', ids.get(req.socket), req.method, req.url, req.headers.authorization ? 'auth' : 'anon', req.headers.connection); const k = `${req.method} ${req.url} ${req.headers.authorization ? 'auth' : 'anon'}`; perPath.set(k, (perPath.get(k) ?? 0) + 1); }
  return origEmit.call(this, event, ...args);
} as typeof origEmit;
const sim = await createSimulator({ addressPool: 'loopback-ips', addressBase: '127.81.0.1' });
for (const fw of FIRMWARE_IDS) await sim.addCamera({ firmware: fw, latencyMs: 1, users: [{ username: 'root', password: 'pw12345678', role: 'admin' }] });
for (const cam of sim.cameras) {
  const before = requests; const s0 = sockets.size;
  const r = await probe(cam.httpUrl, { username: 'root', password: 'pw12345678' });
  console.log(cam.firmware, r.accessState, 'requests', requests - before, 'sockets', sockets.size - s0, r.capabilities.join(','));
}
console.log([...perPath].map(([k,v]) => `${v} ${k}`).join('\n'));
await sim.close();
