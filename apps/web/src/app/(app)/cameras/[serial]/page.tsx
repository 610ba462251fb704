import type { Metadata } from 'next';
import { CameraView } from './camera-view.tsx';

interface Props {
  params: Promise<{ serial: string }>;
}

/** The segment as typed: a serial may arrive still percent-encoded (AC%3ACC%3A8E…). */
function serialOf(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: `Camera ${serialOf((await params).serial)} · Custody` };
}

export default async function CameraPage({ params }: Props) {
  return <CameraView serial={serialOf((await params).serial)} />;
}
