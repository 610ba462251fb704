import { z } from 'zod';

import { jsonRpcRequest } from '../json-rpc.ts';
import type { VapixRequest } from '../request.ts';

export const API_DISCOVERY_PATH = '/axis-cgi/apidiscovery.cgi';

const ApiEntrySchema = z.object({
  id: z.string(),
  version: z.union([z.string(), z.number()]).transform(String),
  name: z.string().optional(),
  docLink: z.string().optional(),
  /** `official` or `beta` on 10.12+ (reference §3.3). */
  status: z.string().optional(),
});

export type ApiListEntry = z.infer<typeof ApiEntrySchema>;

// Built once: zod compiles an object schema's parser on its first use.
const ApiListSchema = z.object({ apiList: z.array(ApiEntrySchema) });

export interface ApiList {
  apiVersion: string | undefined;
  apis: ApiListEntry[];
}

/** apidiscovery getApiList (9.x+); 5.x answers 404, which surfaces as VapixUnsupportedError. */
export function getApiList(): VapixRequest<ApiList> {
  return jsonRpcRequest({
    path: API_DISCOVERY_PATH,
    method: 'getApiList',
    apiVersion: '1.0',
    data: ApiListSchema,
    map: ({ apiVersion, data }) => ({ apiVersion, apis: data.apiList }),
  });
}
