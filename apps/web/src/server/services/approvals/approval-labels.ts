/*
 * Words for the approval and ownership vocabularies, shared by the pages and the exports. Pure
 * data: safe to import from client components.
 */

export const APPROVABLE_ACTION_LABELS: Readonly<Record<string, string>> = {
  'factory-default-soft': 'Software factory default (soft: keeps network settings)',
  'factory-default-hard': 'Software factory default (hard: everything, including the IP address)',
  'guided-button-reset': 'Guided control-button reset on site',
};

export const OWNERSHIP_CIRCUMSTANCE_LABELS: Readonly<Record<string, string>> = {
  'original-purchase': 'Original purchase',
  'inherited-from-another-installer': 'Inherited from another installer',
  'acquired-with-premises': 'Acquired with the premises',
  other: 'Other',
};

export const EVIDENCE_KIND_LABELS: Readonly<Record<string, string>> = {
  'order-number': 'Order number',
  invoice: 'Invoice',
  document: 'Document',
  other: 'Other',
};

export const APPROVAL_STATUS_LABELS: Readonly<Record<string, string>> = {
  pending: 'Waiting for a decision',
  approved: 'Approved',
  denied: 'Denied',
  expired: 'Expired',
  withdrawn: 'Withdrawn',
};

export function labelOf(labels: Readonly<Record<string, string>>, value: string): string {
  return labels[value] ?? value;
}
