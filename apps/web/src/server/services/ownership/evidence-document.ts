import { createHash } from 'node:crypto';
import { DomainError } from '@custody/core';

/** An invoice scan or a PDF order confirmation fits; anything larger is not evidence we store. */
export const MAX_DOCUMENT_BYTES = 10 * 1024 * 1024;

export const DOCUMENT_MEDIA_TYPES = ['application/pdf', 'image/jpeg', 'image/png'] as const;
export type DocumentMediaType = (typeof DOCUMENT_MEDIA_TYPES)[number];

const SIGNATURES: readonly { type: DocumentMediaType; bytes: readonly number[] }[] = [
  { type: 'application/pdf', bytes: [0x25, 0x50, 0x44, 0x46, 0x2d] }, // %PDF-
  { type: 'image/jpeg', bytes: [0xff, 0xd8, 0xff] },
  { type: 'image/png', bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
];

/** What the content is by its first bytes, whatever the uploader called it; null if none of ours. */
export function sniffMediaType(content: Uint8Array): DocumentMediaType | null {
  const match = SIGNATURES.find((signature) =>
    signature.bytes.every((byte, index) => content[index] === byte),
  );
  return match?.type ?? null;
}

function refuse(message: string, reason: string): DomainError {
  return new DomainError('invalid-input', message, { details: { field: 'document', reason } });
}

function normaliseMediaType(declared: string): string {
  return (declared.split(';')[0] ?? '').trim().toLowerCase();
}

/**
 * A file name safe to store and to put in a Content-Disposition header: no directories, no
 * control characters, no quotes, bounded length.
 */
export function sanitiseFilename(name: string, fallback = 'document'): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const cleaned = base
    .normalize('NFC')
    .replace(/\p{Cc}/gu, '')
    .replace(/"/g, '')
    .trim()
    .slice(0, 200);
  return cleaned === '' || cleaned === '.' || cleaned === '..' ? fallback : cleaned;
}

export interface CheckedDocument {
  filename: string;
  mediaType: DocumentMediaType;
  sizeBytes: number;
  sha256: string;
  content: Uint8Array;
}

/**
 * Accepts a PDF, JPEG or PNG of at most MAX_DOCUMENT_BYTES whose content is what it was declared
 * as: the magic bytes decide, so a renamed executable is refused however it is labelled.
 */
export function checkEvidenceDocument(input: {
  filename: string;
  declaredType: string;
  content: Uint8Array;
}): CheckedDocument {
  const { content } = input;
  if (content.byteLength === 0) throw refuse('The document is empty.', 'empty');
  if (content.byteLength > MAX_DOCUMENT_BYTES) {
    throw refuse(
      `The document is larger than ${MAX_DOCUMENT_BYTES / 1024 / 1024} MiB.`,
      'too-large',
    );
  }
  const declared = normaliseMediaType(input.declaredType);
  if (!(DOCUMENT_MEDIA_TYPES as readonly string[]).includes(declared)) {
    throw refuse('Only PDF, JPEG and PNG documents are accepted.', 'unsupported-type');
  }
  const actual = sniffMediaType(content);
  if (actual === null) {
    throw refuse(
      'The file is not a PDF, JPEG or PNG, whatever its name or declared type says.',
      'unrecognised-content',
    );
  }
  if (actual !== declared) {
    throw refuse(`The file was sent as ${declared} but its content is ${actual}.`, 'type-mismatch');
  }
  return {
    filename: sanitiseFilename(input.filename),
    mediaType: actual,
    sizeBytes: content.byteLength,
    sha256: createHash('sha256').update(content).digest('hex'),
    content,
  };
}

/**
 * Reads a request body, refusing it as soon as it grows past `limit` bytes: the stream is
 * cancelled there, so an oversized upload costs at most `limit` bytes of memory whatever
 * Content-Length claimed.
 */
export async function readBodyWithLimit(
  body: ReadableStream<Uint8Array> | null,
  limit: number = MAX_DOCUMENT_BYTES,
): Promise<Uint8Array> {
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      throw refuse(`The document is larger than ${limit / 1024 / 1024} MiB.`, 'too-large');
    }
    chunks.push(value);
  }
  const content = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    content.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return content;
}
