import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { RTSP_SDP_EVENTS, SDP_H264_640X360 } from './fixtures/rtsp.ts';
import { parseSdp } from './sdp.ts';
import { deviceText, expectValueOrVapixError } from './test-support/fuzz.ts';
import { VapixMalformedResponseError } from './vapix-error.ts';

describe('SDP parser (reference §6.2)', () => {
  it('reads the recorded H.264 description into one video section with rtpmap and control', () => {
    const sdp = parseSdp(SDP_H264_640X360);
    expect(sdp.sessionName).toBe('Session streamed with GStreamer');
    expect(sdp.control).toContain('axis-media/media.amp?videocodec=h264');
    expect(sdp.media).toHaveLength(1);
    const [video] = sdp.media;
    expect(video).toMatchObject({ type: 'video', port: 0, protocol: 'RTP/AVP', formats: ['96'] });
    expect(video?.rtpmap).toEqual([{ payloadType: 96, encoding: 'H264', clockRate: 90000 }]);
    expect(video?.control).toBe(
      'rtsp://camera.invalid/axis-media/media.amp/stream=0?videocodec=h264&resolution=640x360&fps=10&videokeyframeinterval=10&audio=0',
    );
    expect(video?.attributes).toContainEqual({ name: 'x-onvif-track', value: 'VIDEO000' });
  });

  it('reads the CRLF event-stream description with the ONVIF metadata section', () => {
    const sdp = parseSdp(RTSP_SDP_EVENTS);
    expect(sdp.media.map((media) => media.type)).toEqual(['application']);
    expect(sdp.media[0]?.rtpmap[0]).toEqual({
      payloadType: 98,
      encoding: 'vnd.onvif.metadata',
      clockRate: 90000,
    });
  });

  it('reads audio channels from rtpmap', () => {
    const sdp = parseSdp('v=0\nm=audio 0 RTP/AVP 97\na=rtpmap:97 MPEG4-GENERIC/16000/2\n');
    expect(sdp.media[0]?.rtpmap[0]).toEqual({
      payloadType: 97,
      encoding: 'MPEG4-GENERIC',
      clockRate: 16000,
      channels: 2,
    });
  });

  it('refuses a body that is not SDP', () => {
    expect(() => parseSdp('<html>401</html>')).toThrow(VapixMalformedResponseError);
    expect(() => parseSdp('v=0\nm=video\n')).toThrow(VapixMalformedResponseError);
  });

  it('returns a value or a VapixError for any text', () => {
    fc.assert(
      fc.property(deviceText, (input) => expectValueOrVapixError(() => parseSdp(input))),
      { numRuns: 400 },
    );
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 10 }), (lines) =>
        expectValueOrVapixError(() => parseSdp(['v=0', ...lines].join('\r\n'))),
      ),
      { numRuns: 300 },
    );
  });
});
