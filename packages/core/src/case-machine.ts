import { DomainError } from './domain-error.ts';
import { err, ok } from './result.ts';
import type { Result } from './result.ts';
import { TERMINAL_CASE_STATES } from './schemas/case-state.ts';
import type { CaseEvent, CaseEventType, CaseState, CaseStatus } from './schemas/case-state.ts';
import type { Role } from './schemas/membership.ts';

/*
 * Two paths through a case:
 *
 *   recommission:       opened → triaged → awaiting-ownership → awaiting-approval → approved →
 *                       resetting → awaiting-device → provisioning → verifying → verified → documented
 *   credential-cleanup: opened → triaged → provisioning → verifying → verified → documented
 *
 * Clean-up skips ownership and approval on purpose: it runs with an admin credential that already
 * works, wipes nothing and rotates credentials the integrator already holds. Ownership gaps on such
 * cameras are surfaced by the fleet documentation audit instead of blocking a rotation. A
 * recommission of a camera that is already in factory default (needs-setup) still needs ownership
 * but no reset, so it goes from ownership straight to provisioning.
 *
 * `verified` sits between verifying and documented because proving the outcome and writing the
 * handover record are separate steps done by different actors.
 */

export const INITIAL_CASE_STATE: CaseState = { status: 'opened' };

export function isTerminalCaseState(state: CaseState): boolean {
  return (TERMINAL_CASE_STATES as readonly CaseStatus[]).includes(state.status);
}

const ABORT_EVENTS = ['cancelled', 'failed'] as const satisfies readonly CaseEventType[];

/**
 * Event types the state accepts, regardless of payload. `approved` and `denied` additionally need
 * the pending request's id.
 */
export function listAllowedCaseEvents(state: CaseState): CaseEventType[] {
  switch (state.status) {
    case 'opened':
      return ['triage-completed', ...ABORT_EVENTS];
    case 'triaged':
      return state.path === 'recommission'
        ? ['triage-completed', 'ownership-requested', 'ownership-recorded', ...ABORT_EVENTS]
        : ['triage-completed', 'provisioning-started', ...ABORT_EVENTS];
    case 'awaiting-ownership':
      return ['ownership-recorded', ...ABORT_EVENTS];
    case 'awaiting-approval':
      return state.requestId === null
        ? ['approval-requested', ...ABORT_EVENTS]
        : ['approval-requested', 'approved', 'denied', ...ABORT_EVENTS];
    case 'approved':
      return ['reset-started', ...ABORT_EVENTS];
    case 'resetting':
      return ['device-went-away', 'device-returned', 'reset-diagnosed', ...ABORT_EVENTS];
    case 'awaiting-device':
      return ['device-returned', 'reset-diagnosed', ...ABORT_EVENTS];
    case 'provisioning':
      return ['provisioned', ...ABORT_EVENTS];
    case 'verifying':
      return ['verification-passed', 'verification-failed', ...ABORT_EVENTS];
    case 'verified':
      return ['documented', ...ABORT_EVENTS];
    case 'wont-reset':
      return ['retry', 'cancelled'];
    case 'failed':
      return ['retry', 'cancelled'];
    case 'documented':
    case 'denied':
    case 'cancelled':
      return [];
  }
}

function refuse(state: CaseState, event: CaseEvent, why?: string): DomainError {
  const base = `Cannot apply "${event.type}" to a case in state "${state.status}".`;
  return new DomainError('invalid-transition', why === undefined ? base : `${base} ${why}`, {
    details: { from: state.status, event: event.type },
  });
}

/**
 * Pure transition function. Invalid transitions are values (`ok: false`) carrying a
 * DomainError('invalid-transition') whose details name the from-state and the event type.
 */
