'use client';

import {
  useMutation,
  useQuery,
  useQueryClient,
  type UseMutationOptions,
} from '@tanstack/react-query';
import Link from 'next/link';
import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { Field } from '~/app/_components/field.tsx';
import type { RouterOutputs } from '~/server/api/root.ts';
import { fieldErrorsFrom, formText } from '~/trpc/field-errors.ts';
import { useTRPC } from '~/trpc/react.tsx';
import { AccessBadge } from '../../fleet/fleet-view.tsx';
import { Time, useNow } from '../../fleet/format.tsx';
import { LiveStatus, useFleetLive, useThrottled } from '../../fleet/use-fleet-live.tsx';
import {
  CHECK_LABELS,
  METHOD_LABELS,
  OBSERVATION_LABELS,
  OUTCOME_LABELS,
  PATH_LABELS,
  actorsText,
  minutes,
} from '../case-format.ts';
import '../cases.css';

type Case = RouterOutputs['cases']['get'];

/** Polls as a fallback for case changes; command progress also arrives over the fleet feed. */
const POLL_MS = 2_000;

export function CaseView({ caseId }: { caseId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const now = useNow(10_000);
  const query = useQuery(trpc.cases.get.queryOptions({ caseId }, { refetchInterval: POLL_MS }));
  const headingRef = useRef<HTMLHeadingElement>(null);
  const refetch = useThrottled(() => {
    void queryClient.invalidateQueries(trpc.cases.get.queryFilter({ caseId }));
  }, 300);
  const serial = query.data?.serial;
  const live = useFleetLive(
    { serial: serial ?? undefined, topics: ['commands'] },
    { onChanges: refetch, onResync: refetch },
  );
  const loaded = query.isSuccess;
  useEffect(() => {
    if (loaded) headingRef.current?.focus();
  }, [loaded]);

  if (query.isPending) return <p role="status">Loading the case…</p>;
  if (query.isError) {
    return (
      <>
        <h1>Case</h1>
        <p role="alert" className="form-error">
          {query.error.data?.code === 'NOT_FOUND'
            ? 'No such case at your sites.'
            : `The case could not be loaded: ${query.error.message}`}
        </p>
        <p>
          <Link href="/cases">Back to the cases</Link>
        </p>
      </>
    );
  }
  const view = query.data;
  return (
    <>
      <p>
        <Link href="/cases">← Cases</Link>
      </p>
      <h1 ref={headingRef} tabIndex={-1}>
        Case for camera <span className="mono">{view.serial}</span>
        {view.camera.model ? ` · ${view.camera.model}` : ''}
      </h1>
      <LiveStatus state={live} />
      <dl className="facts">
        <Fact term="State">
          <strong>{view.statusLabel}</strong>
          {view.path ? ` · ${PATH_LABELS[view.path] ?? view.path}` : ''}
        </Fact>
        <Fact term="Camera">
          <Link href={`/cameras/${view.serial}`}>
            <span className="mono">{view.serial}</span>
          </Link>{' '}
          at {view.site.name}
          {view.camera.address ? (
            <>
              , <span className="mono">{view.camera.address}</span>
            </>
          ) : null}{' '}
          · <AccessBadge state={view.camera.accessState} />
        </Fact>
        <Fact term="Agent">{view.camera.agentName ?? 'none reports this camera'}</Fact>
        <Fact term="Opened">
          <Time value={view.openedAt} now={now} />
          {view.openedByName ? ` by ${view.openedByName}` : ''}
        </Fact>
      </dl>
      <MachinePosition view={view} />
      <NextSteps view={view} />
      <TriageSection view={view} now={now} />
      {view.can['start-cleanup'] || view.can['choose-recommission'] ? (
        <CleanupChoice view={view} />
      ) : null}
      <PlanSection view={view} />
      {view.status === 'awaiting-ownership' ||
      (view.status === 'triaged' && view.path === 'recommission') ? (
        <p>
          <Link href={`/cameras/${view.serial}/ownership`}>Record the camera’s ownership</Link>
        </p>
      ) : null}
      {['awaiting-approval', 'approved', 'denied'].includes(view.status) ? (
        <p>
          <Link href={`/cases/${view.id}/approval`}>Owner approval for this case</Link>
        </p>
      ) : null}
      <ResetSection view={view} />
      <ProvisioningSection view={view} />
      <VerificationSection view={view} now={now} />
      <CredentialsSection view={view} />
      {view.status === 'verified' || view.status === 'documented' ? (
        <p>
          <Link href={`/cases/${view.id}/handover`}>Handover record</Link>
        </p>
      ) : null}
      {view.can.cancel ? <CancelForm caseId={view.id} /> : null}
      <Timeline view={view} now={now} />
    </>
  );
}

function Fact({ term, children }: { term: string; children: ReactNode }) {
  return (
    <>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </>
  );
}

function MachinePosition({ view }: { view: Case }) {
  const offPath = !view.machine.some((step) => step.status === view.status);
  return (
    <section aria-labelledby="machine-heading">
      <h2 id="machine-heading">Where the case stands</h2>
      <ol className="case-steps">
        {view.machine.map((step) => (
          <li
            key={step.status}
            className={`case-step case-step-${step.position}`}
            aria-current={step.position === 'current' ? 'step' : undefined}
          >
            {step.label}
            <span className="visually-hidden">
              {step.position === 'done'
                ? ' (done)'
                : step.position === 'current'
                  ? ' (current)'
                  : ' (to do)'}
            </span>
          </li>
        ))}
      </ol>
      {offPath ? (
        <p className="case-off-path" role="note">
          The case is <strong>{view.statusLabel.toLowerCase()}</strong>
          {view.state.status === 'failed' ? `: ${view.state.reason}` : ''}
          {view.state.status === 'denied' ? `: ${view.state.reason}` : ''}
          {view.state.status === 'cancelled' ? `: ${view.state.reason}` : ''}.
        </p>
      ) : null}
    </section>
  );
}

function NextSteps({ view }: { view: Case }) {
  if (view.nextActions.length === 0 && view.waitingFor === null) return null;
  return (
    <section aria-labelledby="next-heading">
      <h2 id="next-heading">What is needed next</h2>
      {view.waitingFor ? <p className="case-waiting">{view.waitingFor}</p> : null}
      <ul className="case-next">
        {view.nextActions.map((action) => (
          <li key={action.action}>
            {action.description}{' '}
            <span className="muted">
              Who acts: {actorsText(action.actors)}
              {action.youCan ? ' — that is you.' : '.'}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}

interface ActionHandlers {
  onSuccess: () => Promise<void>;
  onError: (error: unknown) => void;
}

/** A mutation of the case that reloads it when done and keeps the server's message. */
function useCaseAction<TData, TError, TVariables, TContext>(
  make: (handlers: ActionHandlers) => UseMutationOptions<TData, TError, TVariables, TContext>,
) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const [done, setDone] = useState(false);
  const mutation = useMutation(
    make({
      onSuccess: async () => {
        setFieldErrors({});
        setDone(true);
        await queryClient.invalidateQueries(trpc.cases.pathFilter());
      },
      onError: (error) => {
        setDone(false);
        setFieldErrors(fieldErrorsFrom(error));
      },
    }),
  );
  const error = mutation.error as { message?: unknown } | null;
  const formError =
    error && Object.keys(fieldErrors).length === 0 && typeof error.message === 'string'
      ? error.message
      : null;
  return { mutation, fieldErrors, formError, done };
}

function FormError({ message }: { message: string | null }) {
  return message ? (
    <p role="alert" className="form-error">
      {message}
    </p>
  ) : null;
}

function TriageSection({ view, now }: { view: Case; now: number }) {
  const triage = view.triage;
  const showForms = view.can['add-candidate'] || view.can['run-access-check'];
  if (triage === null && !showForms && view.candidates.length === 0) return null;
  return (
    <section aria-labelledby="triage-heading">
      <h2 id="triage-heading">Triage: access check</h2>
      {triage ? (
        <>
          <p>
            Decision: <strong>{PATH_LABELS[triage.path] ?? triage.path}</strong>
            {triage.path === 'recommission'
              ? triage.resetRequired
                ? ' with a factory reset'
                : ' without a reset'
              : ''}
            {triage.accessState ? (
              <>
                {' '}
                (access state <AccessBadge state={triage.accessState} />)
              </>
            ) : null}
          </p>
          <ul>
            {triage.reasons.map((reason) => (
              <li key={reason}>{reason}</li>
            ))}
          </ul>
          {triage.credentialTests.length > 0 ? (
            <table>
              <caption>Credentials tested through the agent</caption>
              <thead>
                <tr>
                  <th scope="col">Credential</th>
                  <th scope="col">User</th>
                  <th scope="col">Outcome</th>
                </tr>
              </thead>
              <tbody>
                {triage.credentialTests.map((test) => (
                  <tr key={`${test.source}:${test.id}`}>
                    <td>{test.label}</td>
                    <td className="mono">{test.username}</td>
                    <td>
                      {OUTCOME_LABELS[test.outcome] ?? test.outcome}
                      {test.outcome === 'works' && test.isAdmin ? ' (administrator)' : ''}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </>
      ) : (
        <p>Not triaged yet.</p>
      )}
      {view.candidates.length > 0 ? (
        <>
          <h3>Candidates entered for this camera</h3>
          <ul>
            {view.candidates.map((candidate) => (
              <li key={candidate.id}>
                <span className="mono">{candidate.username}</span>
                {candidate.source ? ` from ${candidate.source}` : ''} —{' '}
                {candidate.outcome
                  ? (OUTCOME_LABELS[candidate.outcome] ?? candidate.outcome)
                  : 'not tested yet'}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      <p>
        Attempt budget for this camera: {view.budget.remaining} of {view.budget.limit} credential
        tests left in this {minutes(view.budget.windowMs)} window
        {view.budget.remaining === 0 && view.budget.nextAttemptAt ? (
          <>
            ; the next one is possible <Time value={view.budget.nextAttemptAt} now={now} />
          </>
        ) : null}
        . Credentials are never guessed: only the vault’s and those entered here are tried.
      </p>
      {view.can['add-candidate'] ? <CandidateForm caseId={view.id} /> : null}
      {view.can['run-access-check'] || view.triageRunning ? (
        <AccessCheckButton view={view} />
      ) : null}
      {view.can['soft-restart'] ? <SoftRestartButton caseId={view.id} /> : null}
    </section>
  );
}

function CandidateForm({ caseId }: { caseId: string }) {
  const trpc = useTRPC();
  const formRef = useRef<HTMLFormElement>(null);
  const { mutation, fieldErrors, formError, done } = useCaseAction((handlers) =>
    trpc.cases.addCandidate.mutationOptions({
      ...handlers,
      onSuccess: async () => {
        formRef.current?.reset();
        await handlers.onSuccess();
      },
    }),
  );
  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    mutation.mutate({
      caseId,
      username: formText(form, 'username'),
      password: formText(form, 'password'),
      source: formText(form, 'source'),
    });
  }
  return (
    <form ref={formRef} className="stack" onSubmit={onSubmit} noValidate aria-labelledby="cand-h">
      <h3 id="cand-h">Add a candidate credential</h3>
      <p className="hint">
        A password from a handover sheet or the previous installer’s notes. It is sealed in the
        vault at once, tried only against this camera, and never shown again.
      </p>
      <FormError message={formError} />
      <Field name="username" label="User name" defaultValue="root" errors={fieldErrors.username} />
      <Field
        name="password"
        label="Password"
        type="password"
        autoComplete="off"
        errors={fieldErrors.password}
      />
      <Field
        name="source"
        label="Where it came from"
        hint="For example “handover sheet 2019”."
        errors={fieldErrors.source}
      />
      <button type="submit" disabled={mutation.isPending}>
        {mutation.isPending ? 'Sealing…' : 'Add candidate'}
      </button>
      {done ? (
        <p role="status" className="status-ok">
          Candidate sealed.
        </p>
      ) : null}
    </form>
  );
}

function AccessCheckButton({ view }: { view: Case }) {
  const trpc = useTRPC();
  const { mutation, formError } = useCaseAction((handlers) =>
    trpc.cases.runAccessCheck.mutationOptions(handlers),
  );
  return (
    <div className="case-action">
      <FormError message={formError} />
      <button
        type="button"
        disabled={mutation.isPending || view.triageRunning}
        onClick={() => mutation.mutate({ caseId: view.id })}
      >
        {view.triageRunning ? 'Access check running…' : 'Run the access check'}
      </button>
      {view.triageRunning ? (
        <p role="status">The agent is probing the camera and testing the credentials.</p>
      ) : null}
    </div>
  );
}

function SoftRestartButton({ caseId }: { caseId: string }) {
  const trpc = useTRPC();
  const { mutation, formError, done } = useCaseAction((handlers) =>
    trpc.cases.softRestart.mutationOptions(handlers),
  );
  return (
    <div className="case-action">
      <FormError message={formError} />
      <p className="hint">
        When the fault is not the credentials (a hung stream or service), a soft restart may be all
        it needs. It wipes nothing and needs no approval.
      </p>
      <button
        type="button"
        disabled={mutation.isPending}
        onClick={() => mutation.mutate({ caseId })}
      >
        Soft restart the camera
      </button>
      {done ? <p role="status">Restart requested.</p> : null}
    </div>
  );
}

function CleanupChoice({ view }: { view: Case }) {
  const trpc = useTRPC();
  const start = useCaseAction((handlers) => trpc.cases.startCleanup.mutationOptions(handlers));
  const choose = useCaseAction((handlers) =>
    trpc.cases.chooseRecommission.mutationOptions(handlers),
  );
  function onChoose(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    choose.mutation.mutate({ caseId: view.id, reason: formText(form, 'reason') });
  }
  return (
    <section aria-labelledby="cleanup-heading">
      <h2 id="cleanup-heading">Credential clean-up</h2>
      <p>
        An administrator credential works, so no reset is needed: Custody rotates its password to a
        generated one (vaulted before it is sent), creates the Custody service account and the VMS
        account of the plan, removes the stale accounts you select there, then verifies.
      </p>
      <FormError message={start.formError} />
      <button
        type="button"
        disabled={start.mutation.isPending}
        onClick={() => start.mutation.mutate({ caseId: view.id, expectedRevision: view.revision })}
      >
        Start the clean-up
      </button>
      <form className="stack" onSubmit={onChoose} noValidate aria-labelledby="recomm-h">
        <h3 id="recomm-h">Or recommission it instead</h3>
        <p className="hint">
          A factory reset wipes the camera; it needs ownership and the owner’s approval.
        </p>
        <FormError message={choose.formError} />
        <Field
          name="reason"
          label="Why a full recommission"
          multiline
          errors={choose.fieldErrors.reason}
        />
        <button type="submit" disabled={choose.mutation.isPending}>
          Choose recommission
        </button>
      </form>
    </section>
  );
}

function PlanSection({ view }: { view: Case }) {
  const plan = view.plan;
  if (!view.can['save-plan'] && plan === null) return null;
  return (
    <section aria-labelledby="plan-heading">
      <h2 id="plan-heading">Plan</h2>
      {plan ? (
        <dl className="facts">
          <Fact term="Network">
            {plan.network === null
              ? 'unchanged'
              : plan.network.mode === 'dhcp'
                ? 'DHCP'
                : `static ${plan.network.address}/${plan.network.prefixLength} via ${plan.network.gateway}`}
          </Fact>
          <Fact term="Time">
            {plan.time === null
              ? 'unchanged'
              : `${plan.time.timezone}${plan.time.ntpServers.length > 0 ? `, NTP ${plan.time.ntpServers.join(', ')}` : ''}`}
          </Fact>
          <Fact term="Accounts">
            administrator <span className="mono">{plan.adminUsername}</span>, Custody service{' '}
            <span className="mono">{plan.serviceUsername}</span>
            {plan.vmsUsername ? (
              <>
                , VMS <span className="mono">{plan.vmsUsername}</span>
              </>
            ) : null}
          </Fact>
          <Fact term="VMS">{plan.vms?.platform ?? 'not named'}</Fact>
          {plan.removeAccounts.length > 0 ? (
            <Fact term="Accounts to remove">{plan.removeAccounts.join(', ')}</Fact>
          ) : null}
        </dl>
      ) : (
        <p>No plan yet: provisioning waits for one.</p>
      )}
      {view.can['save-plan'] ? <PlanForm view={view} /> : null}
    </section>
  );
}

function PlanForm({ view }: { view: Case }) {
  const trpc = useTRPC();
  const plan = view.plan;
  const [mode, setMode] = useState<'unchanged' | 'dhcp' | 'static'>(
    plan?.network?.mode ?? (view.path === 'credential-cleanup' ? 'unchanged' : 'dhcp'),
  );
  const { mutation, fieldErrors, formError, done } = useCaseAction((handlers) =>
    trpc.cases.savePlan.mutationOptions(handlers),
  );
  const cleanup = view.path === 'credential-cleanup' || view.triage?.path === 'credential-cleanup';
  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const timezone = formText(form, 'timezone').trim();
    const ntp = formText(form, 'ntp')
      .split(/[\s,]+/)
      .filter((server) => server !== '');
    const vmsUsername = formText(form, 'vmsUsername').trim();
    mutation.mutate({
      caseId: view.id,
      network:
        mode === 'unchanged'
          ? null
          : mode === 'dhcp'
            ? { mode: 'dhcp' }
            : {
                mode: 'static',
                address: formText(form, 'address').trim(),
                prefixLength: Number(formText(form, 'prefixLength')),
                gateway: formText(form, 'gateway').trim(),
                dns: [],
              },
      time: timezone === '' ? null : { timezone, ntpServers: ntp },
      vmsPlatform: formText(form, 'vmsPlatform').trim(),
      adminUsername: formText(form, 'adminUsername').trim() || 'root',
      serviceUsername: formText(form, 'serviceUsername').trim() || 'custodysvc',
      vmsUsername: vmsUsername === '' ? null : vmsUsername,
      removeAccounts: formText(form, 'removeAccounts')
        .split(/[\s,]+/)
        .filter((name) => name !== ''),
    });
  }
  const network = plan?.network;
  const dhcp =
    view.site.dhcpRangeStart && view.site.dhcpRangeEnd
      ? `The site’s DHCP range is ${view.site.dhcpRangeStart}–${view.site.dhcpRangeEnd}; a static address must lie outside it.`
      : 'The site has no DHCP range on record.';
  return (
    <form className="stack" onSubmit={onSubmit} noValidate aria-labelledby="planform-h">
      <h3 id="planform-h">{plan ? 'Change the plan' : 'Write the plan'}</h3>
      <p className="hint">
        Passwords are generated when the step runs (meeting the camera’s passphrase policy) and
        sealed in the vault before they are sent; nobody types them.
      </p>
      <FormError message={formError} />
      <fieldset>
        <legend>Network</legend>
        {(['unchanged', 'dhcp', 'static'] as const).map((option) => (
          <label key={option} className="inline">
            <input
              type="radio"
              name="mode"
              value={option}
              checked={mode === option}
              onChange={() => setMode(option)}
            />{' '}
            {option === 'unchanged'
              ? 'Leave as it is'
              : option === 'dhcp'
                ? 'DHCP'
                : 'Static address'}
          </label>
        ))}
        {mode === 'static' ? (
          <>
            <Field
              name="address"
              label="Address"
              hint={dhcp}
              defaultValue={network?.mode === 'static' ? network.address : ''}
              errors={fieldErrors['network.address']}
            />
            <Field
              name="prefixLength"
              label="Prefix length"
              type="number"
              min={1}
              max={32}
              defaultValue={network?.mode === 'static' ? network.prefixLength : 24}
              errors={fieldErrors['network.prefixLength']}
            />
            <Field
              name="gateway"
              label="Gateway"
              defaultValue={network?.mode === 'static' ? network.gateway : ''}
              errors={fieldErrors['network.gateway']}
            />
          </>
        ) : null}
      </fieldset>
      <Field
        name="timezone"
        label="Time zone"
        hint="POSIX (CET-1CEST,M3.5.0,M10.5.0/3) or a name the camera knows; empty leaves it."
        defaultValue={plan?.time?.timezone ?? ''}
        errors={fieldErrors['time.timezone']}
      />
      <Field
        name="ntp"
        label="NTP servers"
        hint="Separated by commas."
        defaultValue={plan?.time?.ntpServers.join(', ') ?? ''}
        errors={fieldErrors['time.ntpServers']}
      />
      <Field
        name="vmsPlatform"
        label="VMS the camera goes back to"
        hint="For example AXIS Camera Station."
        defaultValue={plan?.vms?.platform ?? ''}
        errors={fieldErrors.vmsPlatform}
      />
      {cleanup ? null : (
        <Field
          name="adminUsername"
          label="Administrator user name"
          defaultValue={plan?.adminUsername ?? 'root'}
          errors={fieldErrors.adminUsername}
        />
      )}
      <Field
        name="serviceUsername"
        label="Custody service account"
        hint="1–14 letters or digits."
        defaultValue={plan?.serviceUsername ?? 'custodysvc'}
        errors={fieldErrors.serviceUsername}
      />
      <Field
        name="vmsUsername"
        label="VMS account"
        hint="Separate from Custody’s; empty for none."
        defaultValue={plan === null ? (cleanup ? '' : 'vms') : (plan.vmsUsername ?? '')}
        errors={fieldErrors.vmsUsername}
      />
      {cleanup ? (
        <Field
          name="removeAccounts"
          label="Stale accounts to remove"
          hint="Separated by commas; the administrator and Custody’s accounts are kept."
          defaultValue={plan?.removeAccounts.join(', ') ?? ''}
          errors={fieldErrors.removeAccounts}
        />
      ) : null}
      <button type="submit" disabled={mutation.isPending}>
        Save the plan
      </button>
      {done ? <p role="status">Plan saved.</p> : null}
    </form>
  );
}

function ResetSection({ view }: { view: Case }) {
  const reset = view.reset;
  const relevant =
    view.can['start-reset'] ||
    view.can['diagnose-reset'] ||
    view.can.retry ||
    reset.attempts.length > 0;
  if (!relevant) return null;
  const button =
    reset.method === 'control-button' &&
    (view.status === 'resetting' || view.status === 'awaiting-device');
  return (
    <section aria-labelledby="reset-heading">
      <h2 id="reset-heading">Reset</h2>
      {view.can['start-reset'] ? <StartResetForm caseId={view.id} /> : null}
      {button ? (
        <>
          <h3>Control-button procedure</h3>
          <ol className="button-steps">
            {reset.buttonSteps.map((step) => (
              <li key={step}>{step}</li>
            ))}
          </ol>
        </>
      ) : null}
      {reset.watching ? (
        <p role="status" className="case-watching">
          {reset.method === 'control-button'
            ? `Watching for the camera (up to ${minutes(reset.watchTimeoutMs)}): `
            : 'The agent is resetting the camera: '}
          {reset.watchCommand?.progress?.message ?? 'waiting for the agent to start.'}
        </p>
      ) : null}
      {reset.diagnosis ? <DiagnosisForm view={view} /> : null}
      {view.can['diagnose-reset'] && !reset.diagnosis && !reset.watching ? (
        <DiagnosisForm view={view} />
      ) : null}
      {view.can.retry ? <RetryButton view={view} /> : null}
      {reset.attempts.length > 0 ? (
        <table>
          <caption>Attempts</caption>
          <thead>
            <tr>
              <th scope="col">Method</th>
              <th scope="col">By</th>
              <th scope="col">Observed</th>
              <th scope="col">Diagnosis</th>
            </tr>
          </thead>
          <tbody>
            {reset.attempts.map((attempt) => (
              <tr key={attempt.startedAt}>
                <td>{METHOD_LABELS[attempt.method] ?? attempt.method}</td>
                <td>{attempt.startedBy.name ?? '—'}</td>
                <td>
                  {attempt.observation
                    ? (OBSERVATION_LABELS[attempt.observation] ?? attempt.observation)
                    : 'in progress'}
                  {attempt.observedUrl ? (
                    <>
                      {' '}
                      at <span className="mono">{attempt.observedUrl}</span>
                    </>
                  ) : null}
                </td>
                <td>
                  {attempt.diagnosis
                    ? `${attempt.diagnosis.kind}: ${attempt.diagnosis.cause}`
                    : '—'}
                  {attempt.note ? ` (${attempt.note})` : ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

function StartResetForm({ caseId }: { caseId: string }) {
  const trpc = useTRPC();
  const { mutation, formError } = useCaseAction((handlers) =>
    trpc.cases.startReset.mutationOptions(handlers),
  );
  return (
    <div className="case-action">
      <p>
        The owner approved the reset. Start it before the approval expires: a software factory
        default runs through the agent; for the control-button procedure the agent starts watching
        for the camera, then follow the steps shown.
      </p>
      <FormError message={formError} />
      <button
        type="button"
        disabled={mutation.isPending}
        onClick={() => mutation.mutate({ caseId })}
      >
        Start the reset
      </button>
    </div>
  );
}

function DiagnosisForm({ view }: { view: Case }) {
  const trpc = useTRPC();
  const diagnosis = view.reset.diagnosis;
  const { mutation, fieldErrors, formError } = useCaseAction((handlers) =>
    trpc.cases.diagnoseReset.mutationOptions(handlers),
  );
  const causes =
    diagnosis?.hints ??
    (['power-budget', 'cable', 'bricked', 'button-timing', 'faulty-button'] as const).map(
      (cause) => ({ cause, label: cause, nextStep: '' }),
    );
  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    mutation.mutate({
      caseId: view.id,
      cause: formText(form, 'cause') as (typeof causes)[number]['cause'],
      note: formText(form, 'note'),
    });
  }
  return (
    <form className="stack" onSubmit={onSubmit} noValidate aria-labelledby="diag-h">
      <h3 id="diag-h">The camera did not reset</h3>
      {diagnosis ? <p>{diagnosis.explanation}</p> : null}
      <FormError message={formError} />
      <fieldset>
        <legend>Most likely cause</legend>
        {causes.map((hint, index) => (
          <div key={hint.cause}>
            <label className="inline">
              <input type="radio" name="cause" value={hint.cause} defaultChecked={index === 0} />{' '}
              {hint.label}
            </label>
            {hint.nextStep ? <p className="hint">{hint.nextStep}</p> : null}
          </div>
        ))}
      </fieldset>
      <Field name="note" label="Note" multiline errors={fieldErrors.note} />
      {view.can['diagnose-reset'] ? (
        <button type="submit" disabled={mutation.isPending}>
          Record the diagnosis
        </button>
      ) : null}
    </form>
  );
}

function RetryButton({ view }: { view: Case }) {
  const trpc = useTRPC();
  const { mutation, formError } = useCaseAction((handlers) =>
    trpc.cases.retry.mutationOptions(handlers),
  );
  return (
    <div className="case-action">
      <p>
        {view.status === 'wont-reset'
          ? 'After fixing the cause, try again: a new reset needs a fresh approval from the owner.'
          : 'Retrying starts again from triage.'}
      </p>
      <FormError message={formError} />
      <button
        type="button"
        disabled={mutation.isPending}
        onClick={() => mutation.mutate({ caseId: view.id })}
      >
        Retry
      </button>
    </div>
  );
}

function ProvisioningSection({ view }: { view: Case }) {
  const trpc = useTRPC();
  const rerun = useCaseAction((handlers) => trpc.cases.rerunProvisioning.mutationOptions(handlers));
  if (view.status !== 'provisioning') return null;
  const running = view.commands.find(
    (command) =>
      (command.verb === 'provision' || command.verb === 'rotate-credential') &&
      ['queued', 'dispatched', 'acknowledged'].includes(command.status),
  );
  const lastFailed = view.commands.find(
    (command) => command.verb === 'provision' || command.verb === 'rotate-credential',
  );
  return (
    <section aria-labelledby="prov-heading">
      <h2 id="prov-heading">Provisioning</h2>
      {view.lastVerificationFailure ? (
        <p role="alert" className="form-error">
          The last verification failed: {view.lastVerificationFailure}
        </p>
      ) : null}
      {view.engineBlocked ? (
        <p role="alert" className="form-error">
          Provisioning could not start: {view.engineBlocked}
        </p>
      ) : null}
      {running ? (
        <p role="status">
          {running.verb === 'provision' ? 'Provisioning' : 'Rotating the password'}:{' '}
          {running.progress?.message ?? 'waiting for the agent.'}
        </p>
      ) : lastFailed?.status === 'failed' ? (
        <p className="form-error">{lastFailed.error?.message}</p>
      ) : null}
      <FormError message={rerun.formError} />
      {view.can['rerun-provisioning'] ? (
        <button
          type="button"
          disabled={rerun.mutation.isPending}
          onClick={() => rerun.mutation.mutate({ caseId: view.id })}
        >
          {lastFailed ? 'Run provisioning again' : 'Run provisioning'}
        </button>
      ) : null}
    </section>
  );
}

function VerificationSection({ view, now }: { view: Case; now: number }) {
  const trpc = useTRPC();
  const rerun = useCaseAction((handlers) => trpc.cases.rerunVerification.mutationOptions(handlers));
  const verification = view.verification;
  const show = verification !== null || view.can['confirm-vms'] || view.status === 'verifying';
  if (!show) return null;
  return (
    <section aria-labelledby="verify-heading">
      <h2 id="verify-heading">Verification</h2>
      {verification ? (
        <table>
          <caption>
            {verification.passed ? 'Passed' : 'Not passed yet'}, checked{' '}
            <Time value={verification.createdAt} now={now} />
          </caption>
          <thead>
            <tr>
              <th scope="col">Check</th>
              <th scope="col">Outcome</th>
              <th scope="col">Evidence</th>
            </tr>
          </thead>
          <tbody>
            {verification.checks.map((check) => (
              <tr key={`${check.kind}-${check.by}`}>
                <td>{CHECK_LABELS[check.kind] ?? check.kind}</td>
                <td className={check.outcome === 'passed' ? 'status-ok' : 'status-bad'}>
                  {check.outcome}
                </td>
                <td>{check.summary}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p>The agent verifies the camera once it is provisioned.</p>
      )}
      {verification?.snapshotDocumentId ? (
        <figure className="case-snapshot">
          <img
            src={`/api/documents/${verification.snapshotDocumentId}`}
            alt={`Snapshot from camera ${view.serial} taken during verification`}
            width={320}
          />
          <figcaption>Snapshot taken during verification (thumbnail kept as evidence).</figcaption>
        </figure>
      ) : null}
      {view.vmsConfirmation ? (
        <p>
          Re-added to {view.vmsConfirmation.platform}, confirmed by{' '}
          {view.vmsConfirmation.confirmedBy.name ?? 'a user'}.
        </p>
      ) : null}
      {view.recordingAttestation ? (
        <p>
          Recording attested by {view.recordingAttestation.attestedBy.name ?? 'a user'}:{' '}
          {view.recordingAttestation.statement}
        </p>
      ) : null}
      {view.can['confirm-vms'] && view.vmsConfirmation === null ? (
        <VmsForm caseId={view.id} platform={view.plan?.vms?.platform ?? ''} />
      ) : null}
      {view.can['attest-recording'] && view.recordingAttestation === null ? (
        <AttestationForm caseId={view.id} />
      ) : null}
      <FormError message={rerun.formError} />
      {view.can['rerun-verification'] ? (
        <button
          type="button"
          disabled={rerun.mutation.isPending}
          onClick={() => rerun.mutation.mutate({ caseId: view.id })}
        >
          Verify again
        </button>
      ) : null}
    </section>
  );
}

function VmsForm({ caseId, platform }: { caseId: string; platform: string }) {
  const trpc = useTRPC();
  const { mutation, fieldErrors, formError } = useCaseAction((handlers) =>
    trpc.cases.confirmVms.mutationOptions(handlers),
  );
  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    mutation.mutate({ caseId, platform: formText(form, 'platform'), note: formText(form, 'note') });
  }
  return (
    <form className="stack" onSubmit={onSubmit} noValidate aria-labelledby="vms-h">
      <h3 id="vms-h">Confirm the camera is back in the VMS</h3>
      <p className="hint">
        Re-add it with the new VMS account (reveal its password from the camera’s credentials, with
        a reason), then confirm here.
      </p>
      <FormError message={formError} />
      <Field name="platform" label="VMS" defaultValue={platform} errors={fieldErrors.platform} />
      <Field name="note" label="Note" errors={fieldErrors.note} />
      <button type="submit" disabled={mutation.isPending}>
        Confirm
      </button>
    </form>
  );
}

function AttestationForm({ caseId }: { caseId: string }) {
  const trpc = useTRPC();
  const { mutation, fieldErrors, formError } = useCaseAction((handlers) =>
    trpc.cases.attestRecording.mutationOptions(handlers),
  );
  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    mutation.mutate({ caseId, statement: formText(form, 'statement') });
  }
  return (
    <form className="stack" onSubmit={onSubmit} noValidate aria-labelledby="rec-h">
      <h3 id="rec-h">No edge storage? Attest the VMS records it</h3>
      <FormError message={formError} />
      <Field
        name="statement"
        label="What you saw"
        hint="For example “ACS shows continuous recording since 10:40”."
        multiline
        errors={fieldErrors.statement}
      />
      <button type="submit" disabled={mutation.isPending}>
        Attest
      </button>
    </form>
  );
}

function CredentialsSection({ view }: { view: Case }) {
  if (view.credentials.length === 0) return null;
  return (
    <section aria-labelledby="cred-heading">
      <h2 id="cred-heading">New credentials (vault references)</h2>
      <ul>
        {view.credentials.map((credential) => (
          <li key={credential.id}>
            {credential.account}: <span className="mono">{credential.username}</span> v
            {credential.version}, {credential.status}
          </li>
        ))}
      </ul>
      <p className="hint">
        Passwords stay in the vault; reveal one from the{' '}
        <Link href={`/cameras/${view.serial}`}>camera page</Link> with a reason (audited).
      </p>
    </section>
  );
}

function CancelForm({ caseId }: { caseId: string }) {
  const trpc = useTRPC();
  const { mutation, fieldErrors, formError } = useCaseAction((handlers) =>
    trpc.cases.cancel.mutationOptions(handlers),
  );
  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    mutation.mutate({ caseId, reason: formText(form, 'reason') });
  }
  return (
    <details className="case-cancel">
      <summary>Cancel this case</summary>
      <form className="stack" onSubmit={onSubmit} noValidate>
        <FormError message={formError} />
        <Field name="reason" label="Reason" multiline errors={fieldErrors.reason} />
        <button type="submit" disabled={mutation.isPending}>
          Cancel the case
        </button>
      </form>
    </details>
  );
}

function Timeline({ view, now }: { view: Case; now: number }) {
  return (
    <section aria-labelledby="timeline-heading">
      <h2 id="timeline-heading">Timeline</h2>
      <ol className="case-timeline">
        {view.timeline.map((entry, index) => (
          <li key={`${entry.at.toISOString()}-${index}`}>
            <Time value={entry.at} now={now} /> — <strong>{entry.title}</strong>
            {entry.actorName ? ` (${entry.actorName})` : ''}
            {entry.detail ? <span className="muted"> · {entry.detail}</span> : null}
          </li>
        ))}
      </ol>
    </section>
  );
}
