import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAuthParams } from './http-auth.ts';
import type { SimulatedCamera } from './simulated-camera.ts';
import { createSimulator, type Simulator } from './simulator.ts';

const md5 = (value: string) => createHash('md5').update(value).digest('hex');
const credentials = { username: 'vms', password: 'Record-All-7' };

let simulator: Simulator;
let camera: SimulatedCamera;

beforeAll(async () => {
  simulator = await createSimulator({ addressPool: 'ports', seed: 2 });
  camera = await simulator.addCamera({
    firmware: '11.11',
    users: [{ ...credentials, role: 'viewer' }],
  });
});

afterAll(async () => {
  await simulator.close();
});

interface RtspResponse {
  statusLine: string;
  headers: Map<string, string>;
  body: string;
}

/** A minimal RTSP client that reads one response per request. */
async function openRtsp(): Promise<{
  send: (lines: string[]) => Promise<RtspResponse>;
  socket: Socket;
}> {
  const url = new URL((camera.rtspUrl ?? '').replace('rtsp:', 'http:'));
  const socket = connect({ host: url.hostname, port: Number(url.port) });
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let buffer = '';
  const waiting: ((response: RtspResponse) => void)[] = [];
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    for (;;) {
      const end = buffer.indexOf('\r\n\r\n');
      if (end === -1) return;
      const [statusLine = '', ...lines] = buffer.slice(0, end).split('\r\n');
      const headers = new Map(
        lines.map((line) => [
          line.slice(0, line.indexOf(':')).toLowerCase(),
          line.slice(line.indexOf(':') + 1).trim(),
        ]),
      );
      const length = Number(headers.get('content-length') ?? 0);
      if (buffer.length < end + 4 + length) return;
      const body = buffer.slice(end + 4, end + 4 + length);
      buffer = buffer.slice(end + 4 + length);
      waiting.shift()?.({ statusLine, headers, body });
    }
  });
  let cseq = 0;
  const send = (lines: string[]) =>
    new Promise<RtspResponse>((resolve) => {
      cseq += 1;
      waiting.push(resolve);
      const [requestLine, ...headers] = lines;
      socket.write(`${[requestLine, `CSeq: ${cseq}`, ...headers].join('\r\n')}\r\n\r\n`);
    });
  return { send, socket };
}

function authorization(
  method: string,
  uri: string,
  nonce: string,
  password = credentials.password,
) {
  const ha1 = md5(`${credentials.username}:AXIS_${camera.serial}:${password}`);
  const response = md5(`${ha1}:${nonce}:${md5(`${method}:${uri}`)}`);
  return `Authorization: Digest username="${credentials.username}", realm="AXIS_${camera.serial}", nonce="${nonce}", uri="${uri}", response="${response}"`;
}

describe('RTSP', () => {
  it('answers OPTIONS without authentication, as the GStreamer RTSP server', async () => {
    const { send, socket } = await openRtsp();
    const response = await send([`OPTIONS ${camera.rtspUrl} RTSP/1.0`]);
    socket.destroy();
    expect(response.statusLine).toBe('RTSP/1.0 200 OK');
    expect(response.headers.get('cseq')).toBe('1');
    expect(response.headers.get('server')).toBe('GStreamer RTSP server');
    expect(response.headers.get('public')).toBe(
      'OPTIONS, DESCRIBE, ANNOUNCE, GET_PARAMETER, PAUSE, PLAY, RECORD, SETUP, SET_PARAMETER, TEARDOWN',
    );
  });

  it('challenges DESCRIBE with Digest stale=FALSE, then describes the H.264 stream', async () => {
    const { send, socket } = await openRtsp();
    const uri = `${camera.rtspUrl}?videocodec=h264&resolution=640x360`;
    const challenge = await send([`DESCRIBE ${uri} RTSP/1.0`, 'Accept: application/sdp']);
    expect(challenge.statusLine).toBe('RTSP/1.0 401 Unauthorized');
    const header = challenge.headers.get('www-authenticate') ?? '';
    expect(header).toMatch(
      new RegExp(`^Digest realm="AXIS_${camera.serial}", nonce="[0-9a-f]+", stale=FALSE$`),
    );
    const nonce = parseAuthParams(header.slice(7)).get('nonce') ?? '';
    const wrong = await send([
      `DESCRIBE ${uri} RTSP/1.0`,
      authorization('DESCRIBE', uri, nonce, 'nope'),
    ]);
    expect(wrong.statusLine).toBe('RTSP/1.0 401 Unauthorized');
    const described = await send([
      `DESCRIBE ${uri} RTSP/1.0`,
      'Accept: application/sdp',
      authorization('DESCRIBE', uri, nonce),
    ]);
    expect(described.statusLine).toBe('RTSP/1.0 200 OK');
    expect(described.headers.get('content-type')).toBe('application/sdp');
    expect(described.headers.get('content-base')).toBe(`${camera.rtspUrl}/`);
    expect(described.body).toContain('s=Session streamed with GStreamer\r\n');
    expect(described.body).toContain('m=video 0 RTP/AVP 96\r\n');
    expect(described.body).toContain('a=rtpmap:96 H264/90000\r\n');
    expect(described.body).toContain(
      `a=control:${camera.rtspUrl}/stream=0?videocodec=h264&resolution=640x360\r\n`,
    );
    expect(described.body).toContain('a=x-onvif-track:VIDEO000\r\n');
    const track = `${camera.rtspUrl}/stream=0`;
    const setup = await send([
      `SETUP ${track} RTSP/1.0`,
      'Transport: RTP/AVP/TCP;unicast;interleaved=0-1',
      authorization('SETUP', track, nonce),
    ]);
    expect(setup.headers.get('session')).toMatch(/^[0-9A-F]+;timeout=60$/);
    const session = (setup.headers.get('session') ?? '').split(';')[0] ?? '';
    const play = await send([
      `PLAY ${camera.rtspUrl} RTSP/1.0`,
      `Session: ${session}`,
      authorization('PLAY', camera.rtspUrl ?? '', nonce),
    ]);
    expect(play.statusLine).toBe('RTSP/1.0 200 OK');
    expect(play.headers.get('session')).toBe(`${session};timeout=60`);
    socket.destroy();
    expect(camera.stats.rtspRequests).toBeGreaterThanOrEqual(5);
  });
});
