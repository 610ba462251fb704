import type { Metadata } from 'next';

export const metadata: Metadata = { title: 'Fleet · Custody' };

export default function FleetPage() {
  return (
    <>
      <h1>Fleet</h1>
      <p>
        The camera inventory is not built yet. Once an agent is enrolled at a site, its cameras will
        be listed here by serial, with their access state and when they were last seen.
      </p>
    </>
  );
}
