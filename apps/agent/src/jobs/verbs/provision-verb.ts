import {
  PASSWORD_POLICIES,
  checkPasswordPolicy,
  type CommandParams,
  type NetworkPlan,
  type PasswordPolicy,
} from '@custody/core';
import {
  VapixApiError,
  VapixError,
  VapixTransportError,
  VapixUnsupportedError,
  addUser,
  createFirstAdmin,
  getNetworkInfo,
  getUsers,
  removeUser,
  setIPv4WithFallback,
  setTimeZone,
  updateParams,
  updateUser,
  type Credentials,
  type Role,
  type VapixClient,
} from '@custody/vapix';
import { withHost, type Observation } from '../camera-access.ts';
import type { JobContext, Verb } from '../job-context.ts';
import { failed, jobCodeOf, succeeded, type JsonRecord } from '../verb-outcome.ts';
import { watchForSerial } from '../watch-for-serial.ts';
import { locateCamera } from './locate-camera.ts';

export type ProvisionStep =
  'first-admin' | 'service-account' | 'vms-account' | 'remove-accounts' | 'time' | 'network';

type StepStatus = 'succeeded' | 'skipped' | 'failed' | 'not-run';

type StepReport = {
  step: ProvisionStep;
  status: StepStatus;
  detail: string;
  code: string | null;
};

/** A step's end: done, not needed, or failed with a code; only its text goes into the result. */
type StepEnd =
  | { status: 'succeeded' | 'skipped'; detail: string }
  | { status: 'failed'; code: string; detail: string };

const ADMIN_ROLES: readonly Role[] = ['admin', 'operator', 'viewer', 'ptz'];
/** The VMS records and shows live view; it needs no administration rights on the camera. */
const VMS_ROLES: readonly Role[] = ['operator', 'viewer', 'ptz'];

/**
 * `CET-1CEST,M3.5.0,M10.5.0/3` or `UTC0`, as opposed to an IANA name such as `Europe/Paris`: a
 * POSIX zone's name is followed by its offset. A slash says nothing: POSIX rules use it for the
 * transition time (`/3`).
 */
export function isPosixTimeZone(zone: string): boolean {
  return /^(<[^>]+>|[A-Za-z]{3,})[-+]?\d/.test(zone);
}

function policyOf(observation: Observation): PasswordPolicy | undefined {
  const reported = observation.passphrasePolicy;
  return (PASSWORD_POLICIES as readonly string[]).includes(reported ?? '')
    ? (reported as PasswordPolicy)
    : undefined;
}

interface Plan {
  admin: { ref: string; credentials: Credentials };
  service: { ref: string; credentials: Credentials };
  vms: { ref: string; credentials: Credentials } | undefined;
  network: NetworkPlan | undefined;
  time: CommandParams<'provision'>['time'];
  removeAccounts: readonly string[];
}

function planOf(context: JobContext<'provision'>): Plan {
  const { params } = context;
  return {
    admin: { ref: params.admin, credentials: context.secret(params.admin) },
    service: { ref: params.serviceAccount, credentials: context.secret(params.serviceAccount) },
    vms:
      params.vmsAccount === undefined
        ? undefined
        : { ref: params.vmsAccount, credentials: context.secret(params.vmsAccount) },
    network: params.network,
    time: params.time,
    removeAccounts: params.removeAccounts,
  };
}

function keptUsernames(plan: Plan): Set<string> {
  return new Set(
    [plan.admin, plan.service, plan.vms]
      .filter((account) => account !== undefined)
      .map((account) => account.credentials.username),
  );
}

/**
 * Removes the stale accounts the user selected. The accounts this command provisions are never
 * removed (a server asking for that is refused before anything is touched), and an account that
 * is already gone counts as done.
 */
