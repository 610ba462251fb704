import { decodeText } from '../decode-text.ts';
import type { ParseContext, VapixRequest, VapixResponse } from '../request.ts';
import { VapixCgiError, VapixMalformedResponseError } from '../vapix-error.ts';

export const PARAM_CGI_PATH = '/axis-cgi/param.cgi';

export interface ParamList {
  /** Values by name without the `root.` prefix (keys follow the request's prefix, §3.2). */
  params: Readonly<Record<string, string>>;
  /** Messages of `# Error:` lines, which may sit among valid lines. */
  errors: string[];
}

const KEY = /^[\w.\-:]+$/;
const ERROR_LINE = /^#\s*Error:?\s*(.*)$/i;

function withoutRoot(key: string): string {
  return key.startsWith('root.') ? key.slice('root.'.length) : key;
}

/**
 * Parses a param.cgi `action=list` body: `key=value` per line, CRLF or LF, values may be
 * empty or contain `=`, `# Error:` lines mixed in, trailing blank lines (reference §3.2).
 * A body with errors only is a VapixCgiError; one with nothing readable is malformed.
 */
export function parseParamList(text: string, context?: ParseContext): ParamList {
  const params = Object.create(null) as Record<string, string>;
  const errors: string[] = [];
  let unreadable = 0;
  let count = 0;
  for (const line of text.split(/\r\n|\n|\r/)) {
    if (line.trim() === '') continue;
    const trimmed = line.trimStart();
    if (trimmed.startsWith('#')) {
      const error = ERROR_LINE.exec(trimmed);
      if (error !== null) errors.push((error[1] ?? '').trim());
      continue;
    }
    const separator = line.indexOf('=');
    const key = separator > 0 ? line.slice(0, separator).trim() : '';
    if (!KEY.test(key)) {
      unreadable += 1;
      continue;
    }
    const name = withoutRoot(key);
    if (!Object.prototype.hasOwnProperty.call(params, name)) {
      params[name] = line.slice(separator + 1);
      count += 1;
    }
  }
  if (count === 0 && errors.length > 0) throw new VapixCgiError(errors.join('; '), context);
  if (count === 0 && unreadable > 0) {
    throw new VapixMalformedResponseError('the parameter list has no key=value lines', context);
  }
  return { params, errors };
}

export function parseParamListResponse(response: VapixResponse, context?: ParseContext): ParamList {
  return parseParamList(decodeText(response.body, response.contentType), context);
}

/** param.cgi update answers `OK`, or `# Error: Error setting '<name>' to '<value>'!`. */
export function parseParamUpdate(text: string, context?: ParseContext): void {
  const lines = text.split(/\r\n|\n|\r/).map((line) => line.trim());
  const errors = lines.flatMap((line) => {
    const error = ERROR_LINE.exec(line);
    return error === null ? [] : [(error[1] ?? '').trim()];
  });
  if (errors.length > 0) throw new VapixCgiError(errors.join('; '), context);
  const meaningful = lines.filter((line) => line !== '');
  if (meaningful.length !== 1 || meaningful[0]?.toUpperCase() !== 'OK') {
    throw new VapixMalformedResponseError('the parameter update did not answer OK', context);
  }
}

/** `action=list`, optionally for groups such as `root.Brand` or `Properties.System`. */
export function listParams(groups?: string | readonly string[]): VapixRequest<ParamList> {
  const group = typeof groups === 'string' ? groups : groups?.join(',');
  return {
    method: 'GET',
    path: PARAM_CGI_PATH,
    query: group === undefined || group === '' ? { action: 'list' } : { action: 'list', group },
    callClass: 'normal',
    parse: parseParamListResponse,
  };
}

/**
 * `action=update` with `name=value` pairs (e.g. `root.Network.SSH.Enabled: 'yes'`). Sent as a
 * POST form so values stay out of request lines and access logs.
 */
export function updateParams(values: Readonly<Record<string, string>>): VapixRequest<void> {
  return {
    method: 'POST',
    path: PARAM_CGI_PATH,
    body: { type: 'form', value: { action: 'update', ...values } },
    callClass: 'normal',
    parse: (response, context) =>
      parseParamUpdate(decodeText(response.body, response.contentType), context),
  };
}
