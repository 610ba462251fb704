'use client';

import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query';
import { useRouter, useSearchParams } from 'next/navigation';
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import type { RouterInputs } from '~/server/api/root.ts';
import { ACCESS_STATE_FILTERS, type AccessStateFilter } from '~/server/services/fleet-query.ts';
import { fieldErrorsFrom } from '~/trpc/field-errors.ts';
import { useTRPC } from '~/trpc/react.tsx';
import { ACCESS_STATE_LABELS } from '../fleet/format.tsx';
import { ACCOUNT_LABELS } from './rotation-format.ts';

type CreateInput = RouterInputs['rotation']['create'];

const PREVIEW_DELAY_MS = 300;
/** As the server checks them (ROTATION_LIMITS in core). */
const LIMITS = {
  canarySize: { min: 1, max: 100, default: 5, label: 'Canary size' },
  waveSize: { min: 1, max: 1000, default: 50, label: 'Wave size' },
  maxFailures: { min: 0, max: 1000, default: 0, label: 'Failures allowed per wave' },
} as const;
type SizeField = keyof typeof LIMITS;

function sizeError(field: SizeField, text: string): string | null {
  const { min, max } = LIMITS[field];
  const value = Number(text);
  if (text.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
    return `A whole number from ${min} to ${max}.`;
  }
  return null;
}

/** `waves` counts the waves after the canary. */
function previewText(cameras: number, waves: number, canarySize: number): string {
  if (cameras === 0) return 'No camera would rotate.';
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const canary = Math.min(canarySize, cameras);
  return waves === 0
    ? `${plural(cameras, 'camera')} will rotate, all in the canary batch.`
    : `${plural(cameras, 'camera')} will rotate: a canary of ${canary} first, then ${plural(waves, 'wave')} of the other ${cameras - canary}.`;
}

function useDebounced<T>(value: T, delayMs: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return debounced;
}

/**
 * Starts a rotation: which cameras (sites, narrowed by the fleet filter), which account, and
 * how carefully (canary, waves, failures allowed). A preview says how many cameras will rotate
 * and which are skipped and why, before anything starts.
 */