async function removeAccounts(
  context: JobContext,
  client: VapixClient,
  plan: Plan,
): Promise<StepEnd> {
  const kept = keptUsernames(plan);
  const { accounts } = await client.send(getUsers(), { signal: context.signal });
  const present = new Set(accounts.map((account) => account.username));
  const removed: string[] = [];
  const absent: string[] = [];
  for (const username of plan.removeAccounts) {
    if (kept.has(username)) continue;
    if (!present.has(username)) {
      absent.push(username);
      continue;
    }
    await client.send(removeUser(username), { signal: context.signal });
    removed.push(username);
  }
  const parts: string[] = [];
  if (removed.length > 0) parts.push(`Removed ${removed.join(', ')}.`);
  if (absent.length > 0) parts.push(`Already absent: ${absent.join(', ')}.`);
  return { status: removed.length > 0 ? 'succeeded' : 'skipped', detail: parts.join(' ') };
}

async function ensureAccount(
  context: JobContext,
  client: VapixClient,
  plan: Plan,
  account: { ref: string; credentials: Credentials },
  roles: readonly Role[],
  label: string,
): Promise<StepEnd> {
  const { username, password } = account.credentials;
  if (username === plan.admin.credentials.username) {
    return { status: 'skipped', detail: `The ${label} is the administrator account ${username}.` };
  }
  const { accounts } = await client.send(getUsers(), { signal: context.signal });
  if (accounts.some((existing) => existing.username === username)) {
    await client.send(updateUser({ username, password, roles }), { signal: context.signal });
    return {
      status: 'succeeded',
      detail: `Set the password and roles of the existing ${label} ${username}.`,
    };
  }
  await client.send(addUser({ username, password, roles }), { signal: context.signal });
  return { status: 'succeeded', detail: `Created the ${label} ${username} (${roles.join(', ')}).` };
}

async function firstAdmin(
  context: JobContext,
  url: string,
  observation: Observation,
  plan: Plan,
): Promise<StepEnd & { createdRoot?: boolean }> {
  const admin = plan.admin.credentials;
  if (observation.needsSetup === true) {
    const policy = policyOf(observation);
    if (policy !== undefined) {
      const accounts = [plan.admin, plan.service, ...(plan.vms === undefined ? [] : [plan.vms])];
      for (const account of accounts) {
        const violations = checkPasswordPolicy(account.credentials.password, policy);
        if (violations.length > 0) {
          return {
            status: 'failed',
            code: 'password-policy',
            detail: `The password "${account.ref}" does not meet the camera's "${policy}" passphrase policy: ${violations.map((violation) => violation.message).join(' ')} Nothing was created.`,
          };
        }
      }
    }
    const created = await createFirstAdmin(context.cameras.client(url, null), admin, {
      expectedSerial: context.serial,
      signal: context.signal,
    });
    return {
      status: 'succeeded',
      createdRoot: created.createdRoot && admin.username !== 'root',
      detail:
        created.createdRoot && admin.username !== 'root'
          ? `Created the administrator ${admin.username}, and root with the same password as this firmware requires.`
          : `Created the administrator ${admin.username}.`,
    };
  }
  // Not in factory-default state: a previous run may already have created the administrator.
  const login = await context.cameras.checkLogin(url, admin);
  if (login.outcome === 'works' && login.isAdmin !== false) {
    return {
      status: 'skipped',
      detail: `The administrator ${admin.username} already exists and works.`,
    };
  }
  const state =
    observation.needsSetup === undefined
      ? `Camera ${context.serial} cannot say whether it is in factory-default state (its firmware has no systemready)`
      : `Camera ${context.serial} is not in factory-default state`;
  return {
    status: 'failed',
    code: observation.needsSetup === undefined ? 'factory-default-unknown' : 'not-factory-default',
    detail: `${state} and the administrator credential "${plan.admin.ref}" does not work (${login.outcome}); nothing was created.`,
  };
}

