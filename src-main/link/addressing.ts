/**
 * Pure: the link's /30, the refusal of a subnet that overlaps a route on either host,
 * the MTU decision, and the exact `ip` commands that apply the addressing and undo it.
 */
import { installFixAnyDistro } from '../hosts/distro.js';
import { LockstepError } from '../contract/index.js';
import type { NicPriorState } from './cable-probe.js';
import { ipv6Restore } from './cable-probe.js';
import { NO_DEVICE, cmd, type Argv, type HostCommand, type Side } from '../hosts/command.js';
import { cidrContains, cidrsOverlap, formatCidr, intToIp, maskOf, parseCidr, type Cidr } from '../net/ipv4.js';
import type { IpAddr, IpLink, IpRoute } from './nic-candidates.js';
import { normalizeMac } from './nic-candidates.js';

export const DEFAULT_LINK_CIDR = '10.99.0.0/30';

export interface LinkSubnet {
  /** 10.99.0.0/30 */
  cidr: string;
  prefixlen: number;
  /** host A's address (first usable), 10.99.0.1 */
  a: string;
  /** host B's address (second usable), 10.99.0.2 */
  b: string;
  broadcast: string;
  /** set when the subnet is outside the private/benchmark ranges */
  warning?: string;
}

const RESERVED: [string, string][] = [
  ['0.0.0.0/8', 'is "this network"'],
  ['127.0.0.0/8', 'is loopback'],
  ['169.254.0.0/16', 'is IPv4 link-local (zeroconf)'],
  ['224.0.0.0/4', 'is multicast'],
  ['240.0.0.0/4', 'is reserved'],
];
const PRIVATE = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '198.18.0.0/15'];

function badSubnet(input: string, why: string, fix: string): LockstepError {
  return new LockstepError({ code: 'link-bad-subnet', message: `The link subnet ${JSON.stringify(input)} ${why}.`, fix, step: 'link-address' });
}

/** Pure: a user's subnet (default 10.99.0.0/30; a bare network means /30) → the two addresses. */
export function planSubnet(input: string = DEFAULT_LINK_CIDR): LinkSubnet {
  const text = input.trim();
  const c = parseCidr(text.includes('/') ? text : `${text}/30`);
  if (!c) throw badSubnet(input, 'is not an IPv4 network', `Write it as a.b.c.d/30, e.g. ${DEFAULT_LINK_CIDR}.`);
  if (c.prefixlen !== 30) throw badSubnet(input, `is a /${c.prefixlen}; the link is a /30 (two addresses)`, `Use ${intToIp(c.network & maskOf(30))}/30.`);
  if (c.address !== c.network)
    throw badSubnet(input, 'is not the start of a /30', `Use ${formatCidr(c)} (host ${intToIp(c.network + 1)} ⇄ ${intToIp(c.network + 2)}).`);
  for (const [r, why] of RESERVED) {
    if (cidrsOverlap(c, parseCidr(r)!)) throw badSubnet(input, why, `Use a private /30 such as ${DEFAULT_LINK_CIDR}.`);
  }
  const out: LinkSubnet = { cidr: formatCidr(c), prefixlen: 30, a: intToIp(c.network + 1), b: intToIp(c.network + 2), broadcast: intToIp(c.network + 3) };
  if (!PRIVATE.some((p) => cidrsOverlap(c, parseCidr(p)!)))
    out.warning = `${out.cidr} is public address space: hosts in it on the Internet become unreachable from both hosts.`;
  return out;
}

// ── overlap with the routes of either host ──────────────────────────────────────────────

export interface RouteConflict {
  side: Side;
  /** the route as `ip route` shows it, e.g. `10.99.0.0/24 dev br0` */
  route: string;
}

function v4Route(r: IpRoute): Cidr | null {
  if (r.dst.includes(':') || r.dst === 'default' || r.type === 'multicast') return null;
  const c = parseCidr(r.dst);
  return c && c.prefixlen > 0 ? c : null;
}

/**
 * Pure: every route on either host that overlaps the subnet. The default route does not count,
 * nor do routes of the link itself on its own NIC (a rerun of `link setup` is not a conflict).
 */
export function subnetConflicts(
  subnet: LinkSubnet,
  routes: { A: readonly IpRoute[]; B: readonly IpRoute[] },
  linkNics: Partial<Record<Side, string>> = {},
): RouteConflict[] {
  const net = parseCidr(subnet.cidr)!;
  const out: RouteConflict[] = [];
  for (const side of ['A', 'B'] as const) {
    for (const r of routes[side]) {
      const c = v4Route(r);
      if (!c || !cidrsOverlap(c, net)) continue;
      if (linkNics[side] !== undefined && r.dev === linkNics[side] && cidrContains(net, c.network)) continue;
      out.push({
        side,
        route: `${r.type && r.type !== 'unicast' ? `${r.type} ` : ''}${r.dst}${r.dev ? ` dev ${r.dev}` : ''}${r.table && r.table !== 'main' ? ` table ${r.table}` : ''}`,
      });
    }
  }
  return out;
}

