import { decodeText } from '../decode-text.ts';
import type { ParseContext, VapixRequest, VapixResponse } from '../request.ts';
import { VapixCgiError, VapixMalformedResponseError } from '../vapix-error.ts';
import { cgiErrorMessage, htmlText } from './html-text.ts';
import { ROLES, secondaryGroups, type Role } from './roles.ts';

export const PWDGRP_PATH = '/axis-cgi/pwdgrp.cgi';

export interface Account {
  username: string;
  roles: Role[];
}

export interface UserList {
  /** Every `group="u1,u2"` line; ≤11.x lists all Linux groups (reference §4.1). */
  groups: Readonly<Record<string, readonly string[]>>;
  /** Real accounts (`digusers`, or the older `users` group) with their roles. */
  accounts: Account[];
}

const GROUP_LINE = /^\s*([^=\s]+)\s*=(.*)$/;

/** Parses `action=get` (`group="u1,u2"` lines, CRLF or LF, empty values, `=` in values). */
export function parseUserList(text: string, context?: ParseContext): UserList {
  const groups = Object.create(null) as Record<string, string[]>;
  let unreadable = 0;
  for (const line of text.split(/\r\n|\n|\r/)) {
    if (line.trim() === '') continue;
    const match = GROUP_LINE.exec(line);
    if (match === null) {
      unreadable += 1;
      continue;
    }
    const name = match[1] ?? '';
    let value = (match[2] ?? '').trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"'))
      value = value.slice(1, -1);
    groups[name] = value
      .split(',')
      .map((member) => member.trim())
      .filter((member) => member !== '');
  }
  if (Object.keys(groups).length === 0 && unreadable > 0) {
    const error = cgiErrorMessage(htmlText(text));
    if (error !== undefined) throw new VapixCgiError(error, context);
    throw new VapixMalformedResponseError('the user list has no group="members" lines', context);
  }
  const usernames = [...new Set([...(groups.digusers ?? []), ...(groups.users ?? [])])];
  const accounts = usernames.map((username) => ({
    username,
    roles: ROLES.filter((role) => groups[role]?.includes(username) === true),
  }));
  return { groups, accounts };
}

type WriteVerb = 'Created' | 'Modified' | 'Removed';

/**
 * pwdgrp write replies are HTTP 200 HTML whatever happened (reference §4.1): success reads
 * `Created account <user>.` and failures `Error: <reason>`.
 */
export function parsePwdgrpWrite(text: string, verb: WriteVerb, context?: ParseContext): void {
  const visible = htmlText(text);
  const error = cgiErrorMessage(visible);
  if (error !== undefined) throw new VapixCgiError(error, context);
  if (!visible.startsWith(`${verb} account`)) {
    throw new VapixMalformedResponseError(
      `the device did not confirm the change ("${verb} account" missing)`,
      context,
    );
  }
}

function writeRequest(form: Record<string, string>, verb: WriteVerb): VapixRequest<void> {
  return {
    method: 'POST',
    path: PWDGRP_PATH,
    body: { type: 'form', value: form },
    callClass: 'normal',
    parse: (response: VapixResponse, context) =>
      parsePwdgrpWrite(decodeText(response.body, response.contentType), verb, context),
  };
}

/** `action=get`: groups and accounts. Needs an admin; 401/403 means the account is not one. */
export function getUsers(): VapixRequest<UserList> {
  return {
    method: 'POST',
    path: PWDGRP_PATH,
    body: { type: 'form', value: { action: 'get' } },
    callClass: 'normal',
    parse: (response, context) =>
      parseUserList(decodeText(response.body, response.contentType), context),
  };
}

export interface AddUserInput {
  username: string;
  password: string;
  roles: readonly Role[];
  /** Primary group: `users` is recommended; the first admin uses `root` (reference §4.3). */
  group?: 'users' | 'root';
  comment?: string;
}

/** `action=add`, POSTed so the password stays out of URLs and logs. */
export function addUser(input: AddUserInput): VapixRequest<void> {
  const form: Record<string, string> = {
    action: 'add',
    user: input.username,
    pwd: input.password,
    grp: input.group ?? 'users',
    sgrp: secondaryGroups(input.roles),
  };
  if (input.comment !== undefined) form.comment = input.comment;
  return writeRequest(form, 'Created');
}

export interface UpdateUserInput {
  username: string;
  password?: string;
  roles?: readonly Role[];
  comment?: string;
}

export function updateUser(input: UpdateUserInput): VapixRequest<void> {
  const form: Record<string, string> = { action: 'update', user: input.username };
  if (input.password !== undefined) form.pwd = input.password;
  if (input.roles !== undefined) form.sgrp = secondaryGroups(input.roles);
  if (input.comment !== undefined) form.comment = input.comment;
  return writeRequest(form, 'Modified');
}

export function removeUser(username: string): VapixRequest<void> {
  return writeRequest({ action: 'remove', user: username }, 'Removed');
}