async function applyTime(
  context: JobContext,
  client: VapixClient,
  time: NonNullable<Plan['time']>,
): Promise<StepEnd> {
  const done: string[] = [];
  if (isPosixTimeZone(time.timezone)) {
    await client.send(updateParams({ 'root.Time.POSIXTimeZone': time.timezone }), {
      signal: context.signal,
    });
    done.push(`time zone ${time.timezone}`);
  } else {
    try {
      await client.send(setTimeZone(time.timezone), { signal: context.signal });
      done.push(`time zone ${time.timezone}`);
    } catch (error) {
      if (!(error instanceof VapixUnsupportedError || error instanceof VapixApiError)) throw error;
      return {
        status: 'failed',
        code: 'unsupported',
        detail: `The camera cannot set the time zone "${time.timezone}" by name (${error.message}); give a POSIX time zone such as CET-1CEST,M3.5.0,M10.5.0/3.`,
      };
    }
  }
  const [server, ...others] = time.ntpServers;
  if (server !== undefined) {
    await client.send(
      updateParams({
        'root.Time.ObtainFromDHCP': 'no',
        'root.Time.SyncSource': 'NTP',
        'root.Time.NTP.Server': server,
      }),
      { signal: context.signal },
    );
    done.push(
      others.length === 0
        ? `NTP server ${server}`
        : `NTP server ${server} (the camera keeps one; ${others.join(', ')} not applied)`,
    );
  }
  return { status: 'succeeded', detail: `Set ${done.join(' and ')}.` };
}

/**
 * How the camera at `url` gets the address it answers at: `dhcp` once the DHCP plan is in force
 * (a lease, or link-local when no DHCP server answers), `static` while the old configuration still
 * runs, `unknown` when it cannot say (no network_settings.cgi).
 */
async function addressOrigin(
  context: JobContext,
  url: string,
  admin: Credentials,
): Promise<'dhcp' | 'static' | 'unknown'> {
  let info;
  try {
    info = await context.cameras.client(url, admin).send(getNetworkInfo(), {
      signal: context.signal,
    });
  } catch (error) {
    if (error instanceof VapixUnsupportedError) return 'unknown';
    // Dropped while the interface restarts: the change is under way, look again.
    if (error instanceof VapixTransportError && error.code !== 'VAPIX_ABORTED') return 'static';
    throw error;
  }
  const host = new URL(url).hostname;
  for (const device of info.devices) {
    const address = device.IPv4?.addresses?.find((candidate) => candidate.address === host);
    if (address === undefined) continue;
    if (device.IPv4?.configurationMode !== 'dhcp') return 'static';
    return address.origin === 'static' ? 'static' : 'dhcp';
  }
  return 'unknown';
}

/**
 * Finds the camera after a DHCP plan was sent, and proves the plan is in force. A camera still
 * answering at its old address proves nothing (the change may not have taken effect yet, and the
 * lease may be the same address), so it is accepted only once its network info says its address
 * comes from DHCP, or, on firmware that cannot say, once it has gone away and come back.
 */
async function findAfterDhcp(
  context: JobContext,
  url: string,
  admin: Credentials,
  via: 'network-settings' | 'param-cgi' | undefined,
): Promise<{ found: true; url: string } | { found: false; code: string; detail: string }> {
  const started = performance.now();
  const remaining = () => context.timing.addressChangeTimeoutMs - (performance.now() - started);
  let requireRestart = via === 'param-cgi';
  let told = false;
  for (;;) {
    const watched = await watchForSerial(context, {
      candidateUrls: [url],
      useDirectory: true,
      timeoutMs: Math.max(1, remaining()),
      requireFactoryDefault: false,
      requireRestart,
      cause: 'address-change',
      step: 'network',
    });
    if (!watched.found) {
      return {
        found: false,
        code: 'address-change-lost',
        detail: `The DHCP plan was sent, but the camera was not found afterwards: ${watched.message}`,
      };
    }
    if (requireRestart) return { found: true, url: watched.url };
    const origin = await addressOrigin(context, watched.url, admin);
    if (origin === 'dhcp') return { found: true, url: watched.url };
    if (origin === 'unknown') {
      requireRestart = true;
    } else if (!told) {
      told = true;
      await context.progress(
        'network',
        `Camera ${context.serial} still runs its old address configuration at ${watched.url}; waiting for DHCP to take over.`,
        0.9,
      );
    }
    if (remaining() <= 0) {
      return {
        found: false,
        code: 'address-change-pending',
        detail: `The DHCP plan was accepted, but camera ${context.serial} still answered at ${watched.url} with its old address configuration after ${Math.round(context.timing.addressChangeTimeoutMs / 1000)} s. Check that the change was saved, or restart the camera.`,
      };
    }
    await context.sleep(context.timing.pollIntervalMs);
  }
}

