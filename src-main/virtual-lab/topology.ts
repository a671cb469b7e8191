/**
 * Pure: the virtual lab's layout (names, addresses, MACs) and the exact `ip`
 * commands that build and remove it. No I/O here.
 *
 *   root ns ── {p}dsk ⇄ {p}dskw ─┐
 *   client ns ─ eth0 ⇄ {p}cliw ───┤ public bridge {p}pub (in the wire ns)
 *   hostA ns ── eth0 ⇄ {p}a0 ─────┤      198.18.77.0/24 (benchmark range, never routed)
 *   hostB ns ── eth0 ⇄ {p}b0 ─────┘
 *   hostA ethX ⇄ {p}aX ── crossover bridge {p}xo ── {p}bY ⇄ hostB ethY   (the "cable")
 *   hostA ethZ ⇄ {p}aZ (goes nowhere: the decoy)
 * Which of eth1/eth2 is the crossover differs per host and per lab, so the link
 * setup has to find the cable rather than guess it from names.
 */

/** Default public network: 198.18.0.0/15 is the benchmark range, never routed. */
export const DEFAULT_PUBLIC_NET = '198.18.77';

export function validPublicNet(n: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(n);
  return !!m && m.slice(1).every((o) => Number(o) <= 255) && !n.startsWith('127.') && !n.startsWith('0.');
}

export type NicRole = 'public' | 'crossover' | 'decoy';

export interface LabNic {
  name: string;
  role: NicRole;
  mac: string;
  /** the veth peer (or tap, for kernel hosts) in the wire namespace */
  wirePeer: string;
}

export interface LabHostLayout {
  name: string;
  netns: string;
  address: string;
  nics: LabNic[];
}

export interface LabLayout {
  prefix: string;
  wireNs: string;
  pubBridge: string;
  xoBridge: string;
  clientNs: string;
  clientAddress: string;
  desktopVeth: string;
  desktopAddress: string;
  guestAddress: string;
  publicCidr: string;
  hosts: [LabHostLayout, LabHostLayout];
}

export function validPrefix(p: string): boolean {
  return /^[a-z][a-z0-9]{1,5}$/.test(p);
}

/** A locally administered unicast MAC from 5 random bytes. */
export function macFrom(bytes: Uint8Array): string {
  return ['02', ...Array.from(bytes.slice(0, 5), (b) => b.toString(16).padStart(2, '0'))].join(':');
}

export function planLayout(prefix: string, crossoverSlot: { A: 1 | 2; B: 1 | 2 }, random: (n: number) => Uint8Array, net = DEFAULT_PUBLIC_NET): LabLayout {
  if (!validPrefix(prefix)) throw new Error(`bad lab prefix ${prefix}`);
  if (!validPublicNet(net)) throw new Error(`bad public network ${net}`);
  const host = (letter: 'A' | 'B', octet: number): LabHostLayout => {
    const l = letter.toLowerCase();
    const xo = crossoverSlot[letter];
    const role = (i: number): NicRole => (i === 0 ? 'public' : i === xo ? 'crossover' : 'decoy');
    return {
      name: `host${letter}`,
      netns: `${prefix}-host${letter}`,
      address: `${net}.${octet}`,
      nics: [0, 1, 2].map((i) => ({ name: `eth${i}`, role: role(i), mac: macFrom(random(5)), wirePeer: `${prefix}${l}${i}` })),
    };
  };
  return {
    prefix,
    wireNs: `${prefix}-wire`,
    pubBridge: `${prefix}pub`,
    xoBridge: `${prefix}xo`,
    clientNs: `${prefix}-client`,
    clientAddress: `${net}.100`,
    desktopVeth: `${prefix}dsk`,
    desktopAddress: `${net}.1`,
    guestAddress: `${net}.50`,
    publicCidr: `${net}.0/24`,
    hosts: [host('A', 11), host('B', 12)],
  };
}

type Argv = string[];

