'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import type { RouterOutputs } from '~/server/api/root.ts';
import { formText } from '~/trpc/field-errors.ts';
import { useTRPC } from '~/trpc/react.tsx';
import { AGENT_STATUS_LABELS, Time, formatAbsolute, useNow } from '../fleet/format.tsx';
import {
  LiveStatus,
  useFleetLive,
  useThrottled,
  type FleetChanges,
} from '../fleet/use-fleet-live.tsx';

type AgentView = RouterOutputs['agents']['list'][number];
type IssuedToken = RouterOutputs['agents']['createEnrollmentToken'];

/**
 * Status, last contact, version and outbox depth arrive over the live feed (each heartbeat the
 * server records is announced); this slow re-read only covers a feed that is down or lagging.
 */
const FALLBACK_REFRESH_MS = 5 * 60_000;

const TTL_OPTIONS = [
  { value: '1h', label: '1 hour' },
  { value: '24h', label: '24 hours' },
  { value: '7d', label: '7 days' },
] as const;

export function AgentsView() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const params = useSearchParams();
  const pathname = usePathname();
  const router = useRouter();
  const now = useNow();
  const siteId = params.get('site') ?? undefined;

  const sites = useQuery(trpc.fleet.facets.queryOptions({}));
  const enrollable = useQuery(trpc.agents.enrollableSites.queryOptions());
  const input = { siteId };
  const agents = useQuery({
    ...trpc.agents.list.queryOptions(input),
    refetchInterval: FALLBACK_REFRESH_MS,
  });
  const adminSites = new Set((enrollable.data ?? []).map((site) => site.id));

  const refetch = useThrottled(() => {
    void queryClient.invalidateQueries(trpc.agents.list.queryFilter());
  }, 1_000);

  function onChanges(changes: FleetChanges) {
    if (changes.agents.length === 0) return;
    const updates = new Map(changes.agents.map((agent) => [agent.id, agent]));
    let placed = 0;
    queryClient.setQueryData(trpc.agents.list.queryKey(input), (rows) =>
      rows?.map((row) => {
        const update = updates.get(row.id);
        if (update === undefined) return row;
        placed++;
        return update;
      }),
    );
    if (placed < updates.size) refetch();
  }
  const live = useFleetLive({ siteId, topics: ['agents'] }, { onChanges, onResync: refetch });

  function chooseSite(next: string) {
    router.push(next === '' ? pathname : `${pathname}?site=${encodeURIComponent(next)}`, {
      scroll: false,
    });
  }

  return (
    <div className="wide-page">
      <div className="field narrow">
        <label htmlFor="agents-site">Show agents at</label>
        <select id="agents-site" value={siteId ?? ''} onChange={(e) => chooseSite(e.target.value)}>
          <option value="">All sites</option>
          {(sites.data?.sites ?? []).map((site) => (
            <option key={site.id} value={site.id}>
              {site.name}
            </option>
          ))}
        </select>
      </div>
      <LiveStatus state={live} />
      <section aria-labelledby="agents-heading">
        <h2 id="agents-heading">Enrolled agents</h2>
        {agents.isPending ? (
          <p role="status">Loading agents…</p>
        ) : agents.isError ? (
          <p role="alert" className="form-error">
            The agents could not be loaded: {agents.error.message}
          </p>
        ) : agents.data.length === 0 ? (
          <p>No agent is enrolled {siteId ? 'at this site' : 'at your sites'} yet.</p>
        ) : (
          <AgentsTable agents={agents.data} now={now} adminSites={adminSites} />
        )}
      </section>
      {enrollable.data && enrollable.data.length > 0 ? (
        <EnrollSection sites={enrollable.data} preferredSiteId={siteId} />
      ) : null}
    </div>
  );
}

