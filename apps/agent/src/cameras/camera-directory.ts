import type { CameraSighting } from '@custody/core';

/**
 * What the inventory knows about where cameras are, for the command verbs: the last URL per
 * serial, and a feed of fresh sightings (discovery answers and probes) for verbs that wait for a
 * camera to come back, such as watch-for-device.
 */
export interface CameraDirectory {
  urlOf(serial: string): string | undefined;
  /** Called for every sighting, including repeats; returns a function that unsubscribes. */
  onSighting(listener: (sighting: CameraSighting) => void): () => void;
  /**
   * Asks for a discovery round now, for a verb waiting for a camera to come back. Rate-limited:
   * it joins a round in progress and starts none sooner than a few seconds after the last one.
   * Never rejects.
   */
  discoverNow(): Promise<void>;
}