async function applyNetwork(
  context: JobContext,
  url: string,
  admin: Credentials,
  network: NetworkPlan,
): Promise<StepEnd & { url?: string }> {
  if (network.mode === 'static' && network.dns.length > 0) {
    return {
      status: 'failed',
      code: 'unsupported',
      detail:
        'Setting name servers is not supported by this agent yet; the address was not changed.',
    };
  }
  const client = context.cameras.client(url, admin);
  let via: 'network-settings' | 'param-cgi' | undefined;
  try {
    ({ via } = await setIPv4WithFallback(
      client,
      network.mode === 'static'
        ? {
            mode: 'static',
            address: network.address,
            prefixLength: network.prefixLength,
            defaultRouter: network.gateway,
          }
        : { mode: 'dhcp' },
      { signal: context.signal },
    ));
  } catch (error) {
    // The camera may drop the connection as it changes address (reference §6.5): look for it.
    if (!(error instanceof VapixTransportError) || error.code === 'VAPIX_ABORTED') throw error;
  }
  const target = network.mode === 'static' ? withHost(url, network.address) : url;
  await context.progress('network', `Waiting for camera ${context.serial} at ${target}.`, 0.9);
  let foundUrl: string;
  if (network.mode === 'dhcp') {
    const found = await findAfterDhcp(context, url, admin, via);
    if (!found.found) return { status: 'failed', code: found.code, detail: found.detail };
    foundUrl = found.url;
  } else {
    const watched = await watchForSerial(context, {
      candidateUrls: [target],
      useDirectory: false,
      timeoutMs: context.timing.addressChangeTimeoutMs,
      requireFactoryDefault: false,
      requireRestart: false,
      cause: 'address-change',
      step: 'network',
    });
    if (!watched.found) {
      return {
        status: 'failed',
        code: 'address-change-lost',
        detail: `The network plan was sent, but the camera was not found at ${target} afterwards: ${watched.message}`,
      };
    }
    foundUrl = watched.url;
  }
  const login = await context.cameras.checkLogin(foundUrl, admin);
  if (login.outcome !== 'works') {
    return {
      status: 'failed',
      code: 'login-failed',
      detail: `Camera ${context.serial} answers at ${foundUrl}, but the administrator credential ${login.outcome === 'rejected' ? 'is rejected there' : 'could not be tried there'}.`,
    };
  }
  return {
    status: 'succeeded',
    url: foundUrl,
    detail:
      network.mode === 'static'
        ? `Static address ${network.address}/${network.prefixLength} via ${network.gateway}; the camera answers at ${foundUrl}.`
        : `DHCP; the camera answers at ${foundUrl}.`,
  };
}

/**
 * Recommissions a factory-defaulted camera (PRODUCT step 7): the first administrator within the
 * device's passphrase policy, Custody's service account, the VMS account, time settings and, last
 * because it moves the camera, the network plan. Each step reports what it did; a step that finds
 * its work already done (a re-run after a partial one) says so instead of failing, and the first
 * failure stops the steps after it.
 */