/** The wire namespace, both bridges, the desktop's and the client's legs. */
export function wireCommands(l: LabLayout): Argv[] {
  const w = (...a: string[]) => ['ip', '-n', l.wireNs, ...a];
  const c = (...a: string[]) => ['ip', '-n', l.clientNs, ...a];
  return [
    ['ip', 'netns', 'add', l.wireNs],
    w('link', 'set', 'lo', 'up'),
    w('link', 'add', l.pubBridge, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0'),
    w('link', 'add', l.xoBridge, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0'),
    // the crossover bridge is a cable: forward link-local multicast (LLDP-like probes) too
    w('link', 'set', l.xoBridge, 'type', 'bridge', 'group_fwd_mask', '0x4000'),
    w('link', 'set', l.pubBridge, 'up'),
    w('link', 'set', l.xoBridge, 'up'),
    ['ip', 'link', 'add', l.desktopVeth, 'type', 'veth', 'peer', 'name', `${l.desktopVeth}w`, 'netns', l.wireNs],
    w('link', 'set', `${l.desktopVeth}w`, 'master', l.pubBridge, 'up'),
    ['ip', 'addr', 'add', `${l.desktopAddress}/24`, 'dev', l.desktopVeth],
    ['ip', 'link', 'set', l.desktopVeth, 'up'],
    ['ip', 'netns', 'add', l.clientNs],
    c('link', 'set', 'lo', 'up'),
    ['ip', '-n', l.wireNs, 'link', 'add', `${l.prefix}cliw`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', l.clientNs],
    w('link', 'set', `${l.prefix}cliw`, 'master', l.pubBridge, 'up'),
    c('addr', 'add', `${l.clientAddress}/24`, 'dev', 'eth0'),
    c('link', 'set', 'eth0', 'up'),
  ];
}

/** One namespace host: three veth NICs, and br0 over eth0 carrying the host's address (as on a KVM host). */
export function nsHostCommands(l: LabLayout, h: LabHostLayout): Argv[] {
  const n = (...a: string[]) => ['ip', '-n', h.netns, ...a];
  const w = (...a: string[]) => ['ip', '-n', l.wireNs, ...a];
  const out: Argv[] = [['ip', 'netns', 'add', h.netns], n('link', 'set', 'lo', 'up')];
  for (const nic of h.nics) {
    out.push(w('link', 'add', nic.wirePeer, 'type', 'veth', 'peer', 'name', nic.name, 'netns', h.netns));
    out.push(n('link', 'set', nic.name, 'address', nic.mac));
    if (nic.role === 'public') out.push(w('link', 'set', nic.wirePeer, 'master', l.pubBridge, 'up'));
    else if (nic.role === 'crossover') out.push(w('link', 'set', nic.wirePeer, 'master', l.xoBridge, 'up'));
    else out.push(w('link', 'set', nic.wirePeer, 'up'));
    out.push(n('link', 'set', nic.name, 'up'));
  }
  out.push(n('link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0'));
  out.push(n('link', 'set', 'eth0', 'master', 'br0'));
  out.push(n('addr', 'add', `${h.address}/24`, 'dev', 'br0'));
  out.push(n('link', 'set', 'br0', 'up'));
  return out;
}

/** Tap NICs in the wire namespace for a kernel (UML) host. */
export function kernelHostTapCommands(l: LabLayout, h: LabHostLayout): Argv[] {
  const w = (...a: string[]) => ['ip', '-n', l.wireNs, ...a];
  const out: Argv[] = [];
  for (const nic of h.nics) {
    out.push(w('tuntap', 'add', 'dev', nic.wirePeer, 'mode', 'tap'));
    if (nic.role === 'public') out.push(w('link', 'set', nic.wirePeer, 'master', l.pubBridge));
    else if (nic.role === 'crossover') out.push(w('link', 'set', nic.wirePeer, 'master', l.xoBridge));
    out.push(w('link', 'set', nic.wirePeer, 'up'));
  }
  return out;
}

/** Everything the lab made, by name, for teardown and for leftover detection. */
export function ownedNames(prefix: string): { netns: string[]; rootLinks: string[] } {
  return {
    netns: [`${prefix}-wire`, `${prefix}-client`, `${prefix}-hostA`, `${prefix}-hostB`],
    rootLinks: [`${prefix}dsk`],
  };
}
