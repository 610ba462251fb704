import { createSimulator, FIRMWARE_IDS } from '@custody/simulator';

/**
 * Hosts a simulated site in its own process so that the sweep's client and the cameras do not
 * share an event loop, and the simulator's memory can be read on its own.
 * Protocol over IPC: receives `{ type: 'start', count, latencyMs, password, firmware? }`, answers
 * `{ type: 'ready', cameras, memory }`; `{ type: 'stats' }` → `{ type: 'stats', requests, cpuMicros }`.
 */
interface StartMessage {
  type: 'start';
  count: number;
  latencyMs: number;
  password: string;
  firmware?: string;
}

type Message = StartMessage | { type: 'stats' } | { type: 'close' };

function send(message: unknown): void {
  process.send?.(message);
}

const simulator = await createSimulator({ addressPool: 'loopback-ips', addressBase: '127.80.0.1' });

process.on('message', (raw: Message) => {
  void handle(raw).catch((error: unknown) => {
    send({ type: 'error', message: error instanceof Error ? error.stack : String(error) });
  });
});

async function handle(message: Message): Promise<void> {
  if (message.type === 'start') {
    const firmwares = message.firmware === undefined ? FIRMWARE_IDS : [message.firmware];
    const before = process.memoryUsage();
    for (let index = 0; index < message.count; index += 1) {
      const firmware = firmwares[index % firmwares.length];
      await simulator.addCamera({
        firmware: firmware as (typeof FIRMWARE_IDS)[number],
        latencyMs: message.latencyMs,
        users: [{ username: 'root', password: message.password, role: 'admin' }],
      });
    }
    global.gc?.();
    const after = process.memoryUsage();
    send({
      type: 'ready',
      cameras: simulator.cameras.map((camera) => ({
        serial: camera.serial,
        url: camera.httpUrl,
        firmware: camera.firmware,
      })),
      memory: { rssBefore: before.rss, rss: after.rss, heapUsed: after.heapUsed },
    });
  } else if (message.type === 'stats') {
    const requests = simulator.cameras.reduce((sum, camera) => sum + camera.stats.requests, 0);
    const cpu = process.cpuUsage();
    send({
      type: 'stats',
      requests,
      cpuMicros: cpu.user + cpu.system,
      rss: process.memoryUsage().rss,
    });
  } else {
    await simulator.close();
    process.exit(0);
  }
}

send({ type: 'listening' });