export function NewRotationForm({ orgs }: { orgs: { orgId: string; orgName: string }[] }) {
  const trpc = useTRPC();
  const router = useRouter();
  const params = useSearchParams();
  const facets = useQuery(trpc.fleet.facets.queryOptions({}));
  const [siteIds, setSiteIds] = useState<string[]>(() => params.getAll('site'));
  const [accessState, setAccessState] = useState(params.get('accessState') ?? '');
  const [model, setModel] = useState(params.get('model') ?? '');
  const [firmware, setFirmware] = useState(params.get('firmware') ?? '');
  const [orgId, setOrgId] = useState(orgs[0]?.orgId ?? '');
  const [account, setAccount] = useState<CreateInput['account']>('admin');
  const [sizes, setSizes] = useState<Record<SizeField, string>>({
    canarySize: String(LIMITS.canarySize.default),
    waveSize: String(LIMITS.waveSize.default),
    maxFailures: String(LIMITS.maxFailures.default),
  });
  const [serverErrors, setServerErrors] = useState<Record<string, string[]>>({});

  const sizeErrors = Object.fromEntries(
    (Object.keys(LIMITS) as SizeField[]).map((field) => [field, sizeError(field, sizes[field])]),
  ) as Record<SizeField, string | null>;
  const valid = siteIds.length > 0 && Object.values(sizeErrors).every((error) => error === null);

  const input = useMemo<CreateInput>(() => {
    const filter: NonNullable<CreateInput['filter']> = {};
    if (accessState !== '') filter.accessState = accessState as AccessStateFilter;
    if (model !== '') filter.model = model;
    if (firmware !== '') filter.firmware = firmware;
    return {
      ...(orgs.length > 1 ? { orgId } : {}),
      siteIds,
      ...(Object.keys(filter).length > 0 ? { filter } : {}),
      account,
      canarySize: Number(sizes.canarySize),
      waveSize: Number(sizes.waveSize),
      maxFailures: Number(sizes.maxFailures),
    };
  }, [orgs.length, orgId, siteIds, accessState, model, firmware, account, sizes]);
  const previewInput = useDebounced(input, PREVIEW_DELAY_MS);
  const preview = useQuery({
    ...trpc.rotation.preview.queryOptions(previewInput),
    enabled: valid,
    placeholderData: keepPreviousData,
  });

  const create = useMutation(
    trpc.rotation.create.mutationOptions({
      onSuccess: (created) => router.push(`/rotations/${created.jobId}`),
      onError: (error) => setServerErrors(fieldErrorsFrom(error)),
    }),
  );

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!valid) return;
    setServerErrors({});
    create.mutate(input);
  }

  const sites = facets.data?.sites ?? [];
  const allChecked = sites.length > 0 && sites.every((site) => siteIds.includes(site.id));
  const toggleSite = (id: string, checked: boolean) =>
    setSiteIds((current) =>
      checked ? [...new Set([...current, id])] : current.filter((entry) => entry !== id),
    );
  const fieldError = (name: string, local: string | null) => {
    const messages = [local, ...(serverErrors[name] ?? [])].filter(Boolean);
    return messages.length > 0 ? messages.join(' ') : null;
  };
  const formError =
    create.isError && Object.keys(serverErrors).length === 0 ? create.error.message : null;
  const ready = preview.data !== undefined && !preview.isPlaceholderData && previewInput === input;

  return (
    <section aria-labelledby="new-rotation-heading">
      <h2 id="new-rotation-heading">New rotation</h2>
      <form className="rotation-form" aria-labelledby="new-rotation-heading" onSubmit={onSubmit}>
        <fieldset className="rotation-sites">
          <legend>Sites</legend>
          {facets.isPending ? (
            <p role="status">Loading sites…</p>
          ) : sites.length === 0 ? (
            <p>No site is reachable for you.</p>
          ) : (
            <>
              <label className="inline">
                <input
                  type="checkbox"
                  checked={allChecked}
                  onChange={(event) =>
                    setSiteIds(event.target.checked ? sites.map((site) => site.id) : [])
                  }
                />{' '}
                All sites ({sites.length})
              </label>
              {sites.map((site) => (
                <label key={site.id} className="inline">
                  <input
                    type="checkbox"
                    name="site"
                    value={site.id}
                    checked={siteIds.includes(site.id)}
                    onChange={(event) => toggleSite(site.id, event.target.checked)}
                  />{' '}
                  {site.name}
                </label>
              ))}
            </>
          )}
          {fieldError('siteIds', null) ? (
            <span className="field-error">{fieldError('siteIds', null)}</span>
          ) : null}
        </fieldset>
        <fieldset>
          <legend>Narrow with the fleet filter (optional)</legend>
          <div className="rotation-sizes">
            <div className="field">
              <label htmlFor="rotation-access">Access state</label>
              <select
                id="rotation-access"
                value={accessState}
                onChange={(event) => setAccessState(event.target.value)}
              >
                <option value="">Any access state</option>
                {ACCESS_STATE_FILTERS.map((state) => (
                  <option key={state} value={state}>
                    {ACCESS_STATE_LABELS[state]}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor="rotation-model">Model</label>
              <select
                id="rotation-model"
                value={model}
                onChange={(event) => setModel(event.target.value)}
              >
                <option value="">Any model</option>
                {(facets.data?.models ?? []).map((entry) => (
                  <option key={entry} value={entry}>
                    {entry}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor="rotation-firmware">Firmware</label>
              <select
                id="rotation-firmware"
                value={firmware}
                onChange={(event) => setFirmware(event.target.value)}
              >
                <option value="">Any firmware</option>
                {(facets.data?.firmware ?? []).map((entry) => (
                  <option key={entry} value={entry}>
                    {entry}
                  </option>
                ))}
              </select>
            </div>
          </div>
        </fieldset>
        <fieldset>
          <legend>How</legend>
          <div className="rotation-sizes">
            {orgs.length > 1 ? (
              <div className="field">
                <label htmlFor="rotation-org">Rotate for</label>
                <select
                  id="rotation-org"
                  value={orgId}
                  onChange={(event) => setOrgId(event.target.value)}
                >
                  {orgs.map((org) => (
                    <option key={org.orgId} value={org.orgId}>
                      {org.orgName}
                    </option>
                  ))}
                </select>
              </div>
            ) : null}
            <div className="field">
              <label htmlFor="rotation-account">Account</label>
              <select
                id="rotation-account"
                value={account}
                onChange={(event) => setAccount(event.target.value as CreateInput['account'])}
              >
                {(['admin', 'service', 'vms'] as const).map((entry) => (
                  <option key={entry} value={entry}>
                    {ACCOUNT_LABELS[entry]}
                  </option>
                ))}
              </select>
            </div>
            {(Object.keys(LIMITS) as SizeField[]).map((field) => {
              const error = fieldError(field, sizeErrors[field]);
              const id = `rotation-${field}`;
              return (
                <div key={field} className="field">
                  <label htmlFor={id}>{LIMITS[field].label}</label>
                  <input
                    id={id}
                    type="number"
                    inputMode="numeric"
                    min={LIMITS[field].min}
                    max={LIMITS[field].max}
                    step={1}
                    value={sizes[field]}
                    aria-invalid={error ? true : undefined}
                    aria-describedby={error ? `${id}-error` : undefined}
                    onChange={(event) =>
                      setSizes((current) => ({ ...current, [field]: event.target.value }))
                    }
                  />
                  {error ? (
                    <span id={`${id}-error`} className="field-error">
                      {error}
                    </span>
                  ) : null}
                </div>
              );
            })}
          </div>
        </fieldset>
        <div className="rotation-preview" aria-live="polite" aria-busy={preview.isFetching}>
          <h3>Preview</h3>
          {siteIds.length === 0 ? (
            <p>Choose at least one site.</p>
          ) : !valid ? (
            <p>Correct the sizes to see what would rotate.</p>
          ) : preview.isError ? (
            <p role="alert" className="form-error">
              The preview failed: {preview.error.message}
            </p>
          ) : preview.data === undefined ? (
            <p>Counting the cameras…</p>
          ) : (
            <>
              <p>
                {previewText(preview.data.cameras, preview.data.waves, Number(sizes.canarySize))}
                {preview.data.skipped.length > 0 ? ` ${preview.data.skipped.length} skipped.` : ''}
              </p>
              {preview.data.skipped.length > 0 ? (
                <table>
                  <caption>Skipped cameras, and why</caption>
                  <thead>
                    <tr>
                      <th scope="col">Camera</th>
                      <th scope="col">Reason</th>
                    </tr>
                  </thead>
                  <tbody>
                    {preview.data.skipped.map((skip) => (
                      <tr key={skip.serial}>
                        <th scope="row" className="mono">
                          {skip.serial}
                        </th>
                        <td>{skip.label}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              ) : null}
            </>
          )}
        </div>
        {formError ? (
          <p role="alert" className="form-error">
            {formError}
          </p>
        ) : null}
        <button
          type="submit"
          disabled={!valid || create.isPending || !ready || preview.data?.cameras === 0}
        >
          {create.isPending ? 'Starting…' : 'Start rotation'}
        </button>
      </form>
    </section>
  );
}
