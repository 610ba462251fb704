import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  BRAND_AND_PROPERTIES_5_51,
  BRAND_M1065,
  IMAGE_RESOLUTION_NO_ROOT,
  LATIN1_FRIENDLY_NAME,
  LIST_EQUALS_IN_VALUE,
  LIST_ERROR_12_9,
  LIST_MIXED_ERROR,
  UPDATE_ERROR,
  UPDATE_OK,
} from '../fixtures/param-cgi.ts';
import {
  deviceBytes,
  deviceText,
  expectValueOrVapixError,
  responseOf,
} from '../test-support/fuzz.ts';
import { VapixCgiError, VapixMalformedResponseError } from '../vapix-error.ts';
import { parseParamList, parseParamListResponse, parseParamUpdate } from './param-cgi.ts';

describe('param.cgi list parser (reference §3.2)', () => {
  it('reads the recorded Brand group with the root. prefix removed and empty values kept', () => {
    const { params, errors } = parseParamList(BRAND_M1065);
    expect(params['Brand.ProdNbr']).toBe('M1065-LW');
    expect(params['Brand.ProdVariant']).toBe('');
    expect(Object.keys(params)).toHaveLength(7);
    expect(errors).toEqual([]);
  });

  it('reads CRLF bodies with trailing blank lines', () => {
    const { params } = parseParamList(BRAND_AND_PROPERTIES_5_51);
    expect(params['Properties.System.SerialNumber']).toBe('00408CFB6888');
    expect(params['Brand.ProdNbr']).toBe('P5512');
    expect(Object.values(params).some((value) => value.includes('\r'))).toBe(false);
  });

  it('keeps keys that came without root. as they are', () => {
    expect(parseParamList(IMAGE_RESOLUTION_NO_ROOT).params['Properties.Image.Resolution']).toBe(
      '1920x1080,1280x720,640x360',
    );
  });

  it('keeps = inside values and masked values', () => {
    const { params } = parseParamList(LIST_EQUALS_IN_VALUE);
    expect(params['Image.I0.Overlay.Text']).toBe('a=b==c');
    expect(params['Network.RTSP.Password']).toBe('******');
  });

  it('collects # Error: lines found among valid lines', () => {
    const { params, errors } = parseParamList(LIST_MIXED_ERROR);
    expect(params).toEqual({ 'Network.BootProto': 'dhcp', 'HTTPS.Enabled': 'yes' });
    expect(errors).toEqual(["Error -1 getting param in group 'Does.Not.Exist'"]);
  });

  it('turns a body of errors only into a VapixCgiError with the device message', () => {
    expect(() => parseParamList(LIST_ERROR_12_9)).toThrow(VapixCgiError);
    expect(() => parseParamList(LIST_ERROR_12_9)).toThrow(/Error -1 getting param in group/);
  });

  it('calls a body without any key=value line malformed', () => {
    expect(() => parseParamList('<html><body>Not a parameter list</body></html>')).toThrow(
      VapixMalformedResponseError,
    );
  });

  it('decodes ISO-8859-1 when the charset says so', () => {
    const list = parseParamListResponse(
      responseOf(LATIN1_FRIENDLY_NAME, 'text/plain; charset=ISO-8859-1'),
    );
    expect(list.params['Network.Bonjour.FriendlyName']).toBe('Caméra entrée');
  });

  it('decodes Latin-1 when no charset is given and the bytes are not UTF-8', () => {
    const list = parseParamListResponse(responseOf(LATIN1_FRIENDLY_NAME, 'text/plain'));
    expect(list.params['Network.Bonjour.FriendlyName']).toBe('Caméra entrée');
  });

  it('keeps __proto__ and toString keys as plain data', () => {
    const { params } = parseParamList('__proto__=x\ntoString=y\n');
    expect(Object.entries(params)).toEqual([
      ['__proto__', 'x'],
      ['toString', 'y'],
    ]);
    expect(Object.getPrototypeOf(params)).toBeNull();
    expect('constructor' in params).toBe(false);
  });

  it('returns a value or a VapixError for any text or bytes', () => {
    fc.assert(
      fc.property(deviceText, (input) => expectValueOrVapixError(() => parseParamList(input))),
      { numRuns: 400 },
    );
    fc.assert(
      fc.property(
        deviceBytes,
        fc.constantFrom(undefined, 'text/plain; charset=iso-8859-1'),
        (bytes, type) =>
          expectValueOrVapixError(() => parseParamListResponse(responseOf(bytes, type))),
      ),
      { numRuns: 400 },
    );
  });
});

describe('param.cgi update parser', () => {
  it('accepts the recorded OK body', () => {
    expect(() => parseParamUpdate(UPDATE_OK)).not.toThrow();
    expect(() => parseParamUpdate('OK\r\n')).not.toThrow();
  });

  it('turns # Error: into a VapixCgiError carrying the message', () => {
    expect(() => parseParamUpdate(UPDATE_ERROR)).toThrow(
      expect.objectContaining({
        cgiMessage: "Error setting 'root.Network.SSH.Enabled' to 'maybe'!",
      }),
    );
  });

  it('refuses anything other than OK', () => {
    expect(() => parseParamUpdate('')).toThrow(VapixMalformedResponseError);
    expect(() => parseParamUpdate('<html>OK?</html>')).toThrow(VapixMalformedResponseError);
  });

  it('returns or throws a VapixError for any text', () => {
    fc.assert(
      fc.property(deviceText, (input) => expectValueOrVapixError(() => parseParamUpdate(input))),
      { numRuns: 300 },
    );
  });
});
