/** Words for the case page and list; the server sends codes. */

export const PATH_LABELS: Record<string, string> = {
  'credential-cleanup': 'Credential clean-up',
  recommission: 'Recommission',
  blocked: 'Undecided (blocked)',
};

export const ACTOR_LABELS: Record<string, string> = {
  technician: 'a technician',
  'integrator-admin': 'an integrator admin',
  'owner-approver': 'an owner approver',
  auditor: 'an auditor',
  agent: 'the agent',
};

export function actorsText(actors: readonly string[]): string {
  const words = actors.map((actor) => ACTOR_LABELS[actor] ?? actor);
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} or ${words.at(-1) ?? ''}`;
}

export const CHECK_LABELS: Record<string, string> = {
  'serial-at-planned-address': 'Same serial at the planned address',
  'new-credentials-work': 'New credentials work',
  'old-credentials-rejected': 'Old credentials are rejected',
  'snapshot-is-jpeg': 'Snapshot is a real JPEG',
  'rtsp-describe': 'RTSP DESCRIBE with the VMS account',
  'recording-present': 'Recording present',
  'vms-updated': 'Re-added to the VMS',
};

export const OUTCOME_LABELS: Record<string, string> = {
  works: 'works',
  rejected: 'rejected',
  'not-admin': 'works, not an administrator',
  'not-tested': 'not tested',
  'budget-exhausted': 'not tried: attempt budget spent',
};

export const OBSERVATION_LABELS: Record<string, string> = {
  'returned-factory-default': 'came back in factory-default state',
  restarted: 'restarted',
  'came-back-configured': 'came back still configured',
  'still-configured': 'never went away',
  'never-came-back': 'never came back',
  'never-ready': 'never finished starting',
  'factory-default-unconfirmed': 'came back; factory-default state unconfirmed',
  failed: 'failed',
};

export const METHOD_LABELS: Record<string, string> = {
  'software-soft': 'Software factory default (soft)',
  'software-hard': 'Software factory default (hard)',
  'control-button': 'Control-button procedure',
  'soft-restart': 'Soft restart',
};

export function minutes(ms: number): string {
  const value = Math.round(ms / 60_000);
  return value >= 1 ? `${value} min` : `${Math.round(ms / 1000)} s`;
}
