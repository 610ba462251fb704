import type { Metadata } from 'next';

export const metadata: Metadata = { title: 'Agents · Custody' };

export default function AgentsPage() {
  return (
    <>
      <h1>Agents</h1>
      <p>
        Agent enrollment is not built yet. Each site will run one agent on its network; this page
        will issue enrollment tokens and show each agent&apos;s status, version and last contact.
      </p>
    </>
  );
}
