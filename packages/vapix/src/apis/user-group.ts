import { decodeText } from '../decode-text.ts';
import type { ParseContext, VapixRequest } from '../request.ts';
import { VapixMalformedResponseError } from '../vapix-error.ts';
import { isRole, type Role } from './roles.ts';

export const USER_GROUP_PATH = '/axis-cgi/usergroup.cgi';

export interface CurrentUser {
  username: string;
  /** The primary group (first word of the second line on older firmware). */
  primaryGroup: string | undefined;
  /** Every word of the second line. */
  groups: string[];
  roles: Role[];
}

/**
 * Parses usergroup.cgi: `root\nroot admin operator ptz viewer\n` (older) or
 * `root\nadmin operator viewer ptz` (12.11), reference §4.1.
 */
export function parseCurrentUser(text: string, context?: ParseContext): CurrentUser {
  const lines = text
    .split(/\r\n|\n|\r/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const username = lines[0];
  if (username === undefined || /[\s<>]/.test(username) || lines.length > 2) {
    throw new VapixMalformedResponseError(
      'usergroup.cgi did not answer "<user>\\n<groups>"',
      context,
    );
  }
  const groups = (lines[1] ?? '').split(/\s+/).filter((group) => group !== '');
  const first = groups[0];
  return {
    username,
    primaryGroup: first !== undefined && !isRole(first) ? first : undefined,
    groups,
    roles: groups.filter(isRole),
  };
}

/** Who the credentials belong to and what they may do; absent (404) on some firmware. */
export function whoAmI(): VapixRequest<CurrentUser> {
  return {
    method: 'GET',
    path: USER_GROUP_PATH,
    callClass: 'normal',
    parse: (response, context) =>
      parseCurrentUser(decodeText(response.body, response.contentType), context),
  };
}
