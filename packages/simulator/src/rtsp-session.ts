import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { md5Hex, parseAuthorization, safeEqual } from './http-auth.ts';
import type { SimulatedCamera } from './simulated-camera.ts';
import { hasRole } from './user-accounts.ts';

const SERVER = 'GStreamer RTSP server';
const PUBLIC_METHODS =
  'OPTIONS, DESCRIBE, ANNOUNCE, GET_PARAMETER, PAUSE, PLAY, RECORD, SETUP, SET_PARAMETER, TEARDOWN';
const MAX_REQUEST_BYTES = 64 * 1024;

interface RtspRequest {
  method: string;
  url: string;
  headers: Map<string, string>;
}

function parseRequest(head: string): RtspRequest | undefined {
  const [requestLine = '', ...lines] = head.split('\r\n');
  const match = /^([A-Z_]+) (\S+) RTSP\/1\.0$/.exec(requestLine);
  if (!match) return undefined;
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0)
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { method: match[1] ?? '', url: match[2] ?? '', headers };
}

function sdp(camera: SimulatedCamera, url: string, sessionId: string): string {
  const address = camera.address ?? '0.0.0.0';
  const query = url.includes('?') ? url.slice(url.indexOf('?')) : '';
  const base = url.split('?')[0] ?? url;
  return [
    'v=0',
    `o=- ${sessionId} 1 IN IP4 ${address}`,
    'i=media presentation',
    's=Session streamed with GStreamer',
    't=0 0',
    'a=tool:GStreamer',
    'a=type:broadcast',
    'a=range:npt=now-',
    `a=control:${url}`,
    'm=video 0 RTP/AVP 96',
    'c=IN IP4 0.0.0.0',
    'b=AS:50000',
    'a=rtpmap:96 H264/90000',
    'a=fmtp:96 packetization-mode=1;profile-level-id=4d0029;sprop-parameter-sets=Z00AKeKQDwBE/LgLcBAQGkHiRFQ=,aO48gA==',
    'a=ts-refclk:local',
    'a=mediaclk:sender',
    'a=recvonly',
    `a=control:${base}/stream=0${query}`,
    'a=framerate:30.000000',
    'a=transform:1.000000,0.000000,0.000000;0.000000,1.000000,0.000000;0.000000,0.000000,1.000000',
    'a=x-onvif-track:VIDEO000',
    '',
  ].join('\r\n');
}

/**
 * One RTSP connection to a camera, answering like the GStreamer RTSP server in AXIS OS:
 * OPTIONS without authentication, everything else behind Digest (no qop, `stale=FALSE`).
 * No media flows: SETUP and PLAY succeed but send no RTP.
 */
