import fc from 'fast-check';
import { expect } from 'vitest';

import type { VapixResponse } from '../request.ts';
import { VapixError } from '../vapix-error.ts';

/** Runs a parser and accepts only a value or a typed VapixError. */
export function expectValueOrVapixError(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(VapixError);
  }
}

export function responseOf(
  body: Buffer | string,
  contentType?: string,
  status = 200,
): VapixResponse {
  return {
    status,
    headers: contentType === undefined ? {} : { 'content-type': contentType },
    contentType,
    body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
  };
}

/** Random text biased towards the characters device bodies are made of. */
export const deviceText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc
    .array(
      fc.constantFrom(
        'root.',
        'Brand',
        '=',
        '"',
        ',',
        '\r\n',
        '\n',
        '# Error:',
        'Error: ',
        'a',
        ' ',
        '<body>',
        'é',
        '\u0000',
        'v=0',
        'm=',
        'a=rtpmap:',
        '{',
        '}',
        ':',
      ),
      { maxLength: 40 },
    )
    .map((parts) => parts.join('')),
);

export const deviceBytes = fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes));
