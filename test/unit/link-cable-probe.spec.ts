import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  describeCable,
  ipv6Enable,
  ipv6Restore,
  linkLocalCheckArgv,
  matchCable,
  matchPairTrials,
  neighbourArgv,
  pairTrialPlan,
  parseIpv6Disabled,
  parseLinkLocalState,
  parseNeighbours,
  parsePing6Responders,
  priorStateOf,
  probeArgv,
  probePrepareCommands,
  probeRestoreCommands,
  type ProbeNic,
} from '../../src-main/link/cable-probe.js';
import { tolerated } from '../../src-main/hosts/command.js';
import { surveyNicsFromOutput } from '../../src-main/link/nic-candidates.js';

const fx = (name: string) => readFileSync(new URL(`../fixtures/link/${name}`, import.meta.url), 'utf8');
const hosts = (tag: string) => JSON.parse(fx(`${tag}-hosts.json`)) as { A: ProbeNic[]; B: ProbeNic[] };
const observations = (tag: string, nics: string[]) => nics.map((n) => ({ aNic: n, ping: fx(`${tag}-ping6-${n}.txt`), neigh: fx(`${tag}-neigh6-${n}.json`) }));
const names = { A: 'lsk-a', B: 'lsk-b' };
const argvs = (cs: { side: string; argv: string[] }[]) => cs.map((c) => `${c.side}: ${c.argv.join(' ')}`);

describe('cable probe: getting every candidate a link-local address', () => {
  const a = surveyNicsFromOutput({ link: fx('a-link.json'), addr: fx('a-addr.json'), route: fx('a-route.json') });

  it('brings down candidates up and flushes their neighbour caches', () => {
    expect(argvs(probePrepareCommands('A', a.candidates))).toEqual([
      'A: ip link set dev eth2 up',
      'A: ip -6 neigh flush dev eth2',
      'A: ip link set dev eth1 up',
      'A: ip -6 neigh flush dev eth1',
    ]);
    expect(linkLocalCheckArgv('eth2')).toEqual(['ip', '-j', 'addr', 'show', 'dev', 'eth2']);
  });

  it('reads every state the kernel went through, from real output', () => {
    expect(parseLinkLocalState(fx('a-ll-eth2-no-carrier.json'))).toEqual({ state: 'no-carrier' });
    expect(parseLinkLocalState(fx('a-ll-eth2-addrgenmode-none.json'))).toEqual({ state: 'none' });
    expect(parseLinkLocalState(fx('b-ll-eth2-ipv6-disabled.json'))).toEqual({ state: 'none' });
    expect(parseLinkLocalState(fx('a-ll-eth2-tentative.json'))).toEqual({ state: 'tentative' });
    expect(parseLinkLocalState(fx('a-ll-eth2-ready.json'))).toEqual({ state: 'ready', addresses: ['fe80::11:ff:fe00:2'] });
    expect(parseLinkLocalState('[]')).toEqual({ state: 'none' });
    // why waiting matters: the same probe while the address was tentative heard nobody
    expect(parsePing6Responders(fx('tentative-ping6-eth2.txt'))).toEqual([]);
  });

  it('IPv6 disabled on a NIC: enabled with sysctl for the probe, disabled again after', () => {
    expect(parseIpv6Disabled({ code: 0, stdout: fx('b-eth2-disable_ipv6.txt') })).toBe('disabled');
    expect(parseIpv6Disabled({ code: 0, stdout: fx('a-eth1-disable_ipv6.txt') })).toBe('enabled');
    expect(parseIpv6Disabled({ code: 1, stdout: '' })).toBe('unavailable');

    const en = ipv6Enable('B', 'eth2', { ipv6: 'disabled', addrGenMode: 'eui64' });
    expect(argvs(en.apply)).toEqual(['B: sysctl -w net.ipv6.conf.eth2.disable_ipv6=0']);
    expect(en.prior).toEqual({ ipv6WasDisabled: true, addrGenModeWas: null });
    const prior = { ...priorStateOf(a.candidates[1]!), name: 'eth2', ...en.prior };
    expect(argvs(ipv6Restore('B', prior))).toEqual(['B: sysctl -w net.ipv6.conf.eth2.disable_ipv6=1']);
    // a dot in the name would read as a separator in the dotted form
    expect(ipv6Enable('A', 'eth0.20', { ipv6: 'disabled', addrGenMode: null }).apply[0]!.argv).toEqual([
      'sysctl',
      '-w',
      'net/ipv6/conf/eth0.20/disable_ipv6=0',
    ]);
  });

  it('addrgenmode none (as NetworkManager leaves a NIC): eui64 for the probe, then back', () => {
    const en = ipv6Enable('A', 'eth2', { ipv6: 'enabled', addrGenMode: a.candidates[0]!.addrGenMode });
    expect(argvs(en.apply)).toEqual(['A: ip link set dev eth2 addrgenmode eui64', 'A: ip link set dev eth2 down', 'A: ip link set dev eth2 up']);
    expect(argvs(ipv6Restore('A', { ...priorStateOf(a.candidates[0]!), ...en.prior }))).toEqual([
      'A: ip link set dev eth2 addrgenmode none',
      'A: ip -6 addr flush dev eth2 scope link',
    ]);
  });

  it('no IPv6 in the kernel at all: refused with the fallback named', () => {
    expect(() => ipv6Enable('A', 'eth1', { ipv6: 'unavailable', addrGenMode: null }, 'lsk-a')).toThrow(
      expect.objectContaining({ code: 'link-no-ipv6', host: 'lsk-a', fix: expect.stringContaining('pair by pair with IPv4') }),
    );
  });
});

