import type { FirmwareProfile } from './firmware-profiles.ts';

export const ROLES = ['admin', 'operator', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export interface UserAccount {
  username: string;
  password: string;
  role: Role;
  /** `root` for the account created with grp=root, `users` otherwise. */
  primaryGroup: string;
  ptz: boolean;
}

const ROLE_RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export function hasRole(account: UserAccount, minimum: Role): boolean {
  return ROLE_RANK[account.role] >= ROLE_RANK[minimum];
}

/** `user`: 1–14 characters, a-z A-Z 0-9. */
export function isValidUsername(username: string): boolean {
  return /^[A-Za-z0-9]{1,14}$/.test(username);
}

/** `pwd`: 1–64 characters, ASCII 32–126. */
export function isValidPassword(password: string): boolean {
  return /^[\x20-\x7e]{1,64}$/.test(password);
}

/** The strongest role named in a colon-separated `sgrp`, or undefined when none is. */
export function roleFromGroups(sgrp: string): { role: Role; ptz: boolean } | undefined {
  const groups = new Set(sgrp.split(':').map((group) => group.trim().toLowerCase()));
  const ptz = groups.has('ptz');
  if (groups.has('admin')) return { role: 'admin', ptz };
  if (groups.has('operator')) return { role: 'operator', ptz };
  if (groups.has('viewer')) return { role: 'viewer', ptz };
  return undefined;
}

/** The HTML page every pwdgrp.cgi write answers with (HTTP 200, errors included). */
export function pwdgrpPage(text: string): string {
  return `<html><head><title>User accounts</title></head><body bgcolor=#ffffff>${text}\n</body>\n\n</html>\n`;
}

export const PWDGRP_MESSAGES = {
  created: (user: string) => `Created account ${user}.`,
  modified: (user: string) => `Modified account ${user}.`,
  removed: (user: string) => `Removed account ${user}.`,
  exists: 'Error: this user name already exists, consult the system log file.',
  invalidPassword: 'Error: invalid password.',
  invalidUser: 'Error: account user name.',
  notInitialAdmin: 'Error: not a valid initial admin user.',
} as const;

/**
 * Linux groups and their system members as a ≤11.x device lists them before the role groups.
 * The shape follows the captures; the names are a representative subset.
 */
const LINUX_GROUPS: readonly (readonly [string, string])[] = [
  ['root', ''],
  ['daemon', ''],
  ['bin', ''],
  ['sys', ''],
  ['adm', ''],
  ['tty', 'scheduled,imaged'],
  ['disk', 'storage'],
  ['lp', ''],
  ['mail', ''],
  ['news', ''],
  ['uucp', ''],
  ['man', ''],
  ['proxy', ''],
  ['kmem', ''],
  ['input', ''],
  ['dialout', ''],
  ['cdrom', ''],
  ['floppy', ''],
  ['tape', ''],
  ['sudo', ''],
  ['audio', 'streamer,audiocontrol,sdk'],
  ['dip', ''],
  ['www-data', ''],
  ['backup', ''],
  ['list', ''],
  ['irc', ''],
  ['src', ''],
  ['shadow', 'www,streamer'],
  ['utmp', 'streamer'],
  ['video', 'streamer,imaged,overlay,sdk'],
  ['sasl', ''],
  ['plugdev', ''],
  ['staff', ''],
  ['games', ''],
  ['shutdown', ''],
];

const TRAILING_LINUX_GROUPS: readonly (readonly [string, string])[] = [
  ['anonymous', ''],
  ['crypto', 'www'],
  ['gpio', 'streamer,iod,led'],
  ['ssh-users', ''],
  ['www', 'storage'],
  ['messagebus', ''],
  ['sdk', 'sdk'],
  ['storage', 'streamer,sdk'],
  ['streamer', 'www,storage,sdk'],
  ['event', 'event,streamer'],
  ['upnp', ''],
  ['rendezvous', ''],
  ['led', 'led'],
  ['systemlog', ''],
  ['nogroup', ''],
];

const SYSTEM_MEMBERS: Record<'admin' | 'operator' | 'viewer' | 'ptz', readonly string[]> = {
  admin: ['wwwa', 'wwwao', 'wwwap', 'wwwav', 'wwwaop', 'wwwaov', 'wwwavp', 'wwwaovp'],
  operator: ['wwwo', 'wwwop', 'wwwov', 'wwwovp', 'wwwao', 'wwwaop', 'wwwaov', 'wwwaovp', 'sdk'],
  viewer: ['wwwv', 'wwwvp', 'wwwov', 'wwwovp', 'wwwav', 'wwwavp', 'wwwaov', 'wwwaovp', 'sdk'],
  ptz: ['wwwp', 'wwwap', 'wwwop', 'wwwvp', 'wwwavp', 'wwwovp', 'wwwaop', 'wwwaovp'],
};

function members(accounts: readonly UserAccount[], group: 'admin' | 'operator' | 'viewer' | 'ptz') {
  return accounts
    .filter((account) =>
      group === 'ptz'
        ? account.ptz || account.role === 'admin'
        : hasRole(account, group === 'viewer' ? 'viewer' : group),
    )
    .map((account) => account.username);
}

/** The `pwdgrp.cgi?action=get` body for a generation. */
export function formatPwdgrpGet(
  profile: FirmwareProfile,
  accounts: readonly UserAccount[],
): string {
  const roleGroups = ['admin', 'operator', 'viewer', 'ptz'] as const;
  const digusers = accounts.map((account) => account.username);
  if (profile.pwdgrpGet === 'role-groups') {
    const lines = roleGroups.map((group) => `${group}="${members(accounts, group).join(',')}"`);
    lines.push(`digusers="${digusers.join(',')}"`);
    return `${lines.join('\n')}\n`;
  }
  const lines = LINUX_GROUPS.map(([group, list]) => `${group}="${list}"`);
  const users = accounts.filter((account) => account.primaryGroup === 'users');
  lines.push(`users="${users.map((account) => account.username).join(',')}"`);
  for (const group of roleGroups) {
    const list = [...SYSTEM_MEMBERS[group], ...members(accounts, group)];
    lines.push(`${group}="${list.join(',')}"`);
  }
  lines.push(...TRAILING_LINUX_GROUPS.map(([group, list]) => `${group}="${list}"`));
  lines.push(`digusers="${digusers.join(',')}"`);
  return `${lines.join('\n')}\n\n`;
}

const ROLE_GROUP_NAMES: Record<Role, readonly string[]> = {
  admin: ['admin', 'operator', 'viewer'],
  operator: ['operator', 'viewer'],
  viewer: ['viewer'],
};

/** The `usergroup.cgi` body: the user name, then its groups. */
export function formatUsergroup(profile: FirmwareProfile, account: UserAccount): string {
  const groups = [...ROLE_GROUP_NAMES[account.role]];
  if (account.ptz || account.role === 'admin') groups.push('ptz');
  if (profile.usergroup === 'roles-only') return `${account.username}\n${groups.join(' ')}\n`;
  return `${account.username}\n${[account.primaryGroup, ...groups.sort()].join(' ')}\n`;
}
