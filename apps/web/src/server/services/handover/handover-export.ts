import {
  APPROVABLE_ACTION_LABELS,
  OWNERSHIP_CIRCUMSTANCE_LABELS,
  labelOf,
} from '../approvals/approval-labels.ts';
import type { HandoverRecord } from './handover-record.ts';
import { PdfDocument } from './pdf-writer.ts';

export const HANDOVER_FORMATS = ['pdf', 'csv', 'json'] as const;
export type HandoverFormat = (typeof HANDOVER_FORMATS)[number];

export const HANDOVER_MEDIA_TYPES: Record<HandoverFormat, string> = {
  pdf: 'application/pdf',
  csv: 'text/csv; charset=utf-8',
  json: 'application/json; charset=utf-8',
};

function iso(value: Date | null | undefined): string {
  return value ? value.toISOString() : '';
}

/** "admin: root, version 3 (credential 1f2e…, active)": where a credential lives, not what it is. */
export function describeCredential(credential: HandoverRecord['credentials'][number]): string {
  return `${credential.account}: ${credential.username}, version ${credential.version} (credential ${credential.credentialId}, ${credential.status})`;
}

function describeEvidence(record: HandoverRecord): string {
  return (record.owner.record?.evidence ?? [])
    .map((item) =>
      item.document
        ? `${item.kind}: ${item.reference} [${item.document.filename}, sha256 ${item.document.sha256}]`
        : `${item.kind}: ${item.reference}`,
    )
    .join(' | ');
}

function describeApprovals(record: HandoverRecord): string {
  return record.approvals
    .map((approval) => {
      const decisions = approval.decisions
        .map((d) => `${d.decision} by ${d.approver} ${iso(d.decidedAt)} (${d.reason})`)
        .join(', ');
      const grant = approval.grant
        ? `; grant ${approval.grant.id} ${approval.grant.usedAt ? `used ${iso(approval.grant.usedAt)}` : 'unused'}`
        : '';
      return `${approval.verb} ${approval.status}, requested by ${approval.requestedBy} ${iso(approval.requestedAt)}: ${approval.reason}${decisions ? `; ${decisions}` : ''}${grant}`;
    })
    .join(' | ');
}

function describeTimelineEntry(entry: HandoverRecord['timeline'][number]): string {
  return `${iso(entry.at)} ${entry.actor} ${entry.action}${entry.detail ? ` (${entry.detail})` : ''}`;
}

/** The JSON export: the records as they are, dates as ISO strings. */
export function renderHandoverJson(records: HandoverRecord[], scope: 'case' | 'site'): string {
  const body = scope === 'case' ? records[0] : { handovers: records };
  return `${JSON.stringify(body, null, 2)}\n`;
}

const CSV_COLUMNS: [string, (record: HandoverRecord) => string][] = [
  ['case_id', (r) => r.case.id],
  ['case_status', (r) => r.case.status],
  ['case_path', (r) => r.case.path ?? ''],
  ['serial', (r) => r.camera.serial],
  ['mac', (r) => r.camera.mac ?? ''],
  ['model', (r) => r.camera.model ?? ''],
  ['product_name', (r) => r.camera.productName ?? ''],
  ['firmware', (r) => r.camera.firmware ?? ''],
  ['address', (r) => r.camera.address ?? ''],
  ['planned_address', (r) => r.camera.plannedAddress ?? ''],
  ['owner', (r) => r.owner.name],
  ['ownership_circumstance', (r) => r.owner.record?.circumstance ?? ''],
  ['ownership_attested_by', (r) => r.owner.record?.attestedBy ?? ''],
  ['ownership_attested_at', (r) => iso(r.owner.record?.attestedAt)],
  ['ownership_evidence', describeEvidence],
  ['site', (r) => r.site.name],
  ['site_address', (r) => r.site.address],
  ['credentials', (r) => r.credentials.map(describeCredential).join(' | ')],
  ['vms_platform', (r) => r.vms.platform ?? ''],
  ['vms_username', (r) => r.vms.username ?? ''],
  ['vms_confirmed_by', (r) => r.vms.confirmation?.confirmedBy ?? ''],
  ['vms_confirmed_at', (r) => iso(r.vms.confirmation?.confirmedAt)],
  ['verification_passed', (r) => (r.verification ? String(r.verification.passed) : '')],
  ['verification_at', (r) => iso(r.verification?.at)],
  [
    'verification_checks',
    (r) =>
      (r.verification?.checks ?? [])
        .map((c) => `${c.kind}: ${c.outcome}${c.summary ? ` (${c.summary})` : ''}`)
        .join(' | '),
  ],
  ['snapshot_sha256', (r) => r.verification?.snapshot?.sha256 ?? ''],
  ['recording_attestation', (r) => r.verification?.recordingAttestation?.statement ?? ''],
  ['approvals', describeApprovals],
  ['handed_over_by', (r) => r.case.handedOver?.by ?? ''],
  ['handed_over_at', (r) => iso(r.case.handedOver?.at)],
  ['timeline', (r) => r.timeline.map(describeTimelineEntry).join('\n')],
];

/**
 * One cell, quoted. A cell that a spreadsheet would run as a formula (=, +, -, @, tab, CR) gets
 * a leading apostrophe: exports are opened in spreadsheets, and their text comes from users.
 */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return `"${safe.replace(/"/g, '""')}"`;
}

