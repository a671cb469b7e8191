import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  applyCommands,
  assertSubnetFree,
  decideMtu,
  dfProbeArgv,
  endApplied,
  jumboEligible,
  linkEnds,
  parseDfProbe,
  planSubnet,
  subnetConflicts,
  suggestFreeSubnet,
  undoCommands,
} from '../../src-main/link/addressing.js';
import { tolerated } from '../../src-main/hosts/command.js';
import { cidrsOverlap, parseCidr } from '../../src-main/net/ipv4.js';
import { parseIpAddrs, parseIpLinks, parseIpRoutes, surveyNicsFromOutput } from '../../src-main/link/nic-candidates.js';

const fx = (name: string) => readFileSync(new URL(`../fixtures/link/${name}`, import.meta.url), 'utf8');
const routes = (tag = '') => ({ A: parseIpRoutes(fx(`a-route${tag}.json`)), B: parseIpRoutes(fx(`b-route${tag}.json`)) });
const argvs = (cs: { side: string; argv: string[] }[]) => cs.map((c) => `${c.side}: ${c.argv.join(' ')}`);
const cable = { aNic: 'eth2', bNic: 'eth1', aMac: '02:11:00:00:00:02', bMac: '02:12:00:00:00:01' };
const priors = {
  A: { name: 'eth2', up: false, mtu: 1500, ipv6WasDisabled: false, addrGenModeWas: 'none' },
  B: { name: 'eth1', up: false, mtu: 1500, ipv6WasDisabled: false, addrGenModeWas: null },
};

