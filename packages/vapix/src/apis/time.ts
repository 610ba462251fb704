import { z } from 'zod';

import { jsonRpcRequest } from '../json-rpc.ts';
import type { VapixRequest } from '../request.ts';

export const TIME_PATH = '/axis-cgi/time.cgi';

const DateTimeInfoSchema = z.looseObject({
  dateTime: z.string(),
  localDateTime: z.string().optional(),
  maxYearSupported: z.number().optional(),
  posixTimeZone: z.string().optional(),
  timeZone: z.string().optional(),
  dstEnabled: z.boolean().optional(),
});

export type DateTimeInfo = z.infer<typeof DateTimeInfoSchema> & { apiVersion: string | undefined };

/** time.cgi getDateTimeInfo (id `time-service`, reference §6.4); 4001 = version unsupported. */
export function getDateTimeInfo(): VapixRequest<DateTimeInfo> {
  return jsonRpcRequest({
    path: TIME_PATH,
    method: 'getDateTimeInfo',
    apiVersion: '1.0',
    data: DateTimeInfoSchema,
    map: ({ apiVersion, data }) => ({ ...data, apiVersion }),
  });
}

/** setDateTime with an ISO 8601 UTC time such as `2026-10-07T16:24:01Z`. */
export function setDateTime(dateTime: string): VapixRequest<void> {
  return jsonRpcRequest({
    path: TIME_PATH,
    method: 'setDateTime',
    apiVersion: '1.0',
    params: { dateTime },
    data: z.unknown(),
    map: () => undefined,
  });
}

/** setTimeZone with an IANA name such as `Europe/Stockholm`. */
export function setTimeZone(timeZone: string): VapixRequest<void> {
  return jsonRpcRequest({
    path: TIME_PATH,
    method: 'setTimeZone',
    apiVersion: '1.0',
    params: { timeZone },
    data: z.unknown(),
    map: () => undefined,
  });
}