export function transitionCase(state: CaseState, event: CaseEvent): Result<CaseState, DomainError> {
  if (!listAllowedCaseEvents(state).includes(event.type)) return err(refuse(state, event));

  switch (event.type) {
    case 'triage-completed':
      return ok({
        status: 'triaged',
        path: event.path,
        resetRequired: event.path === 'recommission' && event.resetRequired,
      });
    case 'ownership-requested':
      return state.status === 'triaged'
        ? ok({ status: 'awaiting-ownership', resetRequired: state.resetRequired })
        : err(refuse(state, event));
    case 'ownership-recorded': {
      if (state.status !== 'triaged' && state.status !== 'awaiting-ownership') {
        return err(refuse(state, event));
      }
      return ok(
        state.resetRequired
          ? { status: 'awaiting-approval', requestId: null }
          : { status: 'provisioning', path: 'recommission', lastVerificationFailure: null },
      );
    }
    case 'provisioning-started':
      return ok({
        status: 'provisioning',
        path: 'credential-cleanup',
        lastVerificationFailure: null,
      });
    case 'approval-requested':
      return ok({ status: 'awaiting-approval', requestId: event.requestId });
    case 'approved':
    case 'denied': {
      if (state.status !== 'awaiting-approval' || state.requestId !== event.requestId) {
        return err(refuse(state, event, 'The decision does not belong to the pending request.'));
      }
      return ok(
        event.type === 'approved'
          ? { status: 'approved', requestId: event.requestId }
          : { status: 'denied', reason: event.reason },
      );
    }
    case 'reset-started':
      return ok({ status: 'resetting', method: event.method });
    case 'device-went-away':
      return state.status === 'resetting'
        ? ok({ status: 'awaiting-device', method: state.method })
        : err(refuse(state, event));
    case 'device-returned':
      return ok({ status: 'provisioning', path: 'recommission', lastVerificationFailure: null });
    case 'reset-diagnosed':
      return state.status === 'resetting' || state.status === 'awaiting-device'
        ? ok({ status: 'wont-reset', method: state.method, diagnosis: event.diagnosis })
        : err(refuse(state, event));
    case 'provisioned':
      return state.status === 'provisioning'
        ? ok({ status: 'verifying', path: state.path })
        : err(refuse(state, event));
    case 'verification-passed':
      return state.status === 'verifying'
        ? ok({ status: 'verified', path: state.path })
        : err(refuse(state, event));
    case 'verification-failed':
      return state.status === 'verifying'
        ? ok({ status: 'provisioning', path: state.path, lastVerificationFailure: event.reason })
        : err(refuse(state, event));
    case 'documented':
      return state.status === 'verified'
        ? ok({ status: 'documented', path: state.path })
        : err(refuse(state, event));
    case 'cancelled':
      return ok({ status: 'cancelled', reason: event.reason });
    case 'failed':
      return ok({ status: 'failed', reason: event.reason, failedFrom: state.status });
    case 'retry':
      // A grant is single-use, so a second reset attempt needs a fresh approval; a failure leaves
      // the camera in an unknown condition, so the case starts over at triage.
      return ok(
        state.status === 'wont-reset'
          ? { status: 'awaiting-approval', requestId: null }
          : { status: 'opened' },
      );
  }
}

/** Replays a case's event log; the error's details carry the index of the refused event. */
export function replayCaseEvents(
  events: readonly CaseEvent[],
  initial: CaseState = INITIAL_CASE_STATE,
): Result<CaseState, DomainError> {
  let state = initial;
  for (const [index, event] of events.entries()) {
    const result = transitionCase(state, event);
    if (!result.ok) {
      return err(
        new DomainError('invalid-transition', `Event ${index}: ${result.error.message}`, {
          cause: result.error,
          details: { ...result.error.details, index },
        }),
      );
    }
    state = result.value;
  }
  return ok(state);
}

export type NextActionActor = Role | 'agent';

export interface NextAction {
  /** Stable identifier for UI wiring, e.g. "request-approval". */
  action: string;
  /** Who can act; the first entry is the usual actor. */
  actors: NextActionActor[];
  description: string;
}

const CANCEL: NextAction = {
  action: 'cancel',
  actors: ['integrator-admin', 'owner-approver'],
  description: 'Cancel the case with a reason if the camera should be left as it is.',
};

