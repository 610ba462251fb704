import type { Metadata } from 'next';
import { RotationJobView } from './rotation-job-view.tsx';

export const metadata: Metadata = { title: 'Rotation · Custody' };

interface Props {
  params: Promise<{ id: string }>;
}

export default async function RotationJobPage({ params }: Props) {
  return <RotationJobView jobId={(await params).id} />;
}
