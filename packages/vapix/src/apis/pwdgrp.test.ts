import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  ADD_INVALID_PASSWORD,
  ADD_INVALID_USERNAME,
  ADD_OK,
  ADD_USER_EXISTS,
  GET_12_11,
  GET_CRLF,
  GET_OLDER,
  NOT_A_VALID_INITIAL_ADMIN,
  REMOVE_MISSING,
  REMOVE_OK,
  UPDATE_OK,
  USERGROUP_ROOT_12_11,
  USERGROUP_ROOT_OLDER,
  USERGROUP_VIEWER_OLDER,
} from '../fixtures/pwdgrp.ts';
import { deviceText, expectValueOrVapixError } from '../test-support/fuzz.ts';
import { VapixCgiError, VapixMalformedResponseError } from '../vapix-error.ts';
import { parsePwdgrpWrite, parseUserList } from './pwdgrp.ts';
import { secondaryGroups } from './roles.ts';
import { parseCurrentUser } from './user-group.ts';

describe('pwdgrp.cgi action=get parser (reference §4.1)', () => {
  it('reads the 12.11 five-line answer into accounts with roles', () => {
    const { accounts } = parseUserList(GET_12_11);
    expect(accounts).toEqual([
      { username: 'root', roles: ['admin', 'operator', 'viewer', 'ptz'] },
      { username: 'fakeroot', roles: ['admin', 'operator', 'viewer', 'ptz'] },
      { username: 'root20', roles: ['admin', 'operator', 'viewer', 'ptz'] },
      { username: 'acs', roles: ['operator', 'viewer'] },
    ]);
  });

  it('reads the CRLF variant', () => {
    const { groups, accounts } = parseUserList(GET_CRLF);
    expect(groups.digusers).toEqual(['root', 'axisconnect']);
    expect(accounts.map((account) => account.username)).toEqual(['root', 'axisconnect']);
  });

  it('reads the older variant: Linux groups, empty values and the users group', () => {
    const { groups, accounts } = parseUserList(GET_OLDER);
    expect(groups.anonymous).toEqual([]);
    expect(groups.gpio).not.toContain('');
    const byName = Object.fromEntries(accounts.map((account) => [account.username, account.roles]));
    expect(byName.userv).toEqual(['viewer']);
    expect(byName.usero).toEqual(['operator', 'viewer']);
    expect(byName.usera).toEqual(['admin', 'operator', 'viewer', 'ptz']);
  });

  it('keeps = inside a quoted value', () => {
    expect(parseUserList('equals-in-value="xyz=="\n').groups['equals-in-value']).toEqual(['xyz==']);
  });

  it('turns an HTML error page into a VapixCgiError', () => {
    expect(() => parseUserList(ADD_INVALID_USERNAME)).toThrow(VapixCgiError);
  });

  it('returns a value or a VapixError for any text', () => {
    fc.assert(
      fc.property(deviceText, (input) => expectValueOrVapixError(() => parseUserList(input))),
      { numRuns: 400 },
    );
  });
});

describe('pwdgrp.cgi write replies (HTML with HTTP 200)', () => {
  it('accepts the recorded success pages', () => {
    expect(() => parsePwdgrpWrite(ADD_OK, 'Created')).not.toThrow();
    expect(() => parsePwdgrpWrite(REMOVE_OK, 'Removed')).not.toThrow();
    expect(() => parsePwdgrpWrite(UPDATE_OK, 'Modified')).not.toThrow();
  });

  it.each([
    [ADD_USER_EXISTS, 'this user name already exists, consult the system log file.'],
    [ADD_INVALID_PASSWORD, 'invalid password.'],
    [ADD_INVALID_USERNAME, 'account user name.'],
    [REMOVE_MISSING, 'account user name.'],
    [NOT_A_VALID_INITIAL_ADMIN, 'not a valid initial admin user.'],
  ])('turns an Error: page into a VapixCgiError carrying "%s"', (page, message) => {
    expect(() => parsePwdgrpWrite(page, 'Created')).toThrow(
      expect.objectContaining({ cgiMessage: message }),
    );
  });

  it('refuses a page that does not confirm the change', () => {
    expect(() => parsePwdgrpWrite('', 'Created')).toThrow(VapixMalformedResponseError);
    expect(() => parsePwdgrpWrite(REMOVE_OK, 'Created')).toThrow(VapixMalformedResponseError);
  });

  it('returns or throws a VapixError for any text', () => {
    fc.assert(
      fc.property(deviceText, (input) =>
        expectValueOrVapixError(() => parsePwdgrpWrite(input, 'Created')),
      ),
      { numRuns: 300 },
    );
  });

  it('writes admin as admin:operator:viewer:ptz and widens operator to viewer', () => {
    expect(secondaryGroups(['ptz', 'admin'])).toBe('admin:operator:viewer:ptz');
    expect(secondaryGroups(['operator'])).toBe('operator:viewer');
  });
});

describe('usergroup.cgi parser (who am I)', () => {
  it('reads the older two-line answer with the primary group first', () => {
    expect(parseCurrentUser(USERGROUP_ROOT_OLDER)).toEqual({
      username: 'root',
      primaryGroup: 'root',
      groups: ['root', 'admin', 'operator', 'ptz', 'viewer'],
      roles: ['admin', 'operator', 'ptz', 'viewer'],
    });
    expect(parseCurrentUser(USERGROUP_VIEWER_OLDER).roles).toEqual(['viewer']);
  });

  it('reads the 12.11 answer without a primary group', () => {
    const user = parseCurrentUser(USERGROUP_ROOT_12_11);
    expect(user.primaryGroup).toBeUndefined();
    expect(user.roles).toEqual(['admin', 'operator', 'viewer', 'ptz']);
  });

  it('calls an empty or HTML answer malformed', () => {
    expect(() => parseCurrentUser('')).toThrow(VapixMalformedResponseError);
    expect(() => parseCurrentUser('<html><body>x</body></html>\nfoo\nbar')).toThrow(
      VapixMalformedResponseError,
    );
  });

  it('returns a value or a VapixError for any text', () => {
    fc.assert(
      fc.property(deviceText, (input) => expectValueOrVapixError(() => parseCurrentUser(input))),
      { numRuns: 300 },
    );
  });
});
