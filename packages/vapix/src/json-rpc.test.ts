import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

import { GET_ALL_PROPERTIES_9_80, UNRESTRICTED_2004_ERROR } from './fixtures/basic-device-info.ts';
import { FWMGR_ERROR_405, FWMGR_ERROR_421 } from './fixtures/maintenance.ts';
import { TIME_4001 } from './fixtures/network-and-time.ts';
import { parseJsonRpcEnvelope, parseJsonRpcResponse } from './json-rpc.ts';
import { deviceText, expectValueOrVapixError, responseOf } from './test-support/fuzz.ts';
import { VapixMalformedResponseError } from './vapix-error.ts';

describe('JSON-RPC envelope (reference §7.3)', () => {
  it.each([
    [UNRESTRICTED_2004_ERROR, 2004],
    [FWMGR_ERROR_421, 421],
    [FWMGR_ERROR_405, 405],
    [TIME_4001, 4001],
  ])('turns an error object inside a 200 body into a VapixApiError (%#)', (body, code) => {
    expect(() => parseJsonRpcEnvelope(body)).toThrow(
      expect.objectContaining({ apiCode: code, code: 'VAPIX_API_ERROR' }),
    );
  });

  it('reads optional method and context echoes and a higher apiVersion', () => {
    expect(parseJsonRpcEnvelope(GET_ALL_PROPERTIES_9_80)).toMatchObject({
      apiVersion: '1.1',
      method: 'getAllProperties',
      context: 'Axis library',
    });
    expect(parseJsonRpcEnvelope('{"apiVersion":"1.3","data":{}}')).toMatchObject({
      method: undefined,
      context: undefined,
    });
  });

  it('calls non-JSON, non-objects and unreadable error objects malformed', () => {
    expect(() => parseJsonRpcEnvelope('<html>')).toThrow(VapixMalformedResponseError);
    expect(() => parseJsonRpcEnvelope('[1]')).toThrow(VapixMalformedResponseError);
    expect(() => parseJsonRpcEnvelope('{"error":"boom"}')).toThrow(VapixMalformedResponseError);
  });

  it('validates data with the schema and reports a mismatch as malformed', () => {
    const schema = z.object({ propertyList: z.record(z.string(), z.string()) });
    expect(
      parseJsonRpcResponse(responseOf(GET_ALL_PROPERTIES_9_80), schema).data.propertyList.ProdNbr,
    ).toBe('M1065-LW');
    expect(() => parseJsonRpcResponse(responseOf('{"data":{"propertyList":3}}'), schema)).toThrow(
      VapixMalformedResponseError,
    );
  });

  it('reads bodies sent with the non-standard charset=utf8 (9.80 apidiscovery)', () => {
    const result = parseJsonRpcResponse(
      responseOf('{"data":{"x":"é"}}', 'application/json;charset=utf8'),
      z.object({ x: z.string() }),
    );
    expect(result.data.x).toBe('é');
  });

  it('returns a value or a VapixError for any text or JSON value', () => {
    const api = z.object({ apiList: z.array(z.object({ id: z.string() })) });
    fc.assert(
      fc.property(deviceText, (input) =>
        expectValueOrVapixError(() => parseJsonRpcEnvelope(input)),
      ),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.jsonValue(), (value) =>
        expectValueOrVapixError(() =>
          parseJsonRpcResponse(responseOf(JSON.stringify(value) ?? 'null'), api),
        ),
      ),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(
        fc.record({ error: fc.jsonValue(), data: fc.jsonValue() }, { requiredKeys: [] }),
        (value) => expectValueOrVapixError(() => parseJsonRpcEnvelope(JSON.stringify(value))),
      ),
      { numRuns: 300 },
    );
  });
});
