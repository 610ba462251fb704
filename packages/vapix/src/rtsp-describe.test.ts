import { createHash } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { createAttemptBudget } from './attempt-budget.ts';
import { RTSP_DIGEST_CHALLENGE } from './fixtures/auth.ts';
import {
  RTSP_DESCRIBE_401,
  RTSP_DESCRIBE_OK,
  RTSP_OPTIONS_OK,
  RTSP_SDP_EVENTS,
  SDP_H264_640X360,
} from './fixtures/rtsp.ts';
import { parseRtspHead, rtspDescribe } from './rtsp-describe.ts';
import { VapixAuthError, VapixInsecureAuthError } from './vapix-error.ts';

const REALM = 'AXIS_ACCC8E012345';
const NONCE = '0000eb57Y1462133062b37999f0cd530f02755fa37b8df1';
const md5 = (data: string): string => createHash('md5').update(data).digest('hex');

interface RtspServer {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers
      .splice(0)
      .map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
  );
});

/**
 * Replays the recorded GStreamer exchange (K test_successful_connect): OPTIONS without auth,
 * DESCRIBE challenged with RFC 2069 Digest, then the SDP once the response hash checks out.
 */
async function rtspServer(
  options: { password?: string; challenge?: string; sdp?: string } = {},
): Promise<RtspServer> {
  const password = options.password ?? 'pass';
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    let buffer = '';
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      let end: number;
      while ((end = buffer.indexOf('\r\n\r\n')) !== -1) {
        const request = buffer.slice(0, end);
        buffer = buffer.slice(end + 4);
        requests.push(request);
        const [line = '', ...headers] = request.split('\r\n');
        const [method = '', uri = ''] = line.split(' ');
        const cseq = Number(/^CSeq: (\d+)$/m.exec(request)?.[1] ?? 0);
        if (method === 'OPTIONS') {
          socket.write(RTSP_OPTIONS_OK(cseq));
          continue;
        }
        const authorization = headers.find((header) => header.startsWith('Authorization: '));
        const response = /response="([0-9a-f]+)"/.exec(authorization ?? '')?.[1];
        const expected = md5(
          `${md5(`root:${REALM}:${password}`)}:${NONCE}:${md5(`DESCRIBE:${uri}`)}`,
        );
        if (response === expected && authorization?.includes(`uri="${uri}"`) === true) {
          socket.write(RTSP_DESCRIBE_OK(cseq, options.sdp ?? RTSP_SDP_EVENTS));
        } else {
          socket.write(RTSP_DESCRIBE_401(cseq, options.challenge ?? RTSP_DIGEST_CHALLENGE));
        }
      }
    });
    socket.on('close', () => sockets.delete(socket));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `rtsp://127.0.0.1:${port}/axis-media/media.amp?video=0&audio=0&event=on`,
    requests,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('rtspDescribe (reference §6.2)', () => {
  it('runs OPTIONS, answers the DESCRIBE challenge and parses the SDP', async () => {
    const server = await rtspServer();
    const result = await rtspDescribe(
      server.url,
      { username: 'root', password: 'pass' },
      { budget: createAttemptBudget() },
    );
    expect(result.publicMethods).toContain('DESCRIBE');
    expect(result.contentBase).toBe('rtsp://127.0.0.1/axis-media/media.amp/');
    expect(result.realm).toBe(REALM);
    expect(result.sdp.media[0]?.rtpmap[0]?.encoding).toBe('vnd.onvif.metadata');
    expect(server.requests.map((request) => request.split(' ')[0])).toEqual([
      'OPTIONS',
      'DESCRIBE',
      'DESCRIBE',
    ]);
    expect(server.requests.map((request) => /CSeq: (\d+)/.exec(request)?.[1])).toEqual([
      '1',
      '2',
      '3',
    ]);
    expect(server.requests[2]).toContain(`uri="${server.url}"`);
  });

  it('reads an H.264 video description', async () => {
    const server = await rtspServer({ sdp: SDP_H264_640X360 });
    const result = await rtspDescribe(
      server.url,
      { username: 'root', password: 'pass' },
      { budget: createAttemptBudget() },
    );
    expect(result.sdp.media[0]).toMatchObject({
      type: 'video',
      rtpmap: [{ payloadType: 96, encoding: 'H264', clockRate: 90000 }],
    });
  });

  it('reports a rejected password once, counted against the camera budget', async () => {
    const server = await rtspServer();
    const budget = createAttemptBudget();
    const error: unknown = await rtspDescribe(
      server.url,
      { username: 'root', password: 'wrong-rtsp-pass' },
      { budget },
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(VapixAuthError);
    expect(error).toMatchObject({
      code: 'VAPIX_LOGIN_FAILED',
      method: 'DESCRIBE',
      path: '/axis-media/media.amp',
    });
    expect(JSON.stringify(error) + String(error)).not.toContain('wrong-rtsp-pass');
    expect(budget.failures(new URL(server.url).host)).toBe(1);
    expect(server.requests).toHaveLength(3);
  });

  it('refuses to send a password to an RTSP server offering only Basic', async () => {
    const server = await rtspServer({ challenge: `Basic realm="${REALM}"` });
    await expect(
      rtspDescribe(
        server.url,
        { username: 'root', password: 'pass' },
        { budget: createAttemptBudget() },
      ),
    ).rejects.toBeInstanceOf(VapixInsecureAuthError);
    expect(server.requests).toHaveLength(2);
  });

  it('reports a closed port as unreachable and a silent server as a timeout', async () => {
    const server = await rtspServer();
    const url = server.url;
    await server.close();
    servers.splice(0);
    await expect(rtspDescribe(url, null, { budget: createAttemptBudget() })).rejects.toMatchObject({
      code: 'VAPIX_UNREACHABLE',
    });

    const silent = createServer(() => undefined);
    servers.push(silent);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    await expect(
      rtspDescribe(`rtsp://127.0.0.1:${port}/axis-media/media.amp`, null, {
        timeoutMs: 50,
        budget: createAttemptBudget(),
      }),
    ).rejects.toMatchObject({ code: 'VAPIX_TIMEOUT' });
    silent.close();
    servers.splice(0);
  });

  it('reads folded header lines of the recorded 401', () => {
    const head = parseRtspHead(
      RTSP_DESCRIBE_401(1, RTSP_DIGEST_CHALLENGE).split('\r\n\r\n')[0] ?? '',
    );
    expect(head.status).toBe(401);
    expect(head.headers.server?.[0]).toBe(
      'GStreamer RTSP server Date: Sat, 12 Dec 2020 10:44:25 GMT',
    );
    expect(head.headers['www-authenticate']?.[0]).toBe(RTSP_DIGEST_CHALLENGE);
  });
});
