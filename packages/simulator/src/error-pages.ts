import type { FirmwareProfile } from './firmware-profiles.ts';

export interface SimResponse {
  status: number;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
}

const APACHE_TITLES: Record<number, [string, string]> = {
  400: [
    'Bad Request',
    '<p>Your browser sent a request that this server could not understand.<br />\n</p>',
  ],
  401: [
    'Unauthorized',
    "<p>This server could not verify that you\nare authorized to access the document\nrequested.  Either you supplied the wrong\ncredentials (e.g., bad password), or your\nbrowser doesn't understand how to supply\nthe credentials required.</p>",
  ],
  403: ['Forbidden', "<p>You don't have permission to access this resource.</p>"],
  404: ['Not Found', '<p>The requested URL was not found on this server.</p>'],
  405: ['Method Not Allowed', '<p>The requested method is not allowed for this URL.</p>'],
  503: [
    'Service Unavailable',
    '<p>The server is temporarily unable to service your\nrequest due to maintenance downtime or capacity\nproblems. Please try again later.</p>',
  ],
};

function apachePage(status: number): string {
  const [title, text] = APACHE_TITLES[status] ?? ['Error', '<p>Error.</p>'];
  return (
    '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n' +
    `<title>${status} ${title}</title>\n</head><body>\n<h1>${title}</h1>\n${text}\n</body></html>\n`
  );
}

const BOA_TEXT: Record<number, [string, (path: string) => string]> = {
  400: ['400 Bad Request', () => 'Your client has issued a malformed or illegal request.'],
  401: [
    '401 Unauthorized',
    (path) => `Your client does not have permission to get URL ${path} from this server.`,
  ],
  403: [
    '403 Forbidden',
    (path) => `Your client does not have permission to get URL ${path} from this server.`,
  ],
  404: ['404 Not Found', (path) => `The requested URL ${path} was not found on this server.`],
  405: ['501 Not Implemented', () => 'POST to non-script is not supported in Boa.'],
  503: ['503 Service Unavailable', () => 'Service unavailable.'],
};

function boaPage(status: number, path: string): string {
  const [title, text] = BOA_TEXT[status] ?? ['500 Server Error', () => 'Server error.'];
  return `<HTML><HEAD><TITLE>${title}</TITLE></HEAD>\n<BODY><H1>${title}</H1>\n${text(path)}\n</BODY></HTML>\n`;
}

/** Headers 12.x sends on every answer from its Apache front end (observed on 401s). */
export const HARDENING_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'SAMEORIGIN',
  'X-XSS-Protection': '1; mode=block',
  'Referrer-Policy': 'strict-origin-when-cross-origin',
};

/** The web server's own error page: Boa on 5.51, Apache on later firmware. */
export function errorPage(
  profile: FirmwareProfile,
  status: number,
  path: string,
  headers: Record<string, string | string[]> = {},
): SimResponse {
  if (profile.webServer === 'boa') {
    return {
      status,
      headers: { 'Content-Type': 'text/html; charset=ISO-8859-1', ...headers },
      body: boaPage(status, path),
    };
  }
  if (status === 401 && profile.unauthorizedStyle === 'json') {
    return {
      status,
      headers: {
        ...HARDENING_HEADERS,
        'Content-Type': 'application/json; charset=utf-8',
        ...headers,
      },
      body: '',
    };
  }
  return {
    status,
    headers: { 'Content-Type': 'text/html; charset=iso-8859-1', ...headers },
    body: apachePage(status),
  };
}
