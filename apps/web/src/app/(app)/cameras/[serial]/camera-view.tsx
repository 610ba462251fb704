'use client';

import { useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useEffect, useRef, type ReactNode } from 'react';
import type { RouterOutputs } from '~/server/api/root.ts';
import { useTRPC } from '~/trpc/react.tsx';
import { OpenCaseButton } from '../../cases/open-case-button.tsx';
import { AccessBadge } from '../../fleet/fleet-view.tsx';
import { AGENT_STATUS_LABELS, Time, formatAbsolute, useNow } from '../../fleet/format.tsx';
import { LiveStatus, useFleetLive, useThrottled } from '../../fleet/use-fleet-live.tsx';
import { CameraCredentials } from './camera-credentials.tsx';

type Camera = RouterOutputs['cameras']['get'];
type TimelineEntry = Camera['timeline'][number];
type Command = Camera['commands'][number];

const SOURCE_LABELS: Record<string, string> = {
  ssdp: 'SSDP announcement',
  mdns: 'mDNS announcement',
  scan: 'address scan',
  dhcp: 'DHCP',
  'link-local': 'link-local address',
  'default-ip': 'factory default address (192.168.0.90)',
  manual: 'entered by hand',
};

function sourceLabel(source: string | null): string {
  return source === null ? '—' : (SOURCE_LABELS[source] ?? source);
}

