import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  diskList,
  legacyMaintenance,
  paramCgi,
  pwdgrpCgi,
  recordingList,
  snapshot,
  upnpDescription,
  usergroupCgi,
} from './cgi-endpoints.ts';
import { errorPage } from './error-pages.ts';
import {
  formParameters,
  notFound,
  parseJsonObject,
  writeResponse,
  type RequestContext,
  type SimResponse,
} from './http-exchange.ts';
import {
  apiDiscovery,
  basicDeviceInfo,
  firmwareManagement,
  networkSettings,
  systemReady,
  timeService,
  type AddressMover,
} from './json-apis.ts';
import type { SimulatedCamera } from './simulated-camera.ts';

/** A response, plus what the device does once it has been sent (reboot, reset, re-address). */
export interface HandlerResult extends SimResponse {
  after?: () => void;
}

type Handler = (context: RequestContext) => HandlerResult | Promise<HandlerResult>;

const MAX_BODY_BYTES = 1024 * 1024;

function routes(moveCamera: AddressMover): ReadonlyMap<string, Handler> {
  return new Map<string, Handler>([
    ['/axis-cgi/systemready.cgi', systemReady],
    ['/axis-cgi/basicdeviceinfo.cgi', basicDeviceInfo],
    ['/axis-cgi/apidiscovery.cgi', apiDiscovery],
    ['/axis-cgi/param.cgi', paramCgi],
    ['/axis-cgi/pwdgrp.cgi', pwdgrpCgi],
    ['/axis-cgi/usergroup.cgi', usergroupCgi],
    ['/axis-cgi/firmwaremanagement.cgi', firmwareManagement],
    ['/axis-cgi/factorydefault.cgi', legacyMaintenance('soft')],
    ['/axis-cgi/hardfactorydefault.cgi', legacyMaintenance('hard')],
    ['/axis-cgi/restart.cgi', legacyMaintenance('restart')],
    ['/axis-cgi/jpg/image.cgi', snapshot],
    ['/axis-cgi/network_settings.cgi', (context) => networkSettings(context, moveCamera)],
    ['/axis-cgi/time.cgi', timeService],
    ['/axis-cgi/disks/list.cgi', diskList],
    ['/axis-cgi/record/list.cgi', recordingList],
  ]);
}

/**
 * The request body, or undefined (and the request destroyed) above MAX_BODY_BYTES. Listens for
 * `data` rather than iterating with `for await`, which costs an async iterator per request.
 */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.off('data', onData);
        req.destroy();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}

const PLAIN_PATH = /^(?:\/[\w~-][\w.~-]*)+$/;

function reply(res: ServerResponse, camera: SimulatedCamera, result: HandlerResult): void {
  writeResponse(res, camera, result);
  const after = result.after;
  if (after) res.once('finish', () => setImmediate(after));
}

/** The CGI `action` or the JSON-RPC `method` a request asks for, for matching answer faults. */
function requestedAction(context: RequestContext): string | undefined {
  const action = formParameters(context).get('action');
  if (action !== null) return action;
  const method = parseJsonObject(context)?.method;
  return typeof method === 'string' ? method : undefined;
}

/**
 * The device has carried the request out; its answer is lost on the way back (a network fault,
 * or power lost before answering). What the request set in motion (a reboot) still happens,
 * unless the power went.
 */
function loseAnswer(
  context: RequestContext,
  result: HandlerResult,
  effect: 'drop' | { powerOnAfterMs: number | undefined },
): void {
  const { camera, req } = context;
  camera.stats.answersLost += 1;
  if (effect === 'drop') {
    req.socket.destroy();
    const after = result.after;
    if (after) setImmediate(after);
    return;
  }
  camera.losePower(effect.powerOnAfterMs);
}

/**
 * Path and query of a request-target. A plain `/path?query` (what clients send) is split
 * directly; anything URL parsing could change (escapes, dot segments, `//`, a fragment) goes
 * through it.
 */
function splitTarget(target: string): { path: string; query: URLSearchParams } {
  const mark = target.indexOf('?');
  const path = mark === -1 ? target : target.slice(0, mark);
  if (PLAIN_PATH.test(path) && !target.includes('#')) {
    return { path, query: new URLSearchParams(mark === -1 ? '' : target.slice(mark + 1)) };
  }
  const url = new URL(target, 'http://camera.invalid');
  return { path: url.pathname, query: url.searchParams };
}

/** Serves every camera's VAPIX HTTP(S) and UPnP description requests. */
export function createVapixHandler(moveCamera: AddressMover) {
  const table = routes(moveCamera);
  return async function handleVapixRequest(
    camera: SimulatedCamera,
    kind: 'http' | 'https' | 'upnp',
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    camera.stats.requests += 1;
    const body = await readBody(req);
    if (camera.shouldDrop()) {
      camera.stats.dropped += 1;
      req.socket.destroy();
      return;
    }
    const delay = camera.responseDelayMs();
    if (delay > 0) await sleep(delay);
    if (res.destroyed) return;
    const target = req.url ?? '/';
    const { path, query } = splitTarget(target);
    const context: RequestContext = {
      camera,
      req,
      secure: kind === 'https',
      method: req.method ?? 'GET',
      path,
      target,
      query,
      body: body ?? Buffer.alloc(0),
      source: req.socket.remoteAddress ?? 'unknown',
    };
    if (body === undefined) {
      reply(res, camera, { status: 413, headers: { Connection: 'close' }, body: '' });
      return;
    }
    if (camera.isBlocked(context.source)) {
      camera.stats.blocked += 1;
      reply(res, camera, errorPage(camera.profile, 403, context.path));
      return;
    }
    if (kind === 'upnp') {
      reply(res, camera, upnpDescription(context));
      return;
    }
    const handler = table.get(context.path);
    if (!handler) {
      reply(res, camera, notFound(context));
      return;
    }
    if (!camera.isReady && context.path !== '/axis-cgi/systemready.cgi') {
      reply(res, camera, errorPage(camera.profile, 503, context.path));
      return;
    }
    const result = await handler(context);
    if (result.status >= 200 && result.status < 300) {
      const fault = camera.takeAnswerFault(context.path, () => requestedAction(context));
      if (fault) {
        loseAnswer(
          context,
          result,
          fault.effect === 'drop' ? 'drop' : { powerOnAfterMs: fault.powerOnAfterMs },
        );
        return;
      }
      if (camera.shouldDropAnswer()) {
        loseAnswer(context, result, 'drop');
        return;
      }
    }
    reply(res, camera, result);
  };
}
