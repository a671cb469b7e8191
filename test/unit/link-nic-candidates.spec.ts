import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  parseIpAddrs,
  parseIpLinks,
  parseIpRoutes,
  surveyCommands,
  surveyNics,
  surveyNicsFromOutput,
  type IpLink,
} from '../../src-main/link/nic-candidates.js';

const fx = (name: string) => readFileSync(new URL(`../fixtures/link/${name}`, import.meta.url), 'utf8');
const host = (h: 'a' | 'b', tag = '') => ({ link: fx(`${h}-link${tag}.json`), addr: fx(`${h}-addr${tag}.json`), route: fx(`${h}-route${tag}.json`) });
const codes = (s: ReturnType<typeof surveyNics>) => Object.fromEntries(s.excluded.map((e) => [e.name, e.reasons.map((r) => r.code)]));

describe('NIC candidates (real ip -j output)', () => {
  it('keeps the two unaddressed NICs and says why every other one is out', () => {
    const s = surveyNicsFromOutput(host('a'));
    expect(s.candidates.map((c) => c.name)).toEqual(['eth2', 'eth1']);
    expect(s.candidates[0]).toEqual({
      name: 'eth2',
      mac: '02:11:00:00:00:02',
      kind: 'veth',
      up: false,
      carrier: null,
      mtu: 1500,
      maxMtu: 65535,
      linkLocal: [],
      addrGenMode: 'none',
    });
    expect(codes(s)).toEqual({
      lo: ['loopback', 'has-ipv4', 'has-ipv6'],
      eth0: ['enslaved'],
      br0: ['virtual', 'has-ipv4', 'default-route'],
    });
    expect(s.excluded.find((e) => e.name === 'eth0')!.why).toBe('a port of bridge br0');
    expect(s.excluded.find((e) => e.name === 'br0')!.why).toContain('carries 198.18.99.11/24; carries the default route');
    expect(s.linked).toEqual([]);
  });

  it('after link setup, the link NIC is reported as already linked, not as a candidate', () => {
    const s = surveyNicsFromOutput(host('a', '-linked'));
    expect(s.candidates.map((c) => c.name)).toEqual(['eth1']);
    expect(codes(s).eth2).toEqual(['lockstep-link']);
    expect(s.linked).toEqual([{ name: 'eth2', mac: '02:11:00:00:00:02', address: '10.99.0.1/30' }]);
    // with another link subnet the same address is just an address
    expect(codes(surveyNicsFromOutput(host('a', '-linked'), { linkCidr: '10.98.0.0/30' })).eth2).toEqual(['has-ipv4']);
  });

  it('taps, addressed veths and veths carrying routes are out; kinds can be allowed', () => {
    const out = host('b', '-extras');
    const s = surveyNicsFromOutput(out);
    expect(s.candidates.map((c) => c.name)).toEqual(['eth2']);
    expect(codes(s)).toMatchObject({ tap0: ['virtual'], vx0: ['has-ipv4'], vx1: ['has-routes'], eth1: ['lockstep-link'] });
    expect(s.excluded.find((e) => e.name === 'tap0')!.why).toContain('a tap device');
    expect(s.excluded.find((e) => e.name === 'vx1')!.why).toBe('carries routes (203.0.113.0/24)');
    expect(surveyNicsFromOutput(out, { allowKinds: ['tap'] }).candidates.map((c) => c.name)).toEqual(['eth2', 'tap0']);
    expect(codes(surveyNicsFromOutput(out, { ignore: ['eth2'] })).eth2).toEqual(['user-excluded']);
  });

  it('a NIC under a VLAN or in a bond is out (derived from the real capture)', () => {
    const links = parseIpLinks(fx('a-link.json'));
    const eth1 = links.find((l) => l.ifname === 'eth1')!;
    const vlan: IpLink = { ...eth1, ifindex: 9, ifname: 'eth1.20', link: 'eth1', linkinfo: { info_kind: 'vlan' } };
    const input = { links: [...links, vlan], addrs: parseIpAddrs(fx('a-addr.json')), routes: parseIpRoutes(fx('a-route.json')) };
    const s = surveyNics(input);
    expect(codes(s)['eth1']).toEqual(['carries-upper']);
    expect(codes(s)['eth1.20']).toEqual(['virtual']);
    expect(s.excluded.find((e) => e.name === 'eth1')!.why).toBe('carries vlan eth1.20');

    const bonded = links.map((l) => (l.ifname === 'eth2' ? { ...l, master: 'bond0', linkinfo: { info_kind: 'veth', info_slave_kind: 'bond' } } : l));
    expect(surveyNics({ ...input, links: bonded }).excluded.find((e) => e.name === 'eth2')!.why).toBe('a port of bond bond0');

    const odd = links.map((l) => (l.ifname === 'eth1' ? { ...l, ifname: "e'1" } : l));
    expect(codes(surveyNics({ ...input, links: odd }))["e'1"]).toEqual(['odd-name']);
  });

  it('the default route marks its device even as a multipath next hop', () => {
    const links = parseIpLinks(fx('a-link.json'));
    const routes = [{ dst: 'default', nexthops: [{ dev: 'br0' }, { dev: 'eth1' }] }];
    expect(codes(surveyNics({ links, addrs: [], routes })).eth1).toEqual(['default-route']);
  });

  it('refuses output that is not ip JSON, naming the fix; empty output is an empty list', () => {
    expect(() => parseIpLinks('Object "link" is unknown')).toThrow(
      expect.objectContaining({ code: 'link-bad-ip-output', fix: expect.stringContaining('iproute2') }),
    );
    expect(() => parseIpRoutes('{"dst":"default"}')).toThrow(/not a JSON array/);
    expect(() => parseIpAddrs('[{"ifname":"eth0"}]')).toThrow(/lacks/);
    expect(parseIpRoutes('')).toEqual([]);
  });

  it('reads with three read-only commands', () => {
    expect(surveyCommands()).toEqual({
      link: ['ip', '-j', '-d', 'link', 'show'],
      addr: ['ip', '-j', 'addr', 'show'],
      route: ['ip', '-j', 'route', 'show'],
    });
  });
});