export function CameraView({ serial }: { serial: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const now = useNow();
  const camera = useQuery(trpc.cameras.get.queryOptions({ serial }));
  const headingRef = useRef<HTMLHeadingElement>(null);

  const refetch = useThrottled(() => {
    void queryClient.invalidateQueries(trpc.cameras.get.queryFilter({ serial }));
  }, 500);
  const live = useFleetLive(
    { serial, topics: ['cameras', 'agents', 'commands'] },
    {
      onChanges: (changes) => {
        const agentId = camera.data?.agent?.id;
        if (
          changes.cameras.length > 0 ||
          changes.commands.length > 0 ||
          changes.agents.some((agent) => agent.id === agentId)
        ) {
          refetch();
        }
      },
      onResync: refetch,
    },
  );

  // Arriving from the fleet list, the keyboard starts at the camera's name.
  const loaded = camera.isSuccess;
  useEffect(() => {
    if (loaded) headingRef.current?.focus();
  }, [loaded]);

  if (camera.isPending) return <p role="status">Loading camera {serial}…</p>;
  if (camera.isError) {
    const notFound = camera.error.data?.code === 'NOT_FOUND';
    const badSerial = camera.error.data?.code === 'BAD_REQUEST';
    return (
      <>
        <h1>Camera {serial}</h1>
        <p role="alert" className="form-error">
          {notFound
            ? 'No camera with this serial is known at your sites.'
            : badSerial
              ? 'This is not a serial number: it is the camera’s MAC address, 12 hexadecimal digits.'
              : `The camera could not be loaded: ${camera.error.message}`}
        </p>
        <p>
          <Link href="/fleet">Back to the fleet</Link>
        </p>
      </>
    );
  }
  const data = camera.data;
  return (
    <>
      <p>
        <Link href={`/fleet?site=${data.site.id}`}>← Cameras at {data.site.name}</Link>
      </p>
      <h1 ref={headingRef} tabIndex={-1}>
        <span className="mono">{data.serial}</span>
        {data.model ? ` · ${data.model}` : ''}
      </h1>
      <LiveStatus state={live} />
      <OpenCaseButton serial={data.serial} />
      <section aria-labelledby="identity-heading">
        <h2 id="identity-heading">Identity and state</h2>
        <dl className="facts">
          <Fact term="Serial">
            <span className="mono">{data.serial}</span>
          </Fact>
          <Fact term="MAC address">
            <span className="mono">{data.mac ?? '—'}</span>
          </Fact>
          <Fact term="Model">{data.model ?? 'not read yet'}</Fact>
          <Fact term="Product name">{data.productName ?? 'not read yet'}</Fact>
          <Fact term="Firmware">{data.firmware ?? 'not read yet'}</Fact>
          <Fact term="Hardware ID">{data.hardwareId ?? 'not read yet'}</Fact>
          <Fact term="Access state">
            <AccessBadge state={data.accessState} />
          </Fact>
          <Fact term="Current address">
            <span className="mono">{data.address ?? '—'}</span> (learned by{' '}
            {sourceLabel(data.source)})
          </Fact>
          <Fact term="First seen">
            <Time value={data.firstSeenAt} now={now} />
          </Fact>
          <Fact term="Last seen">
            <Time value={data.lastSeenAt} now={now} />
          </Fact>
          <Fact term="Lost">
            {data.lostAt === null ? (
              'No: the agent sees it'
            ) : (
              <>
                Yes: not seen since <Time value={data.lostAt} now={now} />
              </>
            )}
          </Fact>
        </dl>
      </section>
      <section aria-labelledby="custody-heading">
        <h2 id="custody-heading">Site, owner and agent</h2>
        <dl className="facts">
          <Fact term="Site">
            <Link href={`/fleet?site=${data.site.id}`}>{data.site.name}</Link>
          </Fact>
          <Fact term="Site owner">{data.site.ownerName}</Fact>
          <Fact term="Ownership record">
            {data.ownership === null ? (
              'None yet: ownership must be recorded before any reset.'
            ) : (
              <>
                {data.ownership.ownerName}, attested{' '}
                {data.ownership.attestedByName ? `by ${data.ownership.attestedByName} ` : ''}
                <Time value={data.ownership.attestedAt} now={now} />
                {data.ownership.circumstances ? ` (${data.ownership.circumstances})` : ''}
              </>
            )}{' '}
            <Link href={`/cameras/${data.serial}/ownership`}>Ownership records and evidence</Link>
          </Fact>
          <Fact term="Agent">
            {data.agent === null ? (
              '—'
            ) : (
              <>
                <Link href={`/agents?site=${data.site.id}`}>{data.agent.name}</Link>,{' '}
                {(AGENT_STATUS_LABELS[data.agent.status] ?? data.agent.status).toLowerCase()}
                {data.agent.lastSeenAt ? (
                  <>
                    , last contact <Time value={data.agent.lastSeenAt} now={now} />
                  </>
                ) : null}
              </>
            )}
          </Fact>
        </dl>
      </section>
      <CameraCredentials serial={data.serial} />
      <section aria-labelledby="addresses-heading">
        <h2 id="addresses-heading">Address history</h2>
        {data.addresses.length === 0 ? (
          <p>No address recorded.</p>
        ) : (
          <table>
            <caption className="visually-hidden">Addresses the camera was seen at</caption>
            <thead>
              <tr>
                <th scope="col">Address</th>
                <th scope="col">Learned by</th>
                <th scope="col">First seen there</th>
                <th scope="col">Last seen there</th>
              </tr>
            </thead>
            <tbody>
              {data.addresses.map((address) => (
                <tr key={address.address}>
                  <th scope="row" className="mono">
                    {address.address}
                    {address.current ? <span className="badge">current</span> : null}
                  </th>
                  <td>{sourceLabel(address.source)}</td>
                  <td>
                    <Time value={address.firstSeenAt} now={now} />
                  </td>
                  <td>
                    <Time value={address.lastSeenAt} now={now} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section aria-labelledby="timeline-heading">
        <h2 id="timeline-heading">Timeline</h2>
        <p className="muted">
          Newest first. Custody keeps when each address was first and last seen, every command, and
          ownership records; a camera lost and found again shows only its latest loss.
        </p>
        <ol className="timeline">
          {data.timeline.map((entry, index) => (
            <li key={`${entry.kind}-${entry.at.getTime()}-${index}`}>
              <time dateTime={entry.at.toISOString()}>{formatAbsolute(entry.at)}</time>{' '}
              <TimelineText entry={entry} />
            </li>
          ))}
        </ol>
      </section>
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

function commandOutcome(command: Command): string {
  const error = command.error ? `: ${command.error.message || command.error.code}` : '';
  return `${command.verb} ${command.status}${error}`;
}

function TimelineText({ entry }: { entry: TimelineEntry }) {
  switch (entry.kind) {
    case 'discovered':
      return (
        <>
          Discovered at <span className="mono">{entry.address}</span> by {sourceLabel(entry.source)}
          .
        </>
      );
    case 'address':
      return (
        <>
          Seen at a new address, <span className="mono">{entry.address}</span>, by{' '}
          {sourceLabel(entry.source)}.
        </>
      );
    case 'lost':
      return <>The agent stopped seeing it.</>;
    case 'seen-elsewhere':
      return (
        <>
          Also reported by the agent of {entry.siteName}, at{' '}
          <span className="mono">{entry.address}</span>.
        </>
      );
    case 'ownership':
      return (
        <>
          Ownership recorded for {entry.ownerName}
          {entry.attestedByName ? `, attested by ${entry.attestedByName}` : ''}.
        </>
      );
    case 'command-queued':
      return (
        <>
          Command {entry.command.verb} queued
          {entry.command.requestedByName ? ` by ${entry.command.requestedByName}` : ''}.
        </>
      );
    case 'command-finished':
      return <>Command {commandOutcome(entry.command)}.</>;
  }
}
