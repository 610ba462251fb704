const LATIN1_CHARSETS = new Set(['iso-8859-1', 'iso8859-1', 'latin1', 'latin-1', 'l1', 'us-ascii']);

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** The lower-cased `charset` parameter of a Content-Type header, if any. */
export function charsetOf(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const match = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType);
  return match?.[1]?.toLowerCase();
}

/** The lower-cased media type of a Content-Type header, without parameters. */
export function mediaTypeOf(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const type = contentType.split(';')[0]?.trim().toLowerCase();
  return type === '' ? undefined : type;
}

/**
 * Decodes a device text body. Older firmware sends ISO-8859-1 (reference §3.2, §7.8) and
 * some replies declare no charset at all, so bytes that are not valid UTF-8 are read as
 * Latin-1 rather than turned into replacement characters. 9.80's `charset=utf8` is UTF-8.
 */
export function decodeText(body: Uint8Array, contentType?: string): string {
  const charset = charsetOf(contentType);
  if (charset !== undefined && LATIN1_CHARSETS.has(charset)) {
    return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('latin1');
  }
  try {
    return strictUtf8.decode(body);
  } catch {
    return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('latin1');
  }
}