/** The CSV export: one row per case, the timeline as a multi-line cell. RFC 4180, CRLF. */
export function renderHandoverCsv(records: HandoverRecord[]): string {
  const lines = [CSV_COLUMNS.map(([name]) => name).join(',')];
  for (const record of records) {
    lines.push(CSV_COLUMNS.map(([, value]) => csvCell(value(record))).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

function writeRecord(pdf: PdfDocument, record: HandoverRecord): void {
  pdf.title(`Handover: ${record.camera.model ?? 'camera'} ${record.camera.serial}`);
  pdf.paragraph(
    `Case ${record.case.id}, ${record.case.status}. Generated ${iso(record.generatedAt)} by Custody.`,
    { size: 9 },
  );

  pdf.heading('Camera');
  pdf.field('Model', [record.camera.model, record.camera.productName].filter(Boolean).join(' · '));
  pdf.field('Serial', record.camera.serial);
  pdf.field('MAC address', record.camera.mac ?? '');
  pdf.field('Firmware', record.camera.firmware ?? '');
  pdf.field('Address', record.camera.address ?? '');
  pdf.field('Planned address', record.camera.plannedAddress ?? '');

  pdf.heading('Owner and site');
  pdf.field('Owner', record.owner.name);
  pdf.field('Site', `${record.site.name}${record.site.address ? `, ${record.site.address}` : ''}`);
  const ownership = record.owner.record;
  if (ownership) {
    pdf.field('Circumstance', labelOf(OWNERSHIP_CIRCUMSTANCE_LABELS, ownership.circumstance));
    pdf.field('Attested', `by ${ownership.attestedBy}, ${iso(ownership.attestedAt)}`);
    for (const item of ownership.evidence) {
      pdf.field(
        `Evidence (${item.kind})`,
        item.document
          ? `${item.reference}; ${item.document.filename}, sha256 ${item.document.sha256}`
          : item.reference,
      );
    }
  } else {
    pdf.field('Ownership record', 'None');
  }

  pdf.heading('Credentials (references only; passwords stay in the Custody vault)');
  if (record.credentials.length === 0) pdf.paragraph('No credential recorded.');
  for (const credential of record.credentials) {
    pdf.field(
      credential.account,
      `${credential.username}, version ${credential.version}, ${credential.status}; credential ${credential.credentialId}`,
    );
  }

  pdf.heading('Video management system');
  pdf.field('Platform', record.vms.platform ?? '');
  pdf.field('VMS account', record.vms.username ?? '');
  pdf.field(
    'Re-added',
    record.vms.confirmation
      ? `confirmed by ${record.vms.confirmation.confirmedBy}, ${iso(record.vms.confirmation.confirmedAt)}${record.vms.confirmation.note ? ` (${record.vms.confirmation.note})` : ''}`
      : 'not confirmed',
  );

  pdf.heading('Verification');
  if (record.verification) {
    pdf.field(
      'Result',
      `${record.verification.passed ? 'passed' : 'failed'}, ${iso(record.verification.at)}`,
    );
    for (const check of record.verification.checks) {
      pdf.field(check.kind, `${check.outcome}${check.summary ? `: ${check.summary}` : ''}`);
    }
    if (record.verification.snapshot) {
      pdf.field(
        'Snapshot',
        `JPEG, ${record.verification.snapshot.sizeBytes} bytes, sha256 ${record.verification.snapshot.sha256}`,
      );
    }
    if (record.verification.recordingAttestation) {
      const attestation = record.verification.recordingAttestation;
      pdf.field(
        'Recording',
        `${attestation.statement} (${attestation.attestedBy}, ${iso(attestation.attestedAt)})`,
      );
    }
  } else {
    pdf.paragraph('Not verified.');
  }

  pdf.heading('Approvals');
  if (record.approvals.length === 0) pdf.paragraph('No approval was needed or requested.');
  for (const approval of record.approvals) {
    pdf.field(
      labelOf(APPROVABLE_ACTION_LABELS, approval.verb),
      `${approval.status}; requested by ${approval.requestedBy}, ${iso(approval.requestedAt)}: ${approval.reason}`,
    );
    for (const decision of approval.decisions) {
      pdf.field(
        '',
        `${decision.decision} by ${decision.approver}, ${iso(decision.decidedAt)}: ${decision.reason}`,
      );
    }
    if (approval.grant) {
      pdf.field(
        '',
        `grant ${approval.grant.id}, ${approval.grant.usedAt ? `used ${iso(approval.grant.usedAt)}` : 'not used'}`,
      );
    }
  }

  pdf.heading('Handover');
  pdf.field(
    'Confirmed',
    record.case.handedOver
      ? `by ${record.case.handedOver.by}, ${iso(record.case.handedOver.at)}`
      : 'not yet confirmed',
  );

  pdf.heading('Timeline (audit log)');
  for (const entry of record.timeline) {
    pdf.paragraph(describeTimelineEntry(entry), { size: 8 });
  }
}

/** The PDF export: one case per section, each starting on a new page. */
export function renderHandoverPdf(records: HandoverRecord[], title: string): Uint8Array {
  const pdf = new PdfDocument({ title, footer: title });
  records.forEach((record, index) => {
    if (index > 0) pdf.newPage();
    writeRecord(pdf, record);
  });
  if (records.length === 0) pdf.paragraph('No verified or documented case at this site yet.');
  return pdf.toBytes();
}