describe('cable probe: the match', () => {
  it('parses who answered the all-nodes ping and the usable neighbours', () => {
    expect(probeArgv('eth2')).toEqual(['ping', '-6', '-n', '-c', '2', '-W', '1', 'ff02::1%eth2']);
    expect(neighbourArgv('eth2')).toEqual(['ip', '-j', '-6', 'neigh', 'show', 'dev', 'eth2']);
    expect(parsePing6Responders(fx('probe-ping6-eth2.txt'))).toEqual(['fe80::11:ff:fe00:2', 'fe80::12:ff:fe00:1']);
    expect(parseNeighbours(fx('probe-neigh6-eth2.json'))).toEqual([{ address: 'fe80::12:ff:fe00:1', mac: '02:12:00:00:00:01' }]);
    // INCOMPLETE, FAILED and NOARP (multicast) entries are no evidence
    expect(parseNeighbours(fx('neigh6-incomplete.json')).map((n) => n.address)).toEqual(['fe80::4b6:34ff:feb0:5dbf']);
    expect(parseNeighbours(fx('neigh6-nud-all.json'))).toEqual([]);
    expect(parsePing6Responders('64 bytes from fe80::12:ff:fe00:1%eth1: seq=0 ttl=64 time=0.1 ms')).toEqual(['fe80::12:ff:fe00:1']);
  });

  it('finds the cable and ignores the decoy (whose far end answers with an unknown MAC)', () => {
    const h = hosts('probe');
    const r = matchCable(h.A, h.B, observations('probe', ['eth2', 'eth1']), names);
    expect(r.match).toEqual({ aNic: 'eth2', bNic: 'eth1', aMac: '02:11:00:00:00:02', bMac: '02:12:00:00:00:01', evidence: ['neighbour', 'ping'] });
    expect(describeCable(r.match, names)).toBe('lsk-a eth2 (02:11:00:00:00:02) ⇄ lsk-b eth1 (02:12:00:00:00:01)');
    expect(r.notes[0]).toBe('eth2: 02:12:00:00:00:01 = lsk-b eth1');
    expect(r.notes[1]).toMatch(/^eth1: [0-9a-f:]{17} \(not a candidate on lsk-b, ignored\)$/);
  });

  it('still finds it when the neighbour table stays empty (the peer knew our MAC already)', () => {
    const h = hosts('probe');
    // the probe run from B: B's candidates ping, A's are the far side
    const r = matchCable(h.B, h.A, [{ aNic: 'eth1', ping: fx('warmcache-ping6-eth1.txt'), neigh: fx('warmcache-neigh6-eth1.json') }]);
    expect(parseNeighbours(fx('warmcache-neigh6-eth1.json'))).toEqual([]);
    expect(r.match).toMatchObject({ aNic: 'eth1', bNic: 'eth2', evidence: ['ping'] });
  });

  it('the neighbour MAC alone is evidence too (far link-local address unknown)', () => {
    const h = hosts('probe');
    const b = h.B.map((n) => ({ ...n, linkLocal: [] }));
    expect(matchCable(h.A, b, observations('probe', ['eth2', 'eth1'])).match).toMatchObject({ bNic: 'eth1', evidence: ['neighbour'] });
  });

  it('two paths between the hosts: refused, naming both pairs', () => {
    const h = hosts('ambiguous');
    expect(() => matchCable(h.A, h.B, observations('ambiguous', ['eth2', 'eth1']), names)).toThrow(
      expect.objectContaining({
        code: 'link-cable-ambiguous',
        message: expect.stringContaining('lsk-a eth2 ⇄ lsk-b eth1, lsk-a eth1 ⇄ lsk-b eth2'),
        fix: expect.stringContaining('exactly one cable'),
      }),
    );
  });

  it('no cable: refused, with what each NIC heard and the fix', () => {
    const h = hosts('nocable');
    expect(() => matchCable(h.A, h.B, observations('nocable', ['eth2', 'eth1']), names)).toThrow(
      expect.objectContaining({
        code: 'link-cable-not-found',
        causeText: expect.stringMatching(/^eth2: nobody answered \(no carrier.*\); eth1: [0-9a-f:]{17} \(not a candidate on lsk-b, ignored\)$/),
        fix: expect.stringContaining('LOWER_UP'),
      }),
    );
  });

  it('afterwards every other candidate goes back to how it was', () => {
    const priors = [
      { name: 'eth2', up: false, mtu: 1500, ipv6WasDisabled: false, addrGenModeWas: 'none' },
      { name: 'eth1', up: false, mtu: 1500, ipv6WasDisabled: true, addrGenModeWas: null },
      { name: 'eth3', up: true, mtu: 1500, ipv6WasDisabled: false, addrGenModeWas: null },
    ];
    const cmds = probeRestoreCommands('B', priors, 'eth2');
    expect(argvs(cmds)).toEqual(['B: sysctl -w net.ipv6.conf.eth1.disable_ipv6=1', 'B: ip link set dev eth1 down']);
    expect(tolerated(cmds[1]!, 'Cannot find device "eth1"')).toBe(true);
  });
});

