'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import type { RouterOutputs } from '~/server/api/root.ts';
import { ROLE_ORG_KINDS } from '~/server/services/roles.ts';
import { fieldErrorsFrom, formText } from '~/trpc/field-errors.ts';
import { useTRPC } from '~/trpc/react.tsx';
import { formatAbsolute } from '../fleet/format.tsx';

type Organisation = RouterOutputs['organisations']['invitable'][number];
type Invitation = RouterOutputs['organisations']['invitations'][number];
type Created = RouterOutputs['organisations']['invite'];
type Role = Invitation['role'];

const ROLE_LABELS: Record<Role, string> = {
  'integrator-admin': 'Integrator admin',
  technician: 'Technician',
  'owner-approver': 'Owner approver',
  auditor: 'Auditor',
};

const STATE_LABELS: Record<Invitation['state'], string> = {
  pending: 'Waiting',
  accepted: 'Accepted',
  revoked: 'Withdrawn',
  expired: 'Expired',
};

/** The role a new invitation starts with: the one that can do least. */
function leastPrivileged(roles: readonly Role[]): Role | undefined {
  return roles.find((role) => role === 'technician') ?? roles.find((role) => role === 'auditor');
}

export function InvitationsView() {
  const trpc = useTRPC();
  const me = useQuery(trpc.me.get.queryOptions());
  const isAdmin = (me.data?.memberships ?? []).some(
    (m) => m.role === 'integrator-admin' || m.role === 'owner-approver',
  );
  const orgs = useQuery({ ...trpc.organisations.invitable.queryOptions(), enabled: isAdmin });

  if (me.isPending) return <p role="status">Loading…</p>;
  if (!isAdmin) {
    return (
      <p>Only an integrator admin or an owner approver invites people into an organisation.</p>
    );
  }
  if (orgs.isPending) return <p role="status">Loading your organisations…</p>;
  if (orgs.isError) {
    return (
      <p role="alert" className="form-error">
        Your organisations could not be loaded: {orgs.error.message}
      </p>
    );
  }
  if (orgs.data.length === 0) {
    return <p>None of your organisations takes invitations from you.</p>;
  }
  return (
    <>
      {orgs.data.map((org) => (
        <OrganisationInvitations key={org.id} org={org} />
      ))}
    </>
  );
}

function OrganisationInvitations({ org }: { org: Organisation }) {
  const headingId = useId();
  return (
    <section aria-labelledby={headingId}>
      <h2 id={headingId}>{org.name}</h2>
      <InviteForm org={org} />
      <InvitationList org={org} />
    </section>
  );
}

function InviteForm({ org }: { org: Organisation }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [created, setCreated] = useState<Created | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const formRef = useRef<HTMLFormElement>(null);
  const roles = (Object.keys(ROLE_ORG_KINDS) as Role[]).filter((role) =>
    ROLE_ORG_KINDS[role].includes(org.kind),
  );
  const invite = useMutation(
    trpc.organisations.invite.mutationOptions({
      onSuccess: async (result) => {
        setCreated(result);
        formRef.current?.reset();
        await queryClient.invalidateQueries(trpc.organisations.invitations.queryFilter());
      },
      onError: (error) => setFieldErrors(fieldErrorsFrom(error)),
    }),
  );

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setFieldErrors({});
    setCreated(null);
    invite.mutate({
      orgId: org.id,
      email: formText(form, 'email').trim(),
      role: formText(form, 'role') as Role,
    });
  }

  const formError =
    invite.error && Object.keys(fieldErrors).length === 0 ? invite.error.message : null;
  const prefix = `invite-${org.id}`;
  return (
    <>
      {created ? <CreatedLink created={created} onDone={() => setCreated(null)} /> : null}
      <form ref={formRef} className="stack" onSubmit={onSubmit} noValidate>
        <h3>Invite someone</h3>
        {formError ? (
          <p role="alert" className="form-error">
            {formError}
          </p>
        ) : null}
        {/* Ids carry the organisation: the page has one form per organisation. */}
        <div className="field">
          <label htmlFor={`${prefix}-email`}>E-mail address</label>
          <input
            id={`${prefix}-email`}
            name="email"
            type="email"
            autoComplete="off"
            required
            aria-invalid={fieldErrors.email ? true : undefined}
            aria-describedby={fieldErrors.email ? `${prefix}-email-error` : undefined}
          />
          {fieldErrors.email ? (
            <span id={`${prefix}-email-error`} className="field-error">
              {fieldErrors.email.join(' ')}
            </span>
          ) : null}
        </div>
        <div className="field">
          <label htmlFor={`${prefix}-role`}>Role</label>
          <select id={`${prefix}-role`} name="role" defaultValue={leastPrivileged(roles)}>
            {roles.map((role) => (
              <option key={role} value={role}>
                {ROLE_LABELS[role]}
              </option>
            ))}
          </select>
          {fieldErrors.role ? (
            <span className="field-error">{fieldErrors.role.join(' ')}</span>
          ) : null}
        </div>
        <button type="submit" disabled={invite.isPending}>
          {invite.isPending ? 'Creating…' : 'Create invitation'}
        </button>
      </form>
    </>
  );
}

