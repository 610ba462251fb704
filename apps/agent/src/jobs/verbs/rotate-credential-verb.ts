import { PASSWORD_POLICIES, checkPasswordPolicy, type PasswordPolicy } from '@custody/core';
import { VapixAuthError, VapixError, VapixHttpError, getUsers, updateUser } from '@custody/vapix';
import { describeLogin, type LoginCheck, type Observation } from '../camera-access.ts';
import type { Verb } from '../job-context.ts';
import { failed, jobCodeOf, succeeded, type VerbOutcome } from '../verb-outcome.ts';
import { locateCamera } from './locate-camera.ts';

function policyOf(observation: Observation): PasswordPolicy | undefined {
  const reported = observation.passphrasePolicy;
  return (PASSWORD_POLICIES as readonly string[]).includes(reported ?? '')
    ? (reported as PasswordPolicy)
    : undefined;
}

/**
 * A failure before the change was sent: the result says so (`passwordChanged: false`), which is
 * what lets the server throw the new password away instead of testing both first.
 */
function unchanged(outcome: VerbOutcome): VerbOutcome {
  if (outcome.outcome !== 'failed') return outcome;
  return { ...outcome, result: { ...outcome.result, passwordChanged: false } };
}

/**
 * Changes the `next` account's password with the working `credential` admin (pwdgrp update), then
 * proves it: the new password works and the old one is rejected. The agent knows the old password
 * when the admin rotates its own, or when the server sends it as `previous`; otherwise the old
 * one is not checked and the result says so. Every failure before the change is sent reports
 * `passwordChanged: false`; a failure during it leaves the outcome unknown (no result).
 */
export const runRotateCredential: Verb<'rotate-credential'> = async (context) => {
  const { credential: adminRef, next: nextRef, previous: previousRef } = context.params;
  const admin = context.secret(adminRef);
  const next = context.secret(nextRef);
  const previous = previousRef === undefined ? undefined : context.secret(previousRef);
  if (previous !== undefined && previous.username !== next.username) {
    return unchanged(
      failed(
        'previous-mismatch',
        `The previous credential "${previousRef}" is for user ${previous.username}, not ${next.username}; nothing was changed.`,
      ),
    );
  }
  const located = await locateCamera(context);
  if (!located.ok) return unchanged(located.failure);
  const { url } = located;

  const policy = policyOf(located.observation);
  const violations = policy === undefined ? [] : checkPasswordPolicy(next.password, policy);
  if (violations.length > 0) {
    return unchanged(
      failed(
        'password-policy',
        `The new password "${nextRef}" does not meet the camera's "${policy}" passphrase policy: ${violations.map((violation) => violation.message).join(' ')} Nothing was changed.`,
      ),
    );
  }

  const adminClient = context.cameras.client(url, admin);
  let accounts: string[];
  try {
    accounts = (await adminClient.send(getUsers(), { signal: context.signal })).accounts.map(
      (account) => account.username,
    );
  } catch (error) {
    if (!(error instanceof VapixError) || error.code === 'VAPIX_ABORTED') throw error;
    if (error instanceof VapixAuthError && error.code === 'VAPIX_LOGIN_FAILED') {
      return unchanged(
        failed(
          'login-failed',
          `The admin credential "${adminRef}" (user ${admin.username}) was rejected; nothing was changed.`,
        ),
      );
    }
    if (error instanceof VapixHttpError && error.code === 'VAPIX_FORBIDDEN') {
      return unchanged(
        failed(
          'not-admin',
          `The credential "${adminRef}" (user ${admin.username}) is not an administrator; nothing was changed.`,
        ),
      );
    }
    return unchanged(
      failed(
        jobCodeOf(error),
        `Reading the accounts failed: ${error.message}; nothing was changed.`,
      ),
    );
  }
  if (!accounts.includes(next.username)) {
    return unchanged(
      failed(
        'no-such-account',
        `Camera ${context.serial} has no account "${next.username}"; nothing was changed.`,
        { url, accounts },
      ),
    );
  }

  // Progress is not waited for: reports keep their order and all go out before the result, and
  // waiting for each to reach the disk would add three syncs to every camera of a rotation.
  void context.progress('change-password', `Changing the password of ${next.username}.`, 0.2);
  // From here on a failure may come after the camera took the change: it is left to throw, so
  // the result carries no `passwordChanged: false`.
  await adminClient.send(updateUser({ username: next.username, password: next.password }), {
    signal: context.signal,
  });

  void context.progress(
    'verify-new',
    `Checking that the new password of ${next.username} works.`,
    0.5,
  );
  const fresh = await context.cameras.checkLogin(url, next);
  const oldPassword =
    previous?.password ?? (next.username === admin.username ? admin.password : undefined);
  let old: LoginCheck | undefined;
  if (oldPassword !== undefined && oldPassword !== next.password) {
    void context.progress(
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
    newCredentialCheck: fresh.outcome,
    oldCredentialCheck: old?.outcome ?? null,
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