describe('cable probe without IPv6: pair by pair with the link /30', () => {
  const subnet = { a: '10.99.0.1', b: '10.99.0.2', prefixlen: 30 };
  it('plans every pair: address both ends, ping through the A NIC, remove', () => {
    const t = pairTrialPlan(['eth1', 'eth2'], ['eth1', 'eth2'], subnet);
    expect(t.map((x) => `${x.aNic}-${x.bNic}`)).toEqual(['eth1-eth1', 'eth1-eth2', 'eth2-eth1', 'eth2-eth2']);
    expect(argvs([...t[2]!.setup, t[2]!.probe, ...t[2]!.cleanup])).toEqual([
      'A: ip -4 neigh flush dev eth2',
      'A: ip addr add 10.99.0.1/30 dev eth2',
      'B: ip addr add 10.99.0.2/30 dev eth1',
      'A: ping -n -c 2 -i 0.2 -W 1 -I eth2 10.99.0.2',
      'A: ip addr del 10.99.0.1/30 dev eth2',
      'B: ip addr del 10.99.0.2/30 dev eth1',
    ]);
    expect(tolerated(t[0]!.cleanup[0]!, 'Error: ipv4: Address not found.')).toBe(true);
  });

  it('the pair whose ping came back is the cable', () => {
    const h = hosts('probe');
    const ok = fx('ping-rtt.txt');
    const lost = fx('ping-rtt-peer-down.txt');
    const results = [
      { aNic: 'eth2', bNic: 'eth1', ping: ok },
      { aNic: 'eth2', bNic: 'eth2', ping: lost },
      { aNic: 'eth1', bNic: 'eth1', ping: lost },
      { aNic: 'eth1', bNic: 'eth2', ping: lost },
    ];
    expect(matchPairTrials(h.A, h.B, results).match).toEqual({
      aNic: 'eth2',
      bNic: 'eth1',
      aMac: '02:11:00:00:00:02',
      bMac: '02:12:00:00:00:01',
      evidence: ['ipv4'],
    });
    expect(() =>
      matchPairTrials(
        h.A,
        h.B,
        results.map((r) => ({ ...r, ping: lost })),
      ),
    ).toThrow(expect.objectContaining({ code: 'link-cable-not-found' }));
  });
});