/** Pure: the first /30 overlapping no route on either host: after `from` in its /24, then in 10.99.0.0/16, then a few spare ranges. */
export function suggestFreeSubnet(routes: { A: readonly IpRoute[]; B: readonly IpRoute[] }, from: string = DEFAULT_LINK_CIDR): string | null {
  const used = [...routes.A, ...routes.B].map(v4Route).filter((c): c is Cidr => c !== null);
  const start = parseCidr(from) ?? parseCidr(DEFAULT_LINK_CIDR)!;
  const range = (cidr: string): [number, number] => {
    const c = parseCidr(cidr)!;
    return [c.network, c.network + 2 ** (32 - c.prefixlen)];
  };
  const ranges: [number, number][] = [
    [(start.network & maskOf(30)) >>> 0, ((start.network & maskOf(24)) >>> 0) + 256],
    range('10.99.0.0/16'),
    range('172.31.255.0/24'),
    range('192.168.255.0/24'),
  ];
  for (const [lo, hi] of ranges) {
    for (let n = lo; n < hi; n += 4) {
      const c: Cidr = { network: n, prefixlen: 30 };
      if (!used.some((u) => cidrsOverlap(u, c))) return formatCidr(c);
    }
  }
  return null;
}

/** Pure: throws `link-subnet-overlap` (naming the routes and a free /30) unless the subnet is free on both hosts. */
export function assertSubnetFree(
  subnet: LinkSubnet,
  routes: { A: readonly IpRoute[]; B: readonly IpRoute[] },
  opts: { linkNics?: Partial<Record<Side, string>>; names?: Record<Side, string> } = {},
): void {
  const conflicts = subnetConflicts(subnet, routes, opts.linkNics);
  if (conflicts.length === 0) return;
  const names = opts.names ?? { A: 'host A', B: 'host B' };
  const free = suggestFreeSubnet(routes, subnet.cidr);
  throw new LockstepError({
    code: 'link-subnet-overlap',
    message: `The link subnet ${subnet.cidr} overlaps ${conflicts.map((c) => `${c.route} on ${names[c.side]}`).join(', ')}.`,
    cause: conflicts.map((c) => `${names[c.side]}: ${c.route}`).join('; '),
    fix: free
      ? `Use a free /30 such as ${free} (the Link page's subnet field, or \`lockstep link setup --subnet ${free}\`).`
      : 'Choose a /30 that no route on either host covers.',
    step: 'link-address',
  });
}

// ── MTU ─────────────────────────────────────────────────────────────────────────────────

export const JUMBO_MTU = 9000;
export const STANDARD_MTU = 1500;

/** Pure: may the link try 9000? Both NICs must accept it (`max_mtu` of `ip -j -d link`). */
export function jumboEligible(a: { name: string; maxMtu: number | null }, b: { name: string; maxMtu: number | null }): { eligible: boolean; why: string } {
  const small = [a, b].filter((n) => n.maxMtu === null || n.maxMtu < JUMBO_MTU);
  if (small.length === 0) return { eligible: true, why: `both NICs accept ${JUMBO_MTU} (max ${a.maxMtu} / ${b.maxMtu})` };
  return {
    eligible: false,
    why: small.map((n) => (n.maxMtu === null ? `${n.name} does not report its largest MTU` : `${n.name} accepts at most ${n.maxMtu}`)).join('; '),
  };
}

/** A full-size frame that must not be fragmented: 9000 − 20 (IPv4) − 8 (ICMP) = 8972 bytes of payload. */
export function dfProbeArgv(peer: string, mtu: number = JUMBO_MTU): Argv {
  return ['ping', '-n', '-M', 'do', '-s', String(mtu - 28), '-c', '2', '-W', '1', peer];
}

export interface DfProbeResult {
  ok: boolean;
  transmitted: number;
  received: number;
  /** the first error line ping printed (`local error: message too long, mtu=1500`, `sendmsg: No buffer space available`) */
  error?: string;
  /** this ping cannot send don't-fragment probes at all (busybox's has no `-M`): no MTU can be proven with it */
  unsupported?: true;
}

/** Pure: `ping -M do` output → did a full-size frame come back, with no local error? */
export function parseDfProbe(text: string): DfProbeResult {
  const m = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(text);
  const transmitted = m ? Number(m[1]) : 0;
  const received = m ? Number(m[2]) : 0;
  const err = /^ping: (.+)$/m.exec(text)?.[1]?.trim();
  // one full-size frame back proves the path takes it; a lost one is loss, not the MTU
  const r: DfProbeResult = { ok: received > 0 && !err, transmitted, received };
  if (err) r.error = err;
  if (!m && /invalid option|unrecognized option|unknown option|BusyBox|^Usage:/im.test(text)) r.unsupported = true;
  return r;
}

/**
 * Pure: the fix when a don't-fragment probe at `tried` bytes failed: never the MTU that just failed.
 * A ping without `-M do` needs another ping, not another MTU.
 */
