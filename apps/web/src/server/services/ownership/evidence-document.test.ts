import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isDomainError } from '@custody/core';
import {
  MAX_DOCUMENT_BYTES,
  checkEvidenceDocument,
  readBodyWithLimit,
  sanitiseFilename,
  sniffMediaType,
} from './evidence-document.ts';

const PDF = new TextEncoder().encode('%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n');
const JPEG = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0xff, 0xd9]);
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);
const EXE = new TextEncoder().encode('MZ\x90\x00 this program cannot be run in DOS mode');

function reasonOf(run: () => unknown): string | null {
  try {
    run();
    return null;
  } catch (error) {
    return isDomainError(error, 'invalid-input') ? String(error.details.reason) : 'other';
  }
}

describe('sniffMediaType', () => {
  it('recognises PDF, JPEG and PNG by their first bytes and nothing else', () => {
    expect(sniffMediaType(PDF)).toBe('application/pdf');
    expect(sniffMediaType(JPEG)).toBe('image/jpeg');
    expect(sniffMediaType(PNG)).toBe('image/png');
    expect(sniffMediaType(EXE)).toBeNull();
    expect(sniffMediaType(new Uint8Array(0))).toBeNull();
    expect(sniffMediaType(new TextEncoder().encode('<html>%PDF-'))).toBeNull();
  });
});

describe('checkEvidenceDocument', () => {
  it('accepts a PDF declared as one and hashes it', () => {
    const checked = checkEvidenceDocument({
      filename: 'invoice.pdf',
      declaredType: 'application/pdf; charset=binary',
      content: PDF,
    });
    expect(checked).toMatchObject({
      filename: 'invoice.pdf',
      mediaType: 'application/pdf',
      sizeBytes: PDF.byteLength,
      sha256: createHash('sha256').update(PDF).digest('hex'),
    });
  });

  it('refuses an empty file and one over the size limit', () => {
    expect(
      reasonOf(() =>
        checkEvidenceDocument({
          filename: 'a.pdf',
          declaredType: 'application/pdf',
          content: new Uint8Array(0),
        }),
      ),
    ).toBe('empty');
    const big = new Uint8Array(MAX_DOCUMENT_BYTES + 1);
    big.set(PDF);
    expect(
      reasonOf(() =>
        checkEvidenceDocument({ filename: 'a.pdf', declaredType: 'application/pdf', content: big }),
      ),
    ).toBe('too-large');
  });

  it('refuses types other than PDF, JPEG and PNG whatever the content', () => {
    expect(
      reasonOf(() =>
        checkEvidenceDocument({ filename: 'a.gif', declaredType: 'image/gif', content: PNG }),
      ),
    ).toBe('unsupported-type');
  });

  it('trusts the magic bytes, not the declared type or the file name', () => {
    expect(
      reasonOf(() =>
        checkEvidenceDocument({
          filename: 'invoice.pdf',
          declaredType: 'application/pdf',
          content: EXE,
        }),
      ),
    ).toBe('unrecognised-content');
    expect(
      reasonOf(() =>
        checkEvidenceDocument({ filename: 'photo.png', declaredType: 'image/png', content: JPEG }),
      ),
    ).toBe('type-mismatch');
  });
});

describe('sanitiseFilename', () => {
  it('drops directories, control characters and quotes, and never returns an empty name', () => {
    expect(sanitiseFilename('C:\\scans\\..\\invoice "2020".pdf')).toBe('invoice 2020.pdf');
    expect(sanitiseFilename('../../etc/passwd')).toBe('passwd');
    expect(sanitiseFilename('a\r\nb.pdf')).toBe('ab.pdf');
    expect(sanitiseFilename('..')).toBe('document');
    expect(sanitiseFilename('')).toBe('document');
  });
});

describe('readBodyWithLimit', () => {
  function streamOf(chunks: Uint8Array[], onCancel: () => void) {
    let index = 0;
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        const chunk = chunks[index++];
        if (chunk === undefined) controller.close();
        else controller.enqueue(chunk);
      },
      cancel: onCancel,
    });
  }

  it('joins the chunks of a body within the limit', async () => {
    const body = streamOf([PDF.subarray(0, 5), PDF.subarray(5)], () => undefined);
    expect(await readBodyWithLimit(body, 1024)).toEqual(PDF);
  });

  it('stops reading and cancels the stream as soon as the limit is passed', async () => {
    let cancelled = false;
    let pulled = 0;
    const chunks = Array.from({ length: 100 }, () => new Uint8Array(64));
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        controller.enqueue(chunks[0] ?? new Uint8Array(0));
      },
      cancel() {
        cancelled = true;
      },
    });
    const error = await readBodyWithLimit(body, 200).catch((caught: unknown) => caught);
    expect(isDomainError(error, 'invalid-input')).toBe(true);
    expect((error as { details: { reason: string } }).details.reason).toBe('too-large');
    expect(cancelled).toBe(true);
    expect(pulled).toBeLessThan(10);
  });

  it('reads a missing body as empty', async () => {
    expect((await readBodyWithLimit(null)).byteLength).toBe(0);
  });
});