/** What the case is waiting for and who must act: the UI renders this as the next step. */
export function listNextActions(state: CaseState): NextAction[] {
  switch (state.status) {
    case 'opened':
      return [
        {
          action: 'triage',
          actors: ['technician', 'agent'],
          description:
            'Probe the camera and test the known credentials (a rationed number of attempts) to decide between credential clean-up and recommissioning.',
        },
      ];
    case 'triaged':
      return state.path === 'credential-cleanup'
        ? [
            {
              action: 'start-credential-cleanup',
              actors: ['technician', 'integrator-admin'],
              description:
                'An administrator credential works: rotate it, create the Custody service account and remove stale accounts. No reset is needed.',
            },
          ]
        : [
            {
              action: 'record-ownership',
              actors: ['owner-approver', 'integrator-admin'],
              description:
                'Record the camera owner with evidence (order number, invoice or document) before any recommissioning.',
            },
          ];
    case 'awaiting-ownership':
      return [
        {
          action: 'record-ownership',
          actors: ['owner-approver', 'integrator-admin'],
          description:
            'Record the camera owner with evidence (order number, invoice or document) and who attests it. Inherited cameras need this too.',
        },
        CANCEL,
      ];
    case 'awaiting-approval':
      return state.requestId === null
        ? [
            {
              action: 'request-approval',
              actors: ['technician', 'integrator-admin'],
              description:
                'Ask the owner to approve the factory reset, giving a reason. The approval is bound to this camera, verb, site and agent.',
            },
            CANCEL,
          ]
        : [
            {
              action: 'decide-approval',
              actors: ['owner-approver'],
              description:
                "Approve or deny the pending reset request. The requester cannot approve their own request; the site's quorum of distinct approvers applies.",
            },
            CANCEL,
          ];
    case 'approved':
      return [
        {
          action: 'start-reset',
          actors: ['technician'],
          description:
            'Start the reset before the approval expires: software factory default if an admin credential works, otherwise the guided control-button procedure.',
        },
      ];
    case 'resetting':
      return state.method === 'control-button'
        ? [
            {
              action: 'perform-button-reset',
              actors: ['technician'],
              description:
                'Power the camera off, hold the control button, power it on and keep holding for 15–30 s until the status LED flashes amber, then release and wait for steady green.',
            },
          ]
        : [
            {
              action: 'await-restart',
              actors: ['agent'],
              description: 'Wait for the camera to restart into its factory-default state.',
            },
          ];
    case 'awaiting-device':
      return [
        {
          action: 'watch-for-device',
          actors: ['agent'],
          description:
            'Watch for the same serial to return in factory-default state at its DHCP address, a link-local address or 192.168.0.90.',
        },
        {
          action: 'diagnose-reset',
          actors: ['technician'],
          description:
            'If it does not return, or returns still configured, record the diagnosis (power budget, cable, bricked, button timing or a faulty button).',
        },
      ];
    case 'provisioning':
      return [
        {
          action: state.path === 'recommission' ? 'recommission-device' : 'rotate-credentials',
          actors: ['agent', 'technician'],
          description:
            (state.path === 'recommission'
              ? 'Create the first administrator with a generated password, the Custody service account and the VMS account, and re-apply the network plan and time settings.'
              : 'Rotate the administrator password, create the Custody service account and remove stale accounts.') +
            (state.lastVerificationFailure === null
              ? ''
              : ` The last verification failed: ${state.lastVerificationFailure}`),
        },
      ];
    case 'verifying':
      return [
        {
          action: 'verify',
          actors: ['agent'],
          description:
            'Prove the outcome: serial at the planned address, new credentials work and old ones fail, a real JPEG snapshot, RTSP DESCRIBE, recording present, VMS updated.',
        },
      ];
    case 'verified':
      return [
        {
          action: 'document',
          actors: ['technician', 'integrator-admin'],
          description:
            'Write the handover record: model, serial, owner, credential reference, the platform it was re-added to, and who did what when.',
        },
      ];
    case 'wont-reset':
      return [
        {
          action: 'retry-reset',
          actors: ['technician'],
          description:
            state.diagnosis.kind === 'never-came-back'
              ? `The camera never came back (${state.diagnosis.cause}). Fix the cause, then request a new approval and reset again.`
              : `The camera came back still configured (${state.diagnosis.cause}). Request a new approval and repeat the reset.`,
        },
        CANCEL,
      ];
    case 'failed':
      return [
        {
          action: 'retry',
          actors: ['technician', 'integrator-admin'],
          description: `The case failed: ${state.reason}. Retrying starts again from triage.`,
        },
        CANCEL,
      ];
    case 'documented':
    case 'denied':
    case 'cancelled':
      return [];
  }
}