describe('link subnet', () => {
  it('defaults to 10.99.0.0/30: A .1, B .2', () => {
    expect(planSubnet()).toEqual({ cidr: '10.99.0.0/30', prefixlen: 30, a: '10.99.0.1', b: '10.99.0.2', broadcast: '10.99.0.3' });
    expect(planSubnet(' 10.99.0.4 ')).toMatchObject({ cidr: '10.99.0.4/30', a: '10.99.0.5', b: '10.99.0.6' });
  });

  it('refuses what is not a usable /30, saying what to write instead', () => {
    expect(() => planSubnet('10.99.0.1/30')).toThrow(
      expect.objectContaining({ code: 'link-bad-subnet', fix: 'Use 10.99.0.0/30 (host 10.99.0.1 ⇄ 10.99.0.2).' }),
    );
    expect(() => planSubnet('10.99.0.0/24')).toThrow(expect.objectContaining({ fix: 'Use 10.99.0.0/30.' }));
    expect(() => planSubnet('10.99.0.256/30')).toThrow(/not an IPv4 network/);
    expect(() => planSubnet('127.0.0.0/30')).toThrow(/loopback/);
    expect(() => planSubnet('169.254.1.0/30')).toThrow(/link-local/);
    expect(() => planSubnet('224.0.0.0/30')).toThrow(/multicast/);
    expect(planSubnet('8.8.8.0/30').warning).toMatch(/public address space/);
    expect(planSubnet('172.31.255.0/30').warning).toBeUndefined();
  });

  it('refuses a subnet that overlaps a route on either host (real routes), with a free /30', () => {
    expect(subnetConflicts(planSubnet(), routes())).toEqual([]);
    const lan = planSubnet('198.18.99.8/30');
    expect(subnetConflicts(lan, routes())).toEqual([
      { side: 'A', route: '198.18.99.0/24 dev br0' },
      { side: 'B', route: '198.18.99.0/24 dev br0' },
    ]);
    expect(() => assertSubnetFree(lan, routes(), { names: { A: 'lsk-a', B: 'lsk-b' } })).toThrow(
      expect.objectContaining({
        code: 'link-subnet-overlap',
        message: 'The link subnet 198.18.99.8/30 overlaps 198.18.99.0/24 dev br0 on lsk-a, 198.18.99.0/24 dev br0 on lsk-b.',
        fix: expect.stringContaining('10.99.0.0/30'),
      }),
    );
  });

  it('a rerun is no conflict with the link itself, but another NIC carrying it is', () => {
    expect(subnetConflicts(planSubnet(), routes('-linked'), { A: 'eth2', B: 'eth1' })).toEqual([]);
    expect(subnetConflicts(planSubnet(), routes('-linked')).map((c) => c.route)).toEqual(['10.99.0.0/30 dev eth2', '10.99.0.0/30 dev eth1']);
    // table all: local/broadcast entries of the link's own addresses, IPv6 and multicast are no conflict either
    const all = { A: parseIpRoutes(fx('a-route-all-linked.json')), B: [] };
    expect(subnetConflicts(planSubnet(), all, { A: 'eth2' })).toEqual([]);
    expect(subnetConflicts(planSubnet(), all).map((c) => c.route)).toEqual([
      '10.99.0.0/30 dev eth2',
      'local 10.99.0.1 dev eth2 table local',
      'broadcast 10.99.0.3 dev eth2 table local',
    ]);
  });

  it('suggests the next free /30: near the one asked for, else in 10.99.0.0/16', () => {
    const busy = { A: [...routes().A, { dst: '10.99.0.0/24', dev: 'eth9' }], B: routes().B };
    expect(suggestFreeSubnet(busy)).toBe('10.99.1.0/30');
    expect(suggestFreeSubnet(routes(), '198.18.99.8/30')).toBe('10.99.0.0/30');
    expect(suggestFreeSubnet({ A: [{ dst: '10.99.0.0/30', dev: 'x' }], B: [] }, '10.99.0.0/30')).toBe('10.99.0.4/30');
    const full = { A: [{ dst: '10.0.0.0/8' }, { dst: '172.16.0.0/12' }, { dst: '192.168.0.0/16' }], B: [] };
    expect(suggestFreeSubnet(full)).toBeNull();
  });

  it('CIDR arithmetic', () => {
    const c = (s: string) => parseCidr(s)!;
    expect(cidrsOverlap(c('10.99.0.0/30'), c('10.99.0.4/30'))).toBe(false);
    expect(cidrsOverlap(c('10.99.0.0/30'), c('10.99.0.3'))).toBe(true);
    expect(cidrsOverlap(c('10.99.0.0/30'), c('10.0.0.0/8'))).toBe(true);
    expect(cidrsOverlap(c('255.255.255.252/30'), c('255.255.255.255'))).toBe(true);
    expect(parseCidr('10.99.0.0/33')).toBeNull();
    expect(parseCidr('010.99.0.0/30')).toBeNull();
  });
});

describe('link MTU', () => {
  it('tries 9000 only when both NICs accept it (max_mtu from ip -d link)', () => {
    const a = surveyNicsFromOutput({ link: fx('a-link.json'), addr: fx('a-addr.json'), route: fx('a-route.json') }).candidates[0]!;
    const b = surveyNicsFromOutput({ link: fx('b-link.json'), addr: fx('b-addr.json'), route: fx('b-route.json') }).candidates[0]!;
    expect(jumboEligible(a, b)).toEqual({ eligible: true, why: 'both NICs accept 9000 (max 65535 / 65535)' });
    expect(jumboEligible(a, { name: 'enp3s0', maxMtu: 1500 })).toEqual({ eligible: false, why: 'enp3s0 accepts at most 1500' });
    expect(jumboEligible({ name: 'eth1', maxMtu: null }, b).why).toBe('eth1 does not report its largest MTU');
  });

  it('reads the real don’t-fragment probes', () => {
    expect(dfProbeArgv('10.99.0.2')).toEqual(['ping', '-n', '-M', 'do', '-s', '8972', '-c', '2', '-W', '1', '10.99.0.2']);
    expect(parseDfProbe(fx('df-9000.txt'))).toEqual({ ok: true, transmitted: 2, received: 2 });
    expect(parseDfProbe(fx('df-local-1500.stdout') + fx('df-local-1500.stderr'))).toEqual({
      ok: false,
      transmitted: 2,
      received: 0,
      error: 'local error: message too long, mtu=1500',
    });
    expect(parseDfProbe(fx('df-peer-1500.stdout') + fx('df-peer-1500.stderr'))).toMatchObject({ ok: false, error: 'sendmsg: No buffer space available' });
  });

  it('9000 when eligible and the probe went through, else 1500 with the reason', () => {
    const yes = { eligible: true, why: 'both NICs accept 9000 (max 9216 / 9000)' };
    expect(decideMtu(yes, parseDfProbe(fx('df-9000.txt')))).toEqual({
      mtu: 9000,
      why: 'both NICs accept 9000 (max 9216 / 9000), and 2/2 9000-byte frames crossed unfragmented',
    });
    expect(decideMtu(yes, parseDfProbe(fx('df-peer-1500.stdout') + fx('df-peer-1500.stderr')))).toEqual({
      mtu: 1500,
      why: '0/2 9000-byte frames crossed (sendmsg: No buffer space available): something on the path does not take jumbo frames',
    });
    expect(decideMtu({ eligible: false, why: 'eth1 accepts at most 1500' }, null)).toEqual({ mtu: 1500, why: 'eth1 accepts at most 1500' });
    expect(decideMtu(yes, null).mtu).toBe(1500);
  });
});

