import type { ParseContext } from './request.ts';
import { VapixMalformedResponseError } from './vapix-error.ts';

export interface SdpAttribute {
  name: string;
  value: string | undefined;
}

export interface RtpMap {
  payloadType: number;
  encoding: string;
  clockRate: number;
  channels?: number;
}

export interface SdpMedia {
  /** `video`, `audio`, `application` (ONVIF metadata). */
  type: string;
  port: number;
  protocol: string;
  formats: string[];
  control: string | undefined;
  rtpmap: RtpMap[];
  attributes: SdpAttribute[];
}

export interface SessionDescription {
  version: number;
  sessionName: string | undefined;
  /** Session-level `a=control`, the aggregate URL. */
  control: string | undefined;
  attributes: SdpAttribute[];
  media: SdpMedia[];
}

const LINE = /^([a-z])=(.*)$/;
const MEDIA = /^(\S+) (\d+)(?:\/\d+)? (\S+)(?: (.*))?$/;
const RTPMAP = /^(\d+) ([^/\s]+)\/(\d+)(?:\/(\d+))?/;

function attributeOf(value: string): SdpAttribute {
  const colon = value.indexOf(':');
  return colon === -1
    ? { name: value, value: undefined }
    : { name: value.slice(0, colon), value: value.slice(colon + 1) };
}

/**
 * Parses an SDP body (RFC 8866) into the session and its media sections with their rtpmap and
 * control attributes, as AXIS/GStreamer send them (reference §6.2). Unknown lines are kept as
 * attributes or ignored; a body that is not SDP is a VapixMalformedResponseError.
 */
export function parseSdp(text: string, context?: ParseContext): SessionDescription {
  const lines = text.split(/\r\n|\n|\r/).filter((line) => line.trim() !== '');
  const first = LINE.exec(lines[0] ?? '');
  if (first === null || first[1] !== 'v' || !/^\d+$/.test(first[2] ?? '')) {
    throw new VapixMalformedResponseError('the SDP does not start with a v= line', context);
  }
  const session: SessionDescription = {
    version: Number(first[2]),
    sessionName: undefined,
    control: undefined,
    attributes: [],
    media: [],
  };
  let media: SdpMedia | undefined;
  for (const line of lines.slice(1)) {
    const match = LINE.exec(line);
    if (match === null) continue;
    const type = match[1];
    const value = match[2] ?? '';
    if (type === 'm') {
      const parsed = MEDIA.exec(value);
      if (parsed === null)
        throw new VapixMalformedResponseError('the SDP has an unreadable m= line', context);
      media = {
        type: parsed[1] ?? '',
        port: Number(parsed[2]),
        protocol: parsed[3] ?? '',
        formats: (parsed[4] ?? '').split(' ').filter((format) => format !== ''),
        control: undefined,
        rtpmap: [],
        attributes: [],
      };
      session.media.push(media);
    } else if (type === 's' && media === undefined) {
      session.sessionName = value;
    } else if (type === 'a') {
      const attribute = attributeOf(value);
      const target = media ?? session;
      target.attributes.push(attribute);
      if (attribute.name === 'control' && target.control === undefined)
        target.control = attribute.value;
      if (attribute.name === 'rtpmap' && media !== undefined) {
        const rtpmap = RTPMAP.exec(attribute.value ?? '');
        if (rtpmap !== null) {
          media.rtpmap.push({
            payloadType: Number(rtpmap[1]),
            encoding: rtpmap[2] ?? '',
            clockRate: Number(rtpmap[3]),
            ...(rtpmap[4] !== undefined ? { channels: Number(rtpmap[4]) } : {}),
          });
        }
      }
    }
  }
  return session;
}
