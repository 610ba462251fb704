import type { Metadata } from 'next';
import { CaseView } from './case-view.tsx';

export const metadata: Metadata = { title: 'Case · Custody' };

interface Props {
  params: Promise<{ id: string }>;
}

export default async function CasePage({ params }: Props) {
  return <CaseView caseId={(await params).id} />;
}