function CreatedLink({ created, onDone }: { created: Created; onDone: () => void }) {
  const headingRef = useRef<HTMLHeadingElement>(null);
  const [copied, setCopied] = useState('');
  useEffect(() => {
    headingRef.current?.focus();
  }, []);
  const inputId = useId();
  async function copy(text: string) {
    try {
      await navigator.clipboard.writeText(text);
      setCopied('Link copied.');
    } catch {
      setCopied('Could not copy; select the link and copy it yourself.');
    }
  }
  return (
    <div className="issued" role="region" aria-label="New invitation link">
      <h3 ref={headingRef} tabIndex={-1}>
        Invitation link
      </h3>
      {created.link === null ? (
        <p className="form-error">
          The invitation exists, but the address of this server is not known, so no link can be
          made. Withdraw it and try again from the address people use to reach Custody.
        </p>
      ) : (
        <>
          <p>
            Send this link to the person you invited. It is shown only now, works once, and expires{' '}
            <time dateTime={created.expiresAt.toISOString()}>
              {formatAbsolute(created.expiresAt)}
            </time>
            .
          </p>
          <div className="field">
            <label htmlFor={inputId}>Link</label>
            <span className="search-row">
              <input
                id={inputId}
                readOnly
                value={created.link}
                className="mono"
                onFocus={(event) => event.currentTarget.select()}
              />
              <button type="button" onClick={() => void copy(created.link ?? '')}>
                Copy link
              </button>
            </span>
          </div>
        </>
      )}
      <p role="status" className="status-ok">
        {copied}
      </p>
      <button type="button" onClick={onDone}>
        Done
      </button>
    </div>
  );
}

function InvitationList({ org }: { org: Organisation }) {
  const trpc = useTRPC();
  const invitations = useQuery(trpc.organisations.invitations.queryOptions({ orgId: org.id }));
  const [announcement, setAnnouncement] = useState('');
  if (invitations.isPending) return <p role="status">Loading invitations…</p>;
  if (invitations.isError) {
    return (
      <p role="alert" className="form-error">
        The invitations could not be loaded: {invitations.error.message}
      </p>
    );
  }
  if (invitations.data.length === 0) return <p>No invitation yet.</p>;
  return (
    <>
      <p role="status" className="status-ok">
        {announcement}
      </p>
      <table>
        <caption>Invitations to {org.name}</caption>
        <thead>
          <tr>
            <th scope="col">E-mail address</th>
            <th scope="col">Role</th>
            <th scope="col">State</th>
            <th scope="col">Invited</th>
            <th scope="col">Expires</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {invitations.data.map((invitation) => (
            <tr key={invitation.id}>
              <th scope="row">{invitation.email}</th>
              <td>{ROLE_LABELS[invitation.role]}</td>
              <td>{STATE_LABELS[invitation.state]}</td>
              <td>
                {formatAbsolute(invitation.createdAt)} by {invitation.invitedByName}
              </td>
              <td>{formatAbsolute(invitation.expiresAt)}</td>
              <td>
                {invitation.state === 'pending' ? (
                  <WithdrawButton invitation={invitation} onWithdrawn={setAnnouncement} />
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function WithdrawButton({
  invitation,
  onWithdrawn,
}: {
  invitation: Invitation;
  onWithdrawn: (announcement: string) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const withdraw = useMutation(
    trpc.organisations.revokeInvitation.mutationOptions({
      onSuccess: async () => {
        onWithdrawn(
          `The invitation for ${invitation.email} is withdrawn; its link no longer works.`,
        );
        await queryClient.invalidateQueries(trpc.organisations.invitations.queryFilter());
      },
    }),
  );
  return (
    <>
      <button
        type="button"
        disabled={withdraw.isPending}
        onClick={() => withdraw.mutate({ invitationId: invitation.id })}
      >
        Withdraw <span className="visually-hidden">the invitation for {invitation.email}</span>
      </button>
      {withdraw.isError ? (
        <span role="alert" className="form-error">
          {' '}
          {withdraw.error.message}
        </span>
      ) : null}
    </>
  );
}