function AgentsTable({
  agents,
  now,
  adminSites,
}: {
  agents: AgentView[];
  now: number;
  adminSites: Set<string>;
}) {
  const [announcement, setAnnouncement] = useState('');
  const anyAdmin = agents.some((agent) => adminSites.has(agent.siteId));
  return (
    <>
      <p role="status" className="status-ok">
        {announcement}
      </p>
      <div className="table-scroll">
        <table>
          <caption className="visually-hidden">Enrolled agents and their connection</caption>
          <thead>
            <tr>
              <th scope="col">Agent</th>
              <th scope="col">Site</th>
              <th scope="col">Status</th>
              <th scope="col">Last seen</th>
              <th scope="col">Version</th>
              <th scope="col">Protocol</th>
              <th scope="col">Outbox</th>
              <th scope="col">Cameras</th>
              <th scope="col">Enrolled</th>
              {anyAdmin ? <th scope="col">Actions</th> : null}
            </tr>
          </thead>
          <tbody>
            {agents.map((agent) => (
              <tr key={agent.id} data-agent={agent.id}>
                <th scope="row">{agent.name}</th>
                <td>{agent.siteName}</td>
                <td>
                  <span className={`badge agent-${agent.status}`}>
                    {AGENT_STATUS_LABELS[agent.status] ?? agent.status}
                  </span>
                </td>
                <td>
                  <Time value={agent.lastSeenAt} now={now} />
                </td>
                <td>{agent.version ?? '—'}</td>
                <td>{agent.protocolVersion === null ? '—' : `v${agent.protocolVersion}`}</td>
                <td>
                  {agent.outboxDepth === null ? (
                    '—'
                  ) : (
                    <span title="Messages the agent holds that the server has not acknowledged">
                      {agent.outboxDepth}
                    </span>
                  )}
                </td>
                <td>
                  <Link href={`/fleet?site=${agent.siteId}`}>{agent.cameraCount}</Link>
                </td>
                <td>
                  <Time value={agent.enrolledAt} now={now} />
                </td>
                {anyAdmin ? (
                  <td>
                    {adminSites.has(agent.siteId) && agent.status !== 'revoked' ? (
                      <RevokeAgent agent={agent} onRevoked={setAnnouncement} />
                    ) : null}
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

function RevokeAgent({
  agent,
  onRevoked,
}: {
  agent: AgentView;
  onRevoked: (announcement: string) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const confirmRef = useRef<HTMLButtonElement>(null);
  const revokeRef = useRef<HTMLButtonElement>(null);
  const wasConfirming = useRef(false);
  const revoke = useMutation(
    trpc.agents.revoke.mutationOptions({
      onSuccess: async (revoked) => {
        onRevoked(`${revoked.name} is revoked: it was disconnected and cannot reconnect.`);
        await queryClient.invalidateQueries(trpc.agents.list.queryFilter());
      },
    }),
  );
  // The keyboard follows the question: to the confirmation, and back when it is dismissed.
  useEffect(() => {
    if (confirming) confirmRef.current?.focus();
    else if (wasConfirming.current) revokeRef.current?.focus();
    wasConfirming.current = confirming;
  }, [confirming]);
  const questionId = useId();

  if (!confirming) {
    return (
      <button type="button" ref={revokeRef} onClick={() => setConfirming(true)}>
        Revoke <span className="visually-hidden">{agent.name}</span>
      </button>
    );
  }
  return (
    <div role="group" aria-labelledby={questionId} className="confirm">
      <p id={questionId}>
        Revoke {agent.name}? It is disconnected at once, its unfinished commands are cancelled, and
        it needs a new enrollment to come back.
      </p>
      {revoke.isError ? (
        <p role="alert" className="form-error">
          {revoke.error.message}
        </p>
      ) : null}
      <button
        type="button"
        ref={confirmRef}
        className="danger"
        disabled={revoke.isPending}
        onClick={() => revoke.mutate({ agentId: agent.id })}
      >
        {revoke.isPending ? 'Revoking…' : `Revoke ${agent.name}`}
      </button>{' '}
      <button type="button" onClick={() => setConfirming(false)}>
        Cancel
      </button>
    </div>
  );
}

function EnrollSection({
  sites,
  preferredSiteId,
}: {
  sites: { id: string; name: string }[];
  preferredSiteId: string | undefined;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [issued, setIssued] = useState<IssuedToken | null>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const defaultSite = sites.some((site) => site.id === preferredSiteId)
    ? preferredSiteId
    : sites[0]?.id;
  const create = useMutation(
    trpc.agents.createEnrollmentToken.mutationOptions({
      onSuccess: async (token) => {
        setIssued(token);
        await queryClient.invalidateQueries(trpc.agents.pendingTokens.queryFilter());
      },
    }),
  );

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    create.mutate({
      siteId: formText(form, 'siteId'),
      ttl: formText(form, 'ttl') as (typeof TTL_OPTIONS)[number]['value'],
    });
  }

  return (
    <section aria-labelledby="enroll-heading">
      <h2 id="enroll-heading" ref={headingRef} tabIndex={-1}>
        Enroll an agent
      </h2>
      <p>
        An agent runs on a machine on the site&apos;s network and connects out to Custody. Create a
        single-use token for the site, then run the enrollment command on that machine.
      </p>
      {issued ? (
        <IssuedTokenPanel
          issued={issued}
          onDone={() => {
            setIssued(null);
            // The panel and its button are gone: the keyboard goes back to the section.
            headingRef.current?.focus();
          }}
        />
      ) : (
        <form className="stack" onSubmit={onSubmit}>
          {create.isError ? (
            <p role="alert" className="form-error">
              {create.error.message}
            </p>
          ) : null}
          <div className="field">
            <label htmlFor="enroll-site">Site</label>
            <select id="enroll-site" name="siteId" defaultValue={defaultSite}>
              {sites.map((site) => (
                <option key={site.id} value={site.id}>
                  {site.name}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="enroll-ttl">Token expires after</label>
            <select id="enroll-ttl" name="ttl" defaultValue="24h">
              {TTL_OPTIONS.map((option) => (
                <option key={option.value} value={option.value}>
                  {option.label}
                </option>
              ))}
            </select>
          </div>
          <button type="submit" disabled={create.isPending}>
            {create.isPending ? 'Creating…' : 'Create enrollment token'}
          </button>
        </form>
      )}
      <PendingTokens />
    </section>
  );
}

function IssuedTokenPanel({ issued, onDone }: { issued: IssuedToken; onDone: () => void }) {
  const headingRef = useRef<HTMLHeadingElement>(null);
  const [copied, setCopied] = useState<string | null>(null);
  useEffect(() => {
    headingRef.current?.focus();
  }, []);
  const setToken = `read -rs ${issued.tokenEnv} && export ${issued.tokenEnv}`;

  async function copy(text: string, what: string) {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(`${what} copied.`);
    } catch {
      setCopied(`Could not copy; select the ${what.toLowerCase()} and copy it yourself.`);
    }
  }

  return (
    <div className="issued" aria-labelledby="issued-heading" role="region">
      <h3 id="issued-heading" ref={headingRef} tabIndex={-1}>
        Enrollment token for {issued.siteName}
      </h3>
      <p>
        This token is shown only now: Custody keeps a fingerprint of it, not the token. It works
        once and expires{' '}
        <time dateTime={issued.expiresAt.toISOString()}>{formatAbsolute(issued.expiresAt)}</time>.
      </p>
      <div className="field">
        <label htmlFor="issued-token">Token</label>
        <span className="search-row">
          <input
            id="issued-token"
            readOnly
            value={issued.token}
            className="mono"
            onFocus={(event) => event.currentTarget.select()}
          />
          <button type="button" onClick={() => void copy(issued.token, 'Token')}>
            Copy token
          </button>
        </span>
      </div>
      <ol className="steps">
        <li>
          On the agent&apos;s machine, put the token in the environment: run this, paste the token
          (it is not shown) and press Enter. It stays out of the shell history and of the process
          list.
          <pre aria-label="Command that reads the token">
            <code>{setToken}</code>
          </pre>
        </li>
        <li>
          Enroll the agent:
          <pre aria-label="Enrollment command">
            <code>{issued.command}</code>
          </pre>
          <button type="button" onClick={() => void copy(issued.command, 'Command')}>
            Copy command
          </button>
        </li>
        <li>
          Start it with <code>custody-agent run</code> (or its systemd unit). It appears in the list
          above within seconds, and its cameras in the <Link href="/fleet">fleet</Link>.
        </li>
      </ol>
      <p role="status" className="status-ok">
        {copied}
      </p>
      <button type="button" onClick={onDone}>
        Done
      </button>
    </div>
  );
}

function PendingTokens() {
  const trpc = useTRPC();
  const [open, setOpen] = useState(false);
  const tokens = useQuery({ ...trpc.agents.pendingTokens.queryOptions({}), enabled: open });
  return (
    <details onToggle={(event) => setOpen(event.currentTarget.open)}>
      <summary>Unused enrollment tokens</summary>
      {!open ? null : tokens.isPending ? (
        <p role="status">Loading tokens…</p>
      ) : tokens.isError ? (
        <p role="alert" className="form-error">
          {tokens.error.message}
        </p>
      ) : tokens.data.length === 0 ? (
        <p>None: every token was used or has expired.</p>
      ) : (
        <ul>
          {tokens.data.map((token) => (
            <li key={token.id}>
              {token.siteName}: issued {formatAbsolute(token.createdAt)}
              {token.createdByName ? ` by ${token.createdByName}` : ''}, expires{' '}
              {formatAbsolute(token.expiresAt)}
            </li>
          ))}
        </ul>
      )}
    </details>
  );
}
