import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { z } from 'zod';
import { CAMERA_FAULTS, type SimulatedCamera } from './simulated-camera.ts';
import type { Simulator } from './simulator.ts';

export interface ControlServer {
  readonly url: string;
  close(): Promise<void>;
}

const HoldSchema = z.object({ seconds: z.number().min(0).max(600) });
const FaultSchema = z.object({ fault: z.enum(CAMERA_FAULTS).nullable() });
const AnswerFaultSchema = z.object({
  fault: z
    .strictObject({
      path: z.string().startsWith('/').max(200),
      action: z.string().min(1).max(60).optional(),
      times: z.number().int().min(1).max(10_000).optional(),
      effect: z.enum(['drop', 'power-off']),
      powerOnAfterMs: z.number().min(0).max(3_600_000).optional(),
    })
    .nullable(),
});

/** What the control API tells about a camera: never a password. */
export function describeCamera(camera: SimulatedCamera) {
  return {
    serial: camera.serial,
    firmware: camera.firmware,
    model: camera.identity.model,
    httpUrl: camera.httpUrl,
    httpsUrl: camera.httpsUrl,
    rtspUrl: camera.rtspUrl,
    state: camera.state,
    answerFault: camera.pendingAnswerFault ?? null,
  };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text.trim() === '' ? {} : (JSON.parse(text) as unknown);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

/**
 * The simulator's control API, for the demo and the CLI: list cameras and work their power
 * and control button as a technician on site would. Listens on 127.0.0.1 only.
 *
 * GET  /cameras                         every camera with its state
 * GET  /cameras/:serial                 one camera
 * POST /cameras/:serial/power-off | power-on | press-button | release-button | reboot
 * POST /cameras/:serial/hold-button     {"seconds": 20}; answers after the release
 * POST /cameras/:serial/fault           {"fault": "bricked" | "faulty-button" | "insufficient-power" | null}
 * POST /cameras/:serial/answer-fault    {"fault": {"path": "/axis-cgi/pwdgrp.cgi", "action": "update",
 *                                        "times": 1, "effect": "drop" | "power-off",
 *                                        "powerOnAfterMs": 60000} | null}: the next matching
 *                                        successful requests are carried out, then their answer is
 *                                        lost (connection dropped, or the power goes)
 */
export async function startControlServer(
  simulator: Simulator,
  options: { port: number },
): Promise<ControlServer> {
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://control.invalid').pathname;
    const parts = path.split('/').filter(Boolean);
    if (parts[0] !== 'cameras') return send(res, 404, { error: 'not found' });
    if (parts.length === 1 && req.method === 'GET') {
      return send(res, 200, simulator.cameras.map(describeCamera));
    }
    const camera = simulator.getCamera(parts[1] ?? '');
    if (!camera) return send(res, 404, { error: `no camera with serial ${parts[1]}` });
    if (parts.length === 2 && req.method === 'GET') return send(res, 200, describeCamera(camera));
    if (parts.length !== 3 || req.method !== 'POST') {
      return send(res, 405, {
        error: 'use GET /cameras[/:serial] or POST /cameras/:serial/:action',
      });
    }
    let body: unknown;
    try {
      body = await readJson(req);
    } catch {
      return send(res, 400, { error: 'the body must be JSON' });
    }
    switch (parts[2]) {
      case 'power-off':
        camera.control.powerOff();
        break;
      case 'power-on':
        camera.control.powerOn();
        break;
      case 'press-button':
        camera.control.pressButton();
        break;
      case 'release-button':
        camera.control.releaseButton();
        break;
      case 'reboot':
        camera.control.reboot();
        break;
      case 'hold-button': {
        const parsed = HoldSchema.safeParse(body);
        if (!parsed.success) return send(res, 400, { error: 'expected {"seconds": 0-600}' });
        await camera.control.holdButton(parsed.data.seconds);
        break;
      }
      case 'fault': {
        const parsed = FaultSchema.safeParse(body);
        if (!parsed.success) {
          return send(res, 400, {
            error: `expected {"fault": ${CAMERA_FAULTS.join(' | ')} | null}`,
          });
        }
        camera.control.setFault(parsed.data.fault ?? undefined);
        break;
      }
      case 'answer-fault': {
        const parsed = AnswerFaultSchema.safeParse(body);
        if (!parsed.success) {
          return send(res, 400, {
            error:
              'expected {"fault": {"path": "/axis-cgi/…", "action"?: string, "times"?: number, "effect": "drop" | "power-off", "powerOnAfterMs"?: number} | null}',
          });
        }
        camera.control.setAnswerFault(parsed.data.fault ?? undefined);
        break;
      }
      default:
        return send(res, 404, { error: `unknown action ${parts[2]}` });
    }
    return send(res, 200, describeCamera(camera));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      send(res, 500, { error: error instanceof Error ? error.message : 'internal error' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: options.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
