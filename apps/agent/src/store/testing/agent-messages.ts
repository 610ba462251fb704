import { randomUUID } from 'node:crypto';
import type { AgentMessage, CameraSighting } from '@custody/core';

const SENT_AT = '2025-01-01T00:00:00.000Z';

/** A command-progress message whose text is padded to roughly `size` bytes of JSON. */
export function progressMessage(label: string, size = 300): AgentMessage {
  const base = {
    v: 1,
    id: randomUUID(),
    type: 'command-progress' as const,
    sentAt: SENT_AT,
    commandId: randomUUID(),
    step: 'step',
  };
  const overhead = JSON.stringify({ ...base, message: label }).length;
  return { ...base, message: label + '.'.repeat(Math.max(0, size - overhead)) };
}

/** A command-result message padded to roughly `size` bytes of JSON. */
export function resultMessage(size = 250): AgentMessage {
  const base = {
    v: 1,
    id: randomUUID(),
    type: 'command-result' as const,
    sentAt: SENT_AT,
    commandId: randomUUID(),
    outcome: 'succeeded' as const,
    error: null,
    replayed: false,
  };
  const overhead = JSON.stringify({ ...base, result: { note: '' } }).length;
  return { ...base, result: { note: '.'.repeat(Math.max(0, size - overhead)) } };
}

export function sighting(index: number): CameraSighting {
  const serial = `ACCC8E${index.toString(16).toUpperCase().padStart(6, '0')}`;
  return {
    serial,
    url: `http://10.0.${Math.floor(index / 250) % 250}.${(index % 250) + 1}`,
    address: `10.0.${Math.floor(index / 250) % 250}.${(index % 250) + 1}`,
    source: 'ssdp',
    model: 'M3086-V',
    productName: 'AXIS M3086-V Dome Camera',
    firmware: '11.11.73',
    hardwareId: '9A2',
    mac: null,
    accessState: null,
    seenAt: SENT_AT,
  };
}

export function deltaMessage(cameras = 1): AgentMessage {
  return {
    v: 1,
    id: randomUUID(),
    type: 'inventory-delta',
    sentAt: SENT_AT,
    upserts: Array.from({ length: cameras }, (_, index) => sighting(index)),
    lost: [],
  };
}

export function snapshotMessage(
  snapshotId: string,
  part: number,
  parts: number,
  cameras = 1,
): AgentMessage {
  return {
    v: 1,
    id: randomUUID(),
    type: 'inventory-snapshot',
    sentAt: SENT_AT,
    snapshotId,
    part,
    parts,
    cameras: Array.from({ length: cameras }, (_, index) => sighting(index)),
  };
}

export function discoveryMessage(): AgentMessage {
  return {
    v: 1,
    id: randomUUID(),
    type: 'discovery-event',
    sentAt: SENT_AT,
    event: 'appeared',
    serial: 'ACCC8E000001',
    url: 'http://10.0.0.1',
    previousUrl: null,
    via: 'ssdp',
  };
}
