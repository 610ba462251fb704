import { redirect } from 'next/navigation';

/** Cameras are listed in the fleet inventory; /cameras/<serial> shows one. */
export default function CamerasPage(): never {
  redirect('/fleet');
}
