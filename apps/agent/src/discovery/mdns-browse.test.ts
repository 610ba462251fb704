import type { Service } from 'bonjour-service';
import { describe, expect, it } from 'vitest';
import { sightingFromService } from './mdns-browse.ts';

function service(fields: Partial<Service>): Service {
  return { name: '', port: 80, addresses: [], txt: {}, ...fields } as Service;
}

describe('sightingFromService', () => {
  it('identifies a camera by its TXT macaddress at the address that answered', () => {
    const sighting = sightingFromService(
      service({
        name: 'AXIS M2026-LE Mk II - B8A44F0A98A1',
        addresses: ['169.254.93.22', '10.0.0.7', 'fe80::1'],
        referer: { address: '10.0.0.7', family: 'IPv4', port: 5353, size: 300 },
        txt: { macaddress: 'B8A44F0A98A1' },
      }),
    );
    expect(sighting).toEqual({
      source: 'mdns',
      serial: 'B8A44F0A98A1',
      host: '10.0.0.7',
      port: 80,
      scheme: 'http',
      productName: 'AXIS M2026-LE Mk II',
    });
  });

  it('keeps the link-local address when it is the only one and reads a renamed instance', () => {
    const sighting = sightingFromService(
      service({
        name: 'AXIS P3265-V - B8A44F631339 (2)',
        addresses: ['169.254.1.9'],
        referer: { address: '169.254.1.9', family: 'IPv4', port: 5353, size: 300 },
        txt: { macaddress: 'b8a44f631339' },
      }),
    );
    expect(sighting?.host).toBe('169.254.1.9');
    expect(sighting?.serial).toBe('B8A44F631339');
    expect(sighting?.productName).toBe('AXIS P3265-V');
  });

  it('ignores a service without a usable macaddress, whatever its name says', () => {
    expect(
      sightingFromService(service({ name: 'AXIS D4200-VE', addresses: ['10.0.0.8'] })),
    ).toBeUndefined();
    expect(
      sightingFromService(
        service({ name: 'x', addresses: ['10.0.0.8'], txt: { macaddress: 'zz' } }),
      ),
    ).toBeUndefined();
  });

  it('never takes an address from the records alone: only the one that answered', () => {
    const steered = sightingFromService(
      service({
        name: 'AXIS M2026-LE Mk II - B8A44F0A98A1',
        addresses: ['10.66.0.1'],
        referer: { address: '10.0.0.7', family: 'IPv4', port: 5353, size: 300 },
        txt: { macaddress: 'B8A44F0A98A1' },
      }),
    );
    expect(steered?.host).toBe('10.0.0.7');
    expect(
      sightingFromService(
        service({ addresses: ['10.0.0.8'], txt: { macaddress: 'B8A44F0A98A1' } }),
      ),
    ).toBeUndefined();
  });
});
