import type { LoginCheck } from '../camera-access.ts';
import type { Verb } from '../job-context.ts';
import { succeeded, type JsonRecord } from '../verb-outcome.ts';
import { locateCamera } from './locate-camera.ts';

export type CredentialTestOutcome = 'works' | 'rejected' | 'not-tried-budget-spent' | 'locked-out';

/**
 * Tries each referenced credential once, in the order given, through the agent-wide attempt
 * budget. When the budget is spent or the camera starts blocking, the rest are not tried, and the
 * result says so: this verb must never turn into a guessing loop.
 */
export const runTestCredential: Verb<'test-credential'> = async (context) => {
  const located = await locateCamera(context);
  if (!located.ok) return located.failure;
  const { url } = located;
  const refs = [...new Set(context.params.credentials)];
  // Two references to the same username and password are one attempt, not two.
  const tried = new Map<string, LoginCheck>();
  const entries: JsonRecord[] = [];
  let stopped: { reason: 'budget-spent' | 'locked-out'; retryAfterMs: number } | undefined;

  for (const [index, ref] of refs.entries()) {
    const credentials = context.secret(ref);
    let outcome: CredentialTestOutcome;
    let isAdmin: boolean | null = null;
    if (stopped !== undefined) {
      outcome = stopped.reason === 'budget-spent' ? 'not-tried-budget-spent' : 'locked-out';
    } else {
      const key = JSON.stringify([credentials.username, credentials.password]);
      const check = tried.get(key) ?? (await context.cameras.checkLogin(url, credentials));
      tried.set(key, check);
      switch (check.outcome) {
        case 'works':
          outcome = 'works';
          isAdmin = check.isAdmin;
          break;
        case 'rejected':
          outcome = 'rejected';
          break;
        case 'budget-spent':
          outcome = 'not-tried-budget-spent';
          stopped = { reason: 'budget-spent', retryAfterMs: check.retryAfterMs };
          break;
        case 'locked-out':
          outcome = 'locked-out';
          stopped = { reason: 'locked-out', retryAfterMs: check.retryAfterMs };
          break;
      }
      await context.progress(
        'testing',
        `Credential ${index + 1} of ${refs.length} ("${ref}", user ${credentials.username}): ${outcome}.`,
        (index + 1) / refs.length,
      );
    }
    entries.push({ ref, username: credentials.username, outcome, isAdmin });
  }

  const works = entries.filter((entry) => entry.outcome === 'works').length;
  const untried = entries.filter(
    (entry) => entry.outcome === 'not-tried-budget-spent' || entry.outcome === 'locked-out',
  ).length;
  let summary = `${works} of ${refs.length} credential(s) work.`;
  if (stopped !== undefined) {
    const wait = Math.ceil(stopped.retryAfterMs / 1000);
    summary +=
      stopped.reason === 'budget-spent'
        ? ` The attempt budget for this camera is spent: ${untried} credential(s) were not tried; try again in ${wait} s.`
        : ` The camera is blocking this agent after failed logins: ${untried} credential(s) were not tried; try again in ${wait} s.`;
  }
  return succeeded({
    url,
    credentials: entries,
    stopped: stopped?.reason ?? null,
    retryAfterMs: stopped?.retryAfterMs ?? null,
    attemptsLeft: context.cameras.attemptsLeft(url),
    summary,
  });
};
