import { X509Certificate, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { isIP } from 'node:net';

export interface SelfSignedCertificate {
  certificatePem: string;
  privateKeyPem: string;
  /** SHA-256 fingerprint as Node prints it: colon-separated upper-case hex. */
  fingerprint256: string;
}

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), encodeLength(body.length), body]);
}

const sequence = (...content: Buffer[]) => tlv(0x30, ...content);

function positiveInteger(bytes: Buffer): Buffer {
  const first = bytes[0] ?? 0;
  return tlv(0x02, first & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

function objectIdentifier(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let value = arc >> 7; value > 0; value >>= 7) chunk.unshift((value & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return date.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`, 'ascii'))
    : tlv(0x18, Buffer.from(`${iso}Z`, 'ascii'));
}

function commonName(value: string): Buffer {
  return sequence(tlv(0x31, sequence(objectIdentifier('2.5.4.3'), tlv(0x0c, Buffer.from(value)))));
}

function subjectAltName(names: readonly string[]): Buffer {
  const entries = names.map((name) =>
    isIP(name) === 4
      ? tlv(0x87, Buffer.from(name.split('.').map(Number)))
      : tlv(0x82, Buffer.from(name, 'ascii')),
  );
  return sequence(objectIdentifier('2.5.29.17'), tlv(0x04, sequence(...entries)));
}

const ECDSA_WITH_SHA256 = () => sequence(objectIdentifier('1.2.840.10045.4.3.2'));

/**
 * An ECDSA P-256 self-signed server certificate built with node:crypto alone, so a camera's
 * HTTPS costs a millisecond on first use and no dependency.
 */
export function createSelfSignedCertificate(options: {
  commonName: string;
  altNames: readonly string[];
  validDays?: number;
  now?: Date;
}): SelfSignedCertificate {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const now = options.now ?? new Date();
  const notBefore = new Date(now.getTime() - 24 * 60 * 60 * 1000);
  const notAfter = new Date(now.getTime() + (options.validDays ?? 3650) * 24 * 60 * 60 * 1000);
  const serial = randomBytes(16);
  // DER integers are minimal and this one positive: the first byte is never 0x00 nor ≥ 0x80.
  serial[0] = 0x40 | ((serial[0] ?? 0) & 0x3f);
  const name = commonName(options.commonName);
  const toBeSigned = sequence(
    tlv(0xa0, positiveInteger(Buffer.from([2]))),
    positiveInteger(serial),
    ECDSA_WITH_SHA256(),
    name,
    sequence(time(notBefore), time(notAfter)),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, sequence(subjectAltName(options.altNames))),
  );
  const signature = sign('sha256', toBeSigned, privateKey);
  const der = sequence(toBeSigned, ECDSA_WITH_SHA256(), tlv(0x03, Buffer.from([0]), signature));
  const base64 = der.toString('base64').replace(/.{64}/g, '$&\n');
  const certificatePem = `-----BEGIN CERTIFICATE-----\n${base64.trimEnd()}\n-----END CERTIFICATE-----\n`;
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return {
    certificatePem,
    privateKeyPem,
    fingerprint256: new X509Certificate(certificatePem).fingerprint256,
  };
}
