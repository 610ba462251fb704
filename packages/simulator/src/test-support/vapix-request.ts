import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { parseAuthParams } from '../http-auth.ts';

/** Test-only HTTP client: exact request-targets, no keep-alive, Digest and Basic by hand. */

export interface TestResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Every value of a header, in order (Node joins repeated WWW-Authenticate headers). */
  headerValues: (name: string) => string[];
  body: Buffer;
  text: string;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Trusted certificate for https:// (the camera's own, pinned). */
  ca?: string;
}

export function sendRequest(base: string, target: string, options: RequestOptions = {}) {
  const url = new URL(base);
  const secure = url.protocol === 'https:';
  const send = secure ? httpsRequest : httpRequest;
  return new Promise<TestResponse>((resolve, reject) => {
    const req = send(
      {
        host: url.hostname,
        port: url.port,
        method: options.method ?? 'GET',
        path: target,
        headers: options.headers,
        agent: false,
        ...(secure ? { ca: options.ca } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          const raw = res.rawHeaders;
          const headerValues = (name: string) =>
            raw.flatMap((value, index) =>
              index % 2 === 0 && value.toLowerCase() === name.toLowerCase()
                ? [raw[index + 1] ?? '']
                : [],
            );
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            headerValues,
            body,
            text: body.toString('utf8'),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

export interface Credentials {
  username: string;
  password: string;
}

export interface DigestChallenge {
  realm: string;
  nonce: string;
  qop: string | undefined;
  stale: boolean;
}

export function digestChallenges(response: TestResponse): DigestChallenge[] {
  return response
    .headerValues('www-authenticate')
    .filter((value) => value.startsWith('Digest '))
    .map((value) => {
      const params = parseAuthParams(value.slice(7));
      return {
        realm: params.get('realm') ?? '',
        nonce: params.get('nonce') ?? '',
        qop: params.get('qop'),
        stale: (params.get('stale') ?? '').toLowerCase() === 'true',
      };
    });
}

const md5 = (value: string) => createHash('md5').update(value).digest('hex');

export function digestAuthorization(input: {
  credentials: Credentials;
  challenge: DigestChallenge;
  method: string;
  uri: string;
  nc: number;
  cnonce?: string;
}): string {
  const { credentials, challenge, method, uri } = input;
  const nc = input.nc.toString(16).padStart(8, '0');
  const cnonce = input.cnonce ?? randomBytes(8).toString('hex');
  const ha1 = md5(`${credentials.username}:${challenge.realm}:${credentials.password}`);
  const ha2 = md5(`${method}:${uri}`);
  const response = md5(`${ha1}:${challenge.nonce}:${nc}:${cnonce}:auth:${ha2}`);
  return (
    `Digest username="${credentials.username}", realm="${challenge.realm}", nonce="${challenge.nonce}", ` +
    `uri="${uri}", algorithm=MD5, response="${response}", qop=auth, nc=${nc}, cnonce="${cnonce}"`
  );
}

export function basicAuthorization(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

/** Sends once without credentials and, on a Digest challenge, again with them. */
export async function sendWithDigest(
  base: string,
  target: string,
  credentials: Credentials,
  options: RequestOptions = {},
): Promise<TestResponse> {
  const first = await sendRequest(base, target, options);
  const [challenge] = digestChallenges(first);
  if (first.status !== 401 || !challenge) return first;
  const method = options.method ?? 'GET';
  return sendRequest(base, target, {
    ...options,
    headers: {
      ...options.headers,
      Authorization: digestAuthorization({ credentials, challenge, method, uri: target, nc: 1 }),
    },
  });
}

export function postJson(
  base: string,
  path: string,
  body: unknown,
  credentials?: Credentials,
  options: RequestOptions = {},
): Promise<TestResponse> {
  const request = {
    ...options,
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...options.headers },
    body: JSON.stringify(body),
  };
  return credentials
    ? sendWithDigest(base, path, credentials, request)
    : sendRequest(base, path, request);
}

export function postForm(
  base: string,
  path: string,
  form: Record<string, string>,
  credentials?: Credentials,
): Promise<TestResponse> {
  const request = {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  };
  return credentials
    ? sendWithDigest(base, path, credentials, request)
    : sendRequest(base, path, request);
}

export function parseJson(response: TestResponse): Record<string, unknown> {
  return JSON.parse(response.text) as Record<string, unknown>;
}
