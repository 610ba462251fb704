'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useRef, useState, type FormEvent } from 'react';
import { Field } from '~/app/_components/field.tsx';
import type { RouterInputs } from '~/server/api/root.ts';
import { fieldErrorsFrom, formText } from '~/trpc/field-errors.ts';
import { useTRPC } from '~/trpc/react.tsx';

const NEW_OWNER = 'new';

export function SitesView({
  canCreate,
  canNameNewOwner,
}: {
  canCreate: boolean;
  canNameNewOwner: boolean;
}) {
  const trpc = useTRPC();
  const sites = useQuery(trpc.sites.list.queryOptions());
  return (
    <>
      <section aria-labelledby="sites-heading">
        <h2 id="sites-heading">Your sites</h2>
        {sites.isPending ? (
          <p role="status">Loading sites…</p>
        ) : sites.isError ? (
          <p role="alert" className="form-error">
            The sites could not be loaded: {sites.error.message}
          </p>
        ) : sites.data.length === 0 ? (
          <p>No sites yet.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Owner</th>
                <th scope="col">Address</th>
                <th scope="col">DHCP range</th>
                <th scope="col">Cases</th>
              </tr>
            </thead>
            <tbody>
              {sites.data.map((site) => (
                <tr key={site.id}>
                  <td>{site.name}</td>
                  <td>{site.ownerName}</td>
                  <td>{site.address || '—'}</td>
                  <td>
                    {site.dhcpRange ? `${site.dhcpRange.start} – ${site.dhcpRange.end}` : '—'}
                  </td>
                  <td>
                    <Link href={`/cases?site=${site.id}`}>Cases</Link> ·{' '}
                    <Link href={`/cases/open?site=${site.id}`}>Open cases…</Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {canCreate ? <CreateSiteForm canNameNewOwner={canNameNewOwner} /> : null}
    </>
  );
}

function CreateSiteForm({ canNameNewOwner }: { canNameNewOwner: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const owners = useQuery(trpc.organisations.siteOwners.queryOptions());
  const [ownerChoice, setOwnerChoice] = useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const [created, setCreated] = useState<string | null>(null);
  const formRef = useRef<HTMLFormElement>(null);

  const create = useMutation(
    trpc.sites.create.mutationOptions({
      onSuccess: async (site) => {
        formRef.current?.reset();
        setOwnerChoice(null);
        setCreated(`Site “${site.name}” created for ${site.ownerName}.`);
        await queryClient.invalidateQueries(trpc.sites.list.queryFilter());
        await queryClient.invalidateQueries(trpc.organisations.siteOwners.queryFilter());
      },
      onError: (error) => {
        const errors = fieldErrorsFrom(error);
        setFieldErrors(errors);
        // Take the keyboard to the first field the server rejected.
        const first = Object.keys(errors)[0];
        if (first !== undefined) {
          formRef.current
            ?.querySelector<HTMLElement>(`[name="${first.replace(/^dhcpRange\./, 'dhcp-')}"]`)
            ?.focus();
        }
      },
    }),
  );

  const ownerOptions = owners.data ?? [];
  const selected = ownerChoice ?? ownerOptions[0]?.id ?? (canNameNewOwner ? NEW_OWNER : '');

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string) => formText(form, name);
    const start = text('dhcp-start').trim();
    const end = text('dhcp-end').trim();
    const input: RouterInputs['sites']['create'] = {
      name: text('name'),
      address: text('address'),
      networkNotes: text('networkNotes'),
      ...(start || end ? { dhcpRange: { start, end } } : {}),
      ...(selected === NEW_OWNER
        ? { newOwnerName: text('newOwnerName') }
        : { ownerOrgId: selected }),
    };
    setFieldErrors({});
    setCreated(null);
    create.mutate(input);
  }

  const otherErrors = Object.entries(fieldErrors)
    .filter(([field]) => !KNOWN_FIELDS.has(field))
    .flatMap(([, messages]) => messages);
  const formError =
    create.error && Object.keys(fieldErrors).length === 0 ? create.error.message : null;

  return (
    <section aria-labelledby="create-heading">
      <h2 id="create-heading">Add a site</h2>
      <form ref={formRef} className="stack" onSubmit={onSubmit} noValidate>
        {formError || otherErrors.length > 0 ? (
          <p role="alert" className="form-error">
            {[formError, ...otherErrors].filter(Boolean).join(' ')}
          </p>
        ) : null}
        <Field name="name" label="Site name" errors={fieldErrors.name} autoComplete="off" />
        <div className="field">
          <label htmlFor="field-owner">Owner organisation</label>
          <select
            id="field-owner"
            name="ownerOrgId"
            value={selected}
            onChange={(event) => setOwnerChoice(event.target.value)}
            aria-invalid={fieldErrors.ownerOrgId ? true : undefined}
            aria-describedby={fieldErrors.ownerOrgId ? 'field-owner-error' : undefined}
          >
            {ownerOptions.map((owner) => (
              <option key={owner.id} value={owner.id}>
                {owner.name}
              </option>
            ))}
            {canNameNewOwner ? <option value={NEW_OWNER}>A new owner organisation…</option> : null}
          </select>
          {fieldErrors.ownerOrgId ? (
            <span id="field-owner-error" className="field-error">
              {fieldErrors.ownerOrgId.join(' ')}
            </span>
          ) : null}
        </div>
        {selected === NEW_OWNER ? (
          <Field
            name="newOwnerName"
            label="New owner organisation name"
            hint="The legitimate owner of the cameras at this site; you can invite its approver later."
            errors={fieldErrors.newOwnerName}
          />
        ) : null}
        <Field name="address" label="Street address" errors={fieldErrors.address} />
        <Field
          name="networkNotes"
          label="Network notes"
          multiline
          errors={fieldErrors.networkNotes}
        />
        <fieldset>
          <legend>DHCP range (optional)</legend>
          <Field
            name="dhcp-start"
            label="First address"
            inputMode="decimal"
            placeholder="192.168.1.100"
            errors={fieldErrors['dhcpRange.start'] ?? fieldErrors.dhcpRange}
          />
          <Field
            name="dhcp-end"
            label="Last address"
            inputMode="decimal"
            placeholder="192.168.1.199"
            errors={fieldErrors['dhcpRange.end']}
          />
        </fieldset>
        <button type="submit" disabled={create.isPending}>
          {create.isPending ? 'Adding…' : 'Add site'}
        </button>
        <p role="status" className="status-ok">
          {created}
        </p>
      </form>
    </section>
  );
}

const KNOWN_FIELDS = new Set([
  'name',
  'ownerOrgId',
  'newOwnerName',
  'address',
  'networkNotes',
  'dhcpRange',
  'dhcpRange.start',
  'dhcpRange.end',
]);