export const runProvision: Verb<'provision'> = async (context) => {
  const plan = planOf(context);
  const kept = keptUsernames(plan);
  const refused = plan.removeAccounts.filter((username) => kept.has(username));
  if (refused.length > 0) {
    return failed(
      'account-kept',
      `${refused.join(', ')} ${refused.length === 1 ? 'is an account' : 'are accounts'} this command provisions, so it cannot also be removed; nothing was changed.`,
    );
  }
  const located = await locateCamera(context);
  if (!located.ok) return located.failure;
  let url = located.url;
  const steps: StepReport[] = [];
  let createdRoot = false;
  const wanted: ProvisionStep[] = ['first-admin', 'service-account'];
  if (plan.vms !== undefined) wanted.push('vms-account');
  if (plan.removeAccounts.length > 0) wanted.push('remove-accounts');
  if (plan.time !== undefined) wanted.push('time');
  if (plan.network !== undefined) wanted.push('network');

  const run = async (
    step: ProvisionStep,
  ): Promise<StepEnd & { url?: string; createdRoot?: boolean }> => {
    const admin = plan.admin.credentials;
    switch (step) {
      case 'first-admin':
        return firstAdmin(context, url, located.observation, plan);
      case 'service-account':
        return ensureAccount(
          context,
          context.cameras.client(url, admin),
          plan,
          plan.service,
          ADMIN_ROLES,
          'service account',
        );
      case 'vms-account':
        return plan.vms === undefined
          ? { status: 'skipped', detail: 'No VMS account was asked for.' }
          : ensureAccount(
              context,
              context.cameras.client(url, admin),
              plan,
              plan.vms,
              VMS_ROLES,
              'VMS account',
            );
      case 'remove-accounts':
        return removeAccounts(context, context.cameras.client(url, admin), plan);
      case 'time':
        return plan.time === undefined
          ? { status: 'skipped', detail: 'No time settings were asked for.' }
          : applyTime(context, context.cameras.client(url, admin), plan.time);
      case 'network':
        return plan.network === undefined
          ? { status: 'skipped', detail: 'No network plan was given.' }
          : applyNetwork(context, url, admin, plan.network);
    }
  };

  let failure: StepReport | undefined;
  for (const [index, step] of wanted.entries()) {
    if (failure !== undefined) {
      steps.push({
        step,
        status: 'not-run',
        detail: `Not run: the ${failure.step} step failed.`,
        code: null,
      });
      continue;
    }
    await context.progress(
      step,
      `Provisioning step ${index + 1} of ${wanted.length}: ${step}.`,
      index / wanted.length,
    );
    let end: StepEnd & { url?: string; createdRoot?: boolean };
    try {
      end = await run(step);
    } catch (error) {
      if (!(error instanceof VapixError) || error.code === 'VAPIX_ABORTED') throw error;
      end = { status: 'failed', code: jobCodeOf(error), detail: `${error.message}.` };
    }
    if (end.url !== undefined) url = end.url;
    if (end.createdRoot === true) createdRoot = true;
    const report: StepReport = {
      step,
      status: end.status,
      detail: end.detail,
      code: end.status === 'failed' ? end.code : null,
    };
    steps.push(report);
    if (report.status === 'failed') failure = report;
  }

  const result: JsonRecord = {
    url,
    steps: steps.map((step) => ({ ...step })),
    accounts: {
      admin: plan.admin.credentials.username,
      service: plan.service.credentials.username,
      vms: plan.vms?.credentials.username ?? null,
    },
    createdRoot,
  };
  if (failure !== undefined) {
    const done = steps.filter((step) => step.status === 'succeeded' || step.status === 'skipped');
    return failed(
      failure.code ?? 'provision-failed',
      `Provisioning stopped at "${failure.step}": ${failure.detail} Done before it: ${done.map((step) => step.step).join(', ') || 'nothing'}.`,
      result,
    );
  }
  return succeeded(result);
};
