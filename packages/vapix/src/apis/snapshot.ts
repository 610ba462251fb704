import { mediaTypeOf } from '../decode-text.ts';
import type { ParseContext, VapixRequest, VapixResponse } from '../request.ts';
import { VapixMalformedResponseError } from '../vapix-error.ts';

export const SNAPSHOT_PATH = '/axis-cgi/jpg/image.cgi';

export interface SnapshotOptions {
  /** One of `Properties.Image.Resolution`, e.g. `640x360`. */
  resolution?: string;
  /** 0–100. */
  compression?: number;
  /** Video channel, 1-based. */
  camera?: number;
}

export interface Snapshot {
  contentType: string;
  jpeg: Buffer;
}

/** A real JPEG: `image/jpeg` and the SOI marker FF D8 FF (reference §6.1). */
export function parseSnapshot(response: VapixResponse, context?: ParseContext): Snapshot {
  if (mediaTypeOf(response.contentType) !== 'image/jpeg') {
    throw new VapixMalformedResponseError(
      `the snapshot is not image/jpeg (content-type ${response.contentType ?? 'missing'})`,
      context,
    );
  }
  const { body } = response;
  if (body.length < 3 || body[0] !== 0xff || body[1] !== 0xd8 || body[2] !== 0xff) {
    throw new VapixMalformedResponseError(
      'the snapshot body does not start with a JPEG marker',
      context,
    );
  }
  return { contentType: response.contentType ?? 'image/jpeg', jpeg: body };
}

export function snapshot(options: SnapshotOptions = {}): VapixRequest<Snapshot> {
  const query: Record<string, string | number> = {};
  if (options.resolution !== undefined) query.resolution = options.resolution;
  if (options.compression !== undefined) query.compression = options.compression;
  if (options.camera !== undefined) query.camera = options.camera;
  return {
    method: 'GET',
    path: SNAPSHOT_PATH,
    ...(Object.keys(query).length > 0 ? { query } : {}),
    callClass: 'normal',
    parse: parseSnapshot,
  };
}