export function serveRtspConnection(camera: SimulatedCamera, socket: Socket): void {
  const nonces = new Set<string>();
  let buffered = Buffer.alloc(0);
  let sessionId: string | undefined;
  let busy = false;

  const send = (
    status: string,
    cseq: string | undefined,
    headers: [string, string][],
    body = '',
  ) => {
    const lines = [`RTSP/1.0 ${status}`];
    if (cseq !== undefined) lines.push(`CSeq: ${cseq}`);
    lines.push(`Server: ${SERVER}`, `Date: ${new Date(camera.clockNow()).toUTCString()}`);
    for (const [name, value] of headers) lines.push(`${name}: ${value}`);
    if (body) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
    socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`);
  };

  const challenge = (cseq: string | undefined) => {
    const nonce = randomBytes(16).toString('hex');
    nonces.add(nonce);
    send('401 Unauthorized', cseq, [
      ['WWW-Authenticate', `Digest realm="${camera.realm}", nonce="${nonce}", stale=FALSE`],
    ]);
  };

  const isAuthorized = (request: RtspRequest): boolean => {
    const parsed = parseAuthorization(request.headers.get('authorization'));
    if (parsed?.scheme !== 'digest') return false;
    const params = parsed.params;
    const username = params.get('username') ?? '';
    const nonce = params.get('nonce') ?? '';
    const uri = params.get('uri') ?? '';
    const response = (params.get('response') ?? '').toLowerCase();
    const account = camera.users.get(username);
    if (!account || !nonces.has(nonce) || params.get('realm') !== camera.realm) return false;
    const ha1 = md5Hex(`${username}:${camera.realm}:${account.password}`);
    const ha2 = md5Hex(`${request.method}:${uri}`);
    const qop = params.get('qop');
    const expected =
      qop === 'auth'
        ? md5Hex(
            `${ha1}:${nonce}:${params.get('nc') ?? ''}:${params.get('cnonce') ?? ''}:auth:${ha2}`,
          )
        : md5Hex(`${ha1}:${nonce}:${ha2}`);
    return safeEqual(expected, response) && hasRole(account, 'viewer');
  };

  const handle = (request: RtspRequest) => {
    camera.stats.rtspRequests += 1;
    const cseq = request.headers.get('cseq');
    if (request.method === 'OPTIONS') {
      send('200 OK', cseq, [['Public', PUBLIC_METHODS]]);
      return;
    }
    if (!PUBLIC_METHODS.split(', ').includes(request.method)) {
      send('501 Not Implemented', cseq, []);
      return;
    }
    if (!isAuthorized(request)) {
      challenge(cseq);
      return;
    }
    const path = request.url.replace(/^rtsp:\/\/[^/]+/, '');
    if (!path.startsWith('/axis-media/media.amp')) {
      send('404 Not Found', cseq, []);
      return;
    }
    switch (request.method) {
      case 'DESCRIBE': {
        const base = request.url.split('?')[0] ?? request.url;
        const id = String(randomBytes(4).readUInt32BE());
        send(
          '200 OK',
          cseq,
          [
            ['Content-Type', 'application/sdp'],
            ['Content-Base', `${base}/`],
          ],
          sdp(camera, request.url, id),
        );
        return;
      }
      case 'SETUP': {
        sessionId ??= randomBytes(8).toString('hex').toUpperCase();
        const transport = request.headers.get('transport') ?? 'RTP/AVP;unicast';
        send('200 OK', cseq, [
          [
            'Transport',
            `${transport};ssrc=${randomBytes(4).toString('hex').toUpperCase()};mode="PLAY"`,
          ],
          ['Session', `${sessionId};timeout=60`],
        ]);
        return;
      }
      case 'PLAY':
        send('200 OK', cseq, [
          ['Range', 'npt=now-'],
          ['RTP-Info', `url=${request.url};seq=1;rtptime=0`],
          ['Session', `${sessionId ?? randomBytes(8).toString('hex').toUpperCase()};timeout=60`],
        ]);
        return;
      case 'TEARDOWN':
        send('200 OK', cseq, sessionId ? [['Session', `${sessionId};timeout=60`]] : []);
        sessionId = undefined;
        return;
      default:
        send('200 OK', cseq, sessionId ? [['Session', `${sessionId};timeout=60`]] : []);
    }
  };

  const drain = async () => {
    if (busy) return;
    busy = true;
    try {
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end === -1) break;
        const request = parseRequest(buffered.subarray(0, end).toString('utf8'));
        const length = Number(request?.headers.get('content-length') ?? 0) || 0;
        if (buffered.length < end + 4 + length) break;
        buffered = buffered.subarray(end + 4 + length);
        if (!request) {
          send('400 Bad Request', undefined, []);
          socket.end();
          return;
        }
        if (camera.shouldDrop()) {
          camera.stats.dropped += 1;
          socket.destroy();
          return;
        }
        const delay = camera.responseDelayMs();
        if (delay > 0) await sleep(delay);
        if (socket.destroyed) return;
        handle(request);
      }
    } finally {
      busy = false;
    }
  };

  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    if (buffered.length > MAX_REQUEST_BYTES) {
      socket.destroy();
      return;
    }
    void drain();
  });
}
