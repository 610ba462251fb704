import { VapixAuthError, VapixHttpError, getUsers, updateUser } from '@custody/vapix';
import { describeLogin, type LoginCheck } from '../camera-access.ts';
import type { Verb } from '../job-context.ts';
import { failed, succeeded } from '../verb-outcome.ts';
import { locateCamera } from './locate-camera.ts';

/**
 * Changes the `next` account's password with the working `credential` admin (pwdgrp update), then
 * proves it: the new password works and, when the agent knows the old one (the admin rotating its
 * own password), the old one is rejected. The result says which of those held.
 */
export const runRotateCredential: Verb<'rotate-credential'> = async (context) => {
  const { credential: adminRef, next: nextRef } = context.params;
  const admin = context.secret(adminRef);
  const next = context.secret(nextRef);
  const located = await locateCamera(context);
  if (!located.ok) return located.failure;
  const { url } = located;

  const adminClient = context.cameras.client(url, admin);
  let accounts: string[];
  try {
    accounts = (await adminClient.send(getUsers(), { signal: context.signal })).accounts.map(
      (account) => account.username,
    );
  } catch (error) {
    if (error instanceof VapixAuthError && error.code === 'VAPIX_LOGIN_FAILED') {
      return failed(
        'login-failed',
        `The admin credential "${adminRef}" (user ${admin.username}) was rejected; nothing was changed.`,
      );
    }
    if (error instanceof VapixHttpError && error.code === 'VAPIX_FORBIDDEN') {
      return failed(
        'not-admin',
        `The credential "${adminRef}" (user ${admin.username}) is not an administrator; nothing was changed.`,
      );
    }
    throw error;
  }
  if (!accounts.includes(next.username)) {
    return failed(
      'no-such-account',
      `Camera ${context.serial} has no account "${next.username}"; nothing was changed.`,
      { url, accounts },
    );
  }

  await context.progress('change-password', `Changing the password of ${next.username}.`, 0.2);
  await adminClient.send(updateUser({ username: next.username, password: next.password }), {
    signal: context.signal,
  });

  await context.progress(
    'verify-new',
    `Checking that the new password of ${next.username} works.`,
    0.5,
  );
  const fresh = await context.cameras.checkLogin(url, next);
  // The agent knows the account's old password only when the admin rotates its own.
  const oldPassword = next.username === admin.username ? admin.password : undefined;
  let old: LoginCheck | undefined;
  if (oldPassword !== undefined && oldPassword !== next.password) {
    await context.progress(
      'verify-old',
      `Checking that the old password of ${next.username} fails.`,
      0.8,
    );
    old = await context.cameras.checkLogin(url, { username: next.username, password: oldPassword });
  }

  const newWorks = fresh.outcome === 'works';
  const oldFails = old === undefined ? null : old.outcome === 'rejected';
  const result = {
    url,
    account: next.username,
    passwordChanged: true,
    newCredentialWorks: newWorks,
    oldCredentialFails: oldFails,
    oldCredentialChecked: old !== undefined,
  };
  const findings = [`the new password ${describeLogin(fresh)}`];
  if (old !== undefined) findings.push(`the old password ${describeLogin(old)}`);
  else findings.push('the old password was not checked (the agent was not given it)');
  if (!newWorks || oldFails === false) {
    return failed(
      'rotation-unverified',
      `The password of ${next.username} was changed, but ${findings.join(' and ')}.`,
      result,
    );
  }
  return succeeded({
    ...result,
    summary: `Password of ${next.username} changed: ${findings.join(', ')}.`,
  });
};
