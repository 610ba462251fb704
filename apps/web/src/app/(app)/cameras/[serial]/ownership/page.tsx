import type { Metadata } from 'next';
import { OwnershipView } from './ownership-view.tsx';

interface Props {
  params: Promise<{ serial: string }>;
}

function serialOf(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: `Ownership of ${serialOf((await params).serial)} · Custody` };
}

export default async function OwnershipPage({ params }: Props) {
  return <OwnershipView serial={serialOf((await params).serial)} />;
}