export function mtuFailureFix(tried: number, probe: DfProbeResult, host = 'host A'): string {
  if (probe.unsupported)
    return `Install iputils' ping (it sends don't-fragment probes: ping -M do) on ${host}: ${installFixAnyDistro(['ping'])}; then run \`lockstep link setup\` again`;
  if (tried > STANDARD_MTU) return 'lockstep link setup … --mtu 1500 (or --mtu auto)';
  return `Even ${tried}-byte frames do not cross the cable unfragmented: check the cable and both link NICs (\`ip link show\`: both up, MTU ≥ ${tried}) and that no firewall drops ICMP on them; then run \`lockstep link setup\` again`;
}

/** Pure: 9000 when both NICs allow it and the don't-fragment probe went through, else 1500. */
export function decideMtu(eligibility: { eligible: boolean; why: string }, probe: DfProbeResult | null): { mtu: number; why: string } {
  if (!eligibility.eligible) return { mtu: STANDARD_MTU, why: eligibility.why };
  if (!probe) return { mtu: STANDARD_MTU, why: 'the don’t-fragment probe was not run' };
  if (probe.ok) return { mtu: JUMBO_MTU, why: `${eligibility.why}, and ${probe.received}/${probe.transmitted} ${JUMBO_MTU}-byte frames crossed unfragmented` };
  return {
    mtu: STANDARD_MTU,
    why: `${probe.received}/${probe.transmitted} ${JUMBO_MTU}-byte frames crossed${probe.error ? ` (${probe.error})` : ''}: something on the path does not take jumbo frames`,
  };
}

// ── apply and undo ──────────────────────────────────────────────────────────────────────

/** One end of the link as set up, with what it was before: everything `link remove` needs. */
export interface LinkEnd {
  side: Side;
  nic: string;
  mac: string;
  /** 10.99.0.1/30 */
  address: string;
  prior: NicPriorState;
}

export function linkEnds(
  cable: { aNic: string; bNic: string; aMac: string; bMac: string },
  subnet: LinkSubnet,
  priors: Record<Side, NicPriorState>,
): [LinkEnd, LinkEnd] {
  return [
    { side: 'A', nic: cable.aNic, mac: normalizeMac(cable.aMac), address: `${subnet.a}/${subnet.prefixlen}`, prior: priors.A },
    { side: 'B', nic: cable.bNic, mac: normalizeMac(cable.bMac), address: `${subnet.b}/${subnet.prefixlen}`, prior: priors.B },
  ];
}

export function setMtuCommand(end: LinkEnd, mtu: number): HostCommand {
  return cmd(end.side, ['ip', 'link', 'set', 'dev', end.nic, 'mtu', String(mtu)], `MTU ${mtu} on ${end.nic}`);
}

/** Idempotent: `replace` leaves an existing identical address alone. */
export function applyCommands(end: LinkEnd, mtu: number): HostCommand[] {
  return [
    cmd(end.side, ['ip', 'addr', 'replace', end.address, 'dev', end.nic], `address ${end.address} on ${end.nic}`),
    setMtuCommand(end, mtu),
    cmd(end.side, ['ip', 'link', 'set', 'dev', end.nic, 'up'], `${end.nic} up`),
  ];
}

/** Exactly back to the prior state; every step tolerates "already so" (remove can run twice). */
export function undoCommands(end: LinkEnd): HostCommand[] {
  const p = end.prior;
  const out = [
    cmd(
      end.side,
      ['ip', 'addr', 'del', end.address, 'dev', end.nic],
      `remove ${end.address} from ${end.nic}`,
      `Address not found|Cannot assign requested address|${NO_DEVICE}`,
    ),
    cmd(end.side, ['ip', 'link', 'set', 'dev', end.nic, 'mtu', String(p.mtu)], `MTU of ${end.nic} back to ${p.mtu}`, NO_DEVICE),
    ...ipv6Restore(end.side, p),
  ];
  if (!p.up) out.push(cmd(end.side, ['ip', 'link', 'set', 'dev', end.nic, 'down'], `${end.nic} down again, as it was`, NO_DEVICE));
  return out;
}

/**
 * Pure: is this end already as wanted (the NIC with that MAC is up, carries the address,
 * has the MTU)? For the step's probe, so a rerun does nothing. A renamed NIC is found by MAC.
 */
export function endApplied(end: LinkEnd, mtu: number, state: { links: readonly IpLink[]; addrs: readonly IpAddr[] }): boolean {
  const l = state.links.find((x) => normalizeMac(x.address ?? '') === end.mac);
  if (!l || l.ifname !== end.nic || l.mtu !== mtu || !l.flags.includes('UP')) return false;
  const [ip, len] = end.address.split('/');
  return (state.addrs.find((a) => a.ifname === end.nic)?.addr_info ?? []).some((i) => i.family === 'inet' && i.local === ip && String(i.prefixlen) === len);
}