describe('applying and undoing the addressing', () => {
  const ends = linkEnds(cable, planSubnet(), priors);

  it('replace / mtu / up, on each end', () => {
    expect(argvs(ends.flatMap((e) => applyCommands(e, 9000)))).toEqual([
      'A: ip addr replace 10.99.0.1/30 dev eth2',
      'A: ip link set dev eth2 mtu 9000',
      'A: ip link set dev eth2 up',
      'B: ip addr replace 10.99.0.2/30 dev eth1',
      'B: ip link set dev eth1 mtu 9000',
      'B: ip link set dev eth1 up',
    ]);
  });

  it('undo puts back exactly the prior state, and tolerates running twice', () => {
    const undo = ends.flatMap(undoCommands);
    expect(argvs(undo)).toEqual([
      'A: ip addr del 10.99.0.1/30 dev eth2',
      'A: ip link set dev eth2 mtu 1500',
      'A: ip link set dev eth2 addrgenmode none',
      'A: ip -6 addr flush dev eth2 scope link',
      'A: ip link set dev eth2 down',
      'B: ip addr del 10.99.0.2/30 dev eth1',
      'B: ip link set dev eth1 mtu 1500',
      'B: ip link set dev eth1 down',
    ]);
    // the real stderr of the second `ip addr del`, and of a NIC that is gone
    expect(tolerated(undo[0]!, 'Error: ipv4: Address not found.\n')).toBe(true);
    expect(tolerated(undo[1]!, 'Cannot find device "eth2"\n')).toBe(true);
    expect(tolerated(undo[1]!, 'Error: mtu greater than device maximum.\n')).toBe(false);
    const upBefore = linkEnds(cable, planSubnet(), { ...priors, B: { ...priors.B, up: true, mtu: 9000 } });
    expect(argvs(undoCommands(upBefore[1]))).toEqual(['B: ip addr del 10.99.0.2/30 dev eth1', 'B: ip link set dev eth1 mtu 9000']);
  });

  it('knows from real output whether an end is already applied (idempotent rerun)', () => {
    const state = (h: 'a' | 'b', tag: string) => ({ links: parseIpLinks(fx(`${h}-link${tag}.json`)), addrs: parseIpAddrs(fx(`${h}-addr${tag}.json`)) });
    expect(endApplied(ends[0], 9000, state('a', '-linked'))).toBe(true);
    expect(endApplied(ends[1], 9000, state('b', '-linked'))).toBe(true);
    expect(endApplied(ends[0], 1500, state('a', '-linked'))).toBe(false);
    expect(endApplied(ends[0], 9000, state('a', ''))).toBe(false);
  });
});
