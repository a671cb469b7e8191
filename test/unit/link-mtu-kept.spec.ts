// A rerun of `link setup` keeps the 1500 that the last finished setup of the same cable chose (jumbo
// frames did not cross, or 1500 was asked), rather than bouncing a replicating link through 9000 again.
import { describe, expect, it } from 'vitest';
import { keptStandardMtu } from '../../src-main/link/address-steps.js';
import { linkEnds, planSubnet } from '../../src-main/link/addressing.js';
import type { LinkSetupParams, LinkStored } from '../../src-main/link/link-record.js';

const cable = { aNic: 'eth2', bNic: 'eth1', aMac: '02:11:00:00:00:02', bMac: '02:12:00:00:00:01' };
const prior = (name: string) => ({ name, up: true, mtu: 1500, ipv6WasDisabled: false, addrGenModeWas: null });
const ends = linkEnds(cable, planSubnet('10.99.0.0/30'), { A: prior('eth2'), B: prior('eth1') });
const params: LinkSetupParams = { a: '198.18.77.11:22', b: '198.18.77.12:22', subnet: '10.99.0.0/30', mtu: 'auto' };
const stored = (mtu: number, over: Partial<LinkStored> = {}): LinkStored =>
  ({
    version: 1,
    hosts: { A: params.a, B: params.b },
    names: { A: 'hostA', B: 'hostB' },
    record: { version: 1, subnet: params.subnet, mtu, ends, persisted: [] },
    status: { notes: [`MTU ${mtu}: 9000-byte frames crossed: something on the path does not take jumbo frames.`] },
    setupAt: Date.UTC(2026, 11, 7, 18, 0, 0),
    ...over,
  }) as unknown as LinkStored;

describe('link MTU on a rerun', () => {
  it('keeps 1500 that the last setup of the same hosts and NICs chose, saying when and why', () => {
    expect(keptStandardMtu(stored(1500), params, ends)).toBe(
      'kept from the setup of 2026-12-07T18:00:00.000Z (9000-byte frames crossed: something on the path does not take jumbo frames)',
    );
  });

  it('tries again when there is no finished setup, another host, another NIC, or the last setup chose 9000', () => {
    expect(keptStandardMtu(undefined, params, ends)).toBeNull();
    expect(keptStandardMtu(stored(9000), params, ends)).toBeNull();
    expect(keptStandardMtu(stored(1500, { hosts: { A: params.a, B: '198.18.77.13:22' } }), params, ends)).toBeNull();
    const other = linkEnds({ ...cable, bNic: 'eth3' }, planSubnet('10.99.0.0/30'), { A: prior('eth2'), B: prior('eth3') });
    expect(keptStandardMtu(stored(1500), params, other)).toBeNull();
  });
});
